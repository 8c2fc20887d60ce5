// Sudoku geometry and a bitmask backtracking solver for sizes 4x4, 6x6 and 9x9 (any n whose box
// is r x c with r*c = n). Used by the generator (uniqueness check) and the builder (shuffles).

export const SUDOKU_SIZES = [4, 6, 9] as const;

/** Box shape [rows, cols]: the most square factorisation with rows <= cols (6 -> 2x3). */
export function boxShape(n: number): [number, number] {
  for (let r = Math.floor(Math.sqrt(n)); r >= 1; r--) if (n % r === 0) return [r, n / r];
  return [1, n];
}

interface Board {
  n: number;
  cells: Uint8Array; // 0 = blank, 1..n digits
  rowMask: Int32Array;
  colMask: Int32Array;
  boxMask: Int32Array;
  boxOf: Int32Array;
}

function makeBoard(cells: ArrayLike<number>, n: number): Board | null {
  const [br, bc] = boxShape(n);
  const b: Board = {
    n, cells: Uint8Array.from(cells), rowMask: new Int32Array(n), colMask: new Int32Array(n), boxMask: new Int32Array(n),
    boxOf: new Int32Array(n * n),
  };
  for (let i = 0; i < n * n; i++) {
    const r = Math.floor(i / n);
    const c = i % n;
    b.boxOf[i] = Math.floor(r / br) * (n / bc) + Math.floor(c / bc);
    const v = b.cells[i];
    if (v === 0) continue;
    const bit = 1 << v;
    if (v > n || b.rowMask[r] & bit || b.colMask[c] & bit || b.boxMask[b.boxOf[i]] & bit) return null; // contradictory givens
    b.rowMask[r] |= bit;
    b.colMask[c] |= bit;
    b.boxMask[b.boxOf[i]] |= bit;
  }
  return b;
}

function popcount(x: number): number {
  let c = 0;
  while (x) { x &= x - 1; c++; }
  return c;
}

export interface SearchResult {
  /** Solutions found, capped at `limit`. */
  count: number;
  /** First solution found (cells 1..n), if any. */
  solution?: Uint8Array;
  /** Dead ends met while searching; a rough difficulty rating. */
  backtracks: number;
}

/**
 * Depth-first search choosing the blank with fewest candidates (MRV); stops after `limit`
 * solutions. `order` randomises candidate order (for generating full grids).
 */
export function searchSudoku(cells: ArrayLike<number>, n: number, limit = 2, order?: (candidates: number[]) => number[]): SearchResult {
  const b = makeBoard(cells, n);
  const result: SearchResult = { count: 0, backtracks: 0 };
  if (!b) return result;
  const full = ((1 << (n + 1)) - 1) & ~1; // bits 1..n
  const rec = (): boolean => {
    let best = -1;
    let bestFree = 0;
    let bestCount = n + 1;
    for (let i = 0; i < n * n; i++) {
      if (b.cells[i] !== 0) continue;
      const free = full & ~(b.rowMask[Math.floor(i / n)] | b.colMask[i % n] | b.boxMask[b.boxOf[i]]);
      const cnt = popcount(free);
      if (cnt < bestCount) { best = i; bestFree = free; bestCount = cnt; if (cnt <= 1) break; }
    }
    if (best < 0) {
      result.count++;
      if (!result.solution) result.solution = Uint8Array.from(b.cells);
      return result.count >= limit;
    }
    if (bestCount === 0) { result.backtracks++; return false; }
    let candidates: number[] = [];
    for (let v = 1; v <= n; v++) if (bestFree & (1 << v)) candidates.push(v);
    if (order) candidates = order(candidates);
    const r = Math.floor(best / n);
    const c = best % n;
    const box = b.boxOf[best];
    for (const v of candidates) {
      const bit = 1 << v;
      b.cells[best] = v; b.rowMask[r] |= bit; b.colMask[c] |= bit; b.boxMask[box] |= bit;
      const stop = rec();
      b.cells[best] = 0; b.rowMask[r] &= ~bit; b.colMask[c] &= ~bit; b.boxMask[box] &= ~bit;
      if (stop) return true;
    }
    return false;
  };
  rec();
  return result;
}

/** Number of solutions, counting no further than `limit` (2 answers "is it unique?"). */
export function countSolutions(cells: ArrayLike<number>, n: number, limit = 2): number {
  return searchSudoku(cells, n, limit).count;
}

/** True when `solution` is a complete valid grid that agrees with every given of `puzzle`. */
export function isValidSolution(puzzle: ArrayLike<number>, solution: ArrayLike<number>, n: number): boolean {
  for (let i = 0; i < n * n; i++) {
    if (solution[i] < 1 || solution[i] > n) return false;
    if (puzzle[i] !== 0 && puzzle[i] !== solution[i]) return false;
  }
  return makeBoard(solution, n) !== null;
}
