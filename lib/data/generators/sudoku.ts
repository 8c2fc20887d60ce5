// Offline Sudoku generator writing the `source,q,a,rating` CSV the Sudoku builder reads.
// q: n*n chars, '.' blank and digits 1..n; a: the solution; rating: dead ends met by our MRV
// solver while proving uniqueness (a rough difficulty, like sudoku-extreme's backtrack count).
// Every puzzle has exactly one solution, checked by the solver. Difficulty knob: --givens.
import * as fs from "fs";
import * as path from "path";
import { DatasetError } from "../errors";
import { Rng } from "../random";
import { progress } from "../progress";
import { writePuzzleCsv } from "../csv";
import { SUDOKU_SIZES, countSolutions, searchSudoku } from "../sudoku_grid";

export interface SudokuGenConfig {
  outputDir: string;
  size?: number; // 4, 6 or 9
  numTrain?: number;
  numTest?: number;
  /** Exact number of givens wanted; default: remove clues until none can go (a minimal puzzle). */
  givens?: number;
  seed?: number;
  verbose?: boolean;
}

export interface SudokuPuzzle {
  q: Uint8Array; // 0 blank, 1..n
  a: Uint8Array;
  rating: number;
}

const MAX_TRIES = 200; // consecutive failed attempts before giving up

/** A uniformly shuffled complete grid: solve the empty board with random candidate order. */
function randomSolution(n: number, rng: Rng): Uint8Array {
  const r = searchSudoku(new Uint8Array(n * n), n, 1, (c) => rng.shuffle(c));
  return r.solution!;
}

/**
 * One puzzle with a unique solution: clues are removed in random order, each removal kept only
 * while the puzzle stays uniquely solvable, until `givens` remain (or none can be removed).
 * Returns null when this solution grid cannot reach `givens`.
 */
export function generateSudokuPuzzle(n: number, rng: Rng, givens?: number): SudokuPuzzle | null {
  const a = randomSolution(n, rng);
  const q = Uint8Array.from(a);
  let count = n * n;
  for (const cell of rng.permutation(n * n)) {
    if (givens !== undefined && count <= givens) break;
    const v = q[cell];
    q[cell] = 0;
    if (countSolutions(q, n, 2) === 1) count--;
    else q[cell] = v;
  }
  if (givens !== undefined && count !== givens) return null;
  const check = searchSudoku(q, n, 2);
  if (check.count !== 1) throw new Error("internal: generated Sudoku is not unique"); // guarded by construction
  return { q, a, rating: check.backtracks };
}

function cellsToString(cells: Uint8Array): string {
  let s = "";
  for (const v of cells) s += v === 0 ? "." : String(v);
  return s;
}

/** Writes `<outputDir>/train.csv` and `test.csv`; puzzles are distinct across both files. */
export function generateSudokuCsv(config: SudokuGenConfig): { train: number; test: number } {
  const n = config.size ?? 9;
  if (!(SUDOKU_SIZES as readonly number[]).includes(n)) {
    throw new DatasetError(`Sudoku size must be one of ${SUDOKU_SIZES.join(", ")} but received ${n}`, { field: "--size" });
  }
  if (config.givens !== undefined && (!Number.isInteger(config.givens) || config.givens < 0 || config.givens > n * n)) {
    throw new DatasetError(`--givens must be an integer in 0..${n * n} but received ${config.givens}`, { field: "--givens" });
  }
  const rng = new Rng(config.seed ?? 0);
  const seen = new Set<string>();
  const source = `trm-gen-sudoku-${n}x${n}`;
  fs.mkdirSync(config.outputDir, { recursive: true });

  const rows = (split: string, count: number) => {
    const bar = progress(`gen-sudoku ${split}`, count, { enabled: config.verbose ?? true });
    const out: { source: string; q: string; a: string; rating: number }[] = [];
    let failures = 0;
    while (out.length < count) {
      const p = generateSudokuPuzzle(n, rng, config.givens);
      const q = p ? cellsToString(p.q) : "";
      if (!p || seen.has(q)) {
        if (++failures > MAX_TRIES) {
          throw new DatasetError(
            `could not make ${count} distinct ${n}x${n} puzzles with ${config.givens ?? "minimal"} givens; try more givens or fewer puzzles`,
            { field: "--givens" },
          );
        }
        continue;
      }
      failures = 0; // give up only after MAX_TRIES failures in a row
      seen.add(q);
      out.push({ source, q, a: cellsToString(p.a), rating: p.rating });
      bar.tick(out.length);
    }
    bar.done();
    return out;
  };
  const train = writePuzzleCsv(path.join(config.outputDir, "train.csv"), rows("train", config.numTrain ?? 1000));
  const test = writePuzzleCsv(path.join(config.outputDir, "test.csv"), rows("test", config.numTest ?? 1000));
  return { train, test };
}
