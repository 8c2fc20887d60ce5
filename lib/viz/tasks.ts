// The three puzzle kinds and how one row of tokens becomes a grid for the page:
// ARC (30x30 canvas, PAD 0, EOS 1, colours 2..11), Sudoku (PAD 0, blank 1, digits 2..n+1),
// Maze (PAD 0, then "# SGo" as 1..5). A grid is what the page draws, nothing more.
import { ARCMaxGridSize } from '../data/builders/arc';
import { CHARSET as MAZE_CHARSET } from '../data/builders/maze';

export type Task = 'arc' | 'sudoku' | 'maze';

/** What the page draws: row-major `cells` (ARC colour 0..9, Sudoku digit 0..n with 0 blank,
 *  Maze character), and the indices of wrong cells when compared with a label. */
export interface VizGrid {
  rows: number;
  cols: number;
  cells: (number | string)[];
  wrong?: number[];
}

const ARC_LEN = ARCMaxGridSize * ARCMaxGridSize;

/**
 * Guesses the task from a dataset's vocabulary and sequence length, and for the one ambiguous
 * case (vocab 6, seq_len 16: a 4x4 Sudoku or a 4x4 maze) from a label row: solved Sudokus have
 * no blanks (token 1), mazes have walls ('#' = token 1).
 */
export function detectTask(seqLen: number, vocabSize: number | null, sampleLabels?: ArrayLike<number>): Task {
  if (seqLen === ARC_LEN && (vocabSize === null || vocabSize === 12)) return 'arc';
  const side = Math.round(Math.sqrt(seqLen));
  const square = side * side === seqLen;
  if (!square) throw new Error(`cannot draw sequences of length ${seqLen}: not a square grid`);
  const hasOne = sampleLabels !== undefined && Array.prototype.some.call(sampleLabels, (v: number) => v === 1);
  if (vocabSize === MAZE_CHARSET.length + 1 && side !== 4) return 'maze';
  if (vocabSize !== null && vocabSize === side + 2 && side !== 4) return 'sudoku';
  // vocab 6 with 4x4, or no vocabulary known (saved predictions): look at the labels.
  return hasOne ? 'maze' : 'sudoku';
}

/** Bounding box of the ARC colour tokens (2..11) on the 30x30 canvas; the train split places
 *  grids at random offsets, so the box is not always at the top left. */
export function arcBox(tokens: ArrayLike<number>, offset = 0): { r0: number; c0: number; rows: number; cols: number } {
  const N = ARCMaxGridSize;
  let r0 = N, c0 = N, r1 = -1, c1 = -1;
  for (let r = 0; r < N; r++) {
    for (let c = 0; c < N; c++) {
      const t = tokens[offset + r * N + c];
      if (t >= 2 && t <= 11) {
        if (r < r0) r0 = r;
        if (r > r1) r1 = r;
        if (c < c0) c0 = c;
        if (c > c1) c1 = c;
      }
    }
  }
  if (r1 < 0) return { r0: 0, c0: 0, rows: 0, cols: 0 };
  return { r0, c0, rows: r1 - r0 + 1, cols: c1 - c0 + 1 };
}

/** One token as the page shows it: ARC colour 0..9 (-1 for a non-colour token), Sudoku digit, Maze char. */
export function tokenCell(task: Task, t: number): number | string {
  switch (task) {
    case 'arc': return t >= 2 && t <= 11 ? t - 2 : -1;
    case 'sudoku': return t >= 1 ? t - 1 : 0;
    case 'maze': return t >= 1 && t <= MAZE_CHARSET.length ? MAZE_CHARSET[t - 1] : '?';
  }
}

/** The grid of one sequence; for ARC only the box given (default: the sequence's own colours). */
export function decodeRow(task: Task, tokens: ArrayLike<number>, offset: number, seqLen: number, box?: ReturnType<typeof arcBox>): VizGrid {
  if (task === 'arc') {
    const b = box ?? arcBox(tokens, offset);
    const cells: number[] = [];
    for (let r = 0; r < b.rows; r++) {
      for (let c = 0; c < b.cols; c++) cells.push(tokenCell('arc', tokens[offset + (b.r0 + r) * ARCMaxGridSize + b.c0 + c]) as number);
    }
    return { rows: b.rows, cols: b.cols, cells };
  }
  const side = Math.round(Math.sqrt(seqLen));
  const cells: (number | string)[] = [];
  for (let i = 0; i < seqLen; i++) cells.push(tokenCell(task, tokens[offset + i]));
  return { rows: side, cols: side, cells };
}

export interface ComparedRow {
  input: VizGrid;
  pred: VizGrid;
  label: VizGrid;
  /** Label tokens (not PAD, not ignored) the prediction got wrong, drawn or not. */
  wrongTokens: number;
  correct: boolean;
}

/**
 * Input, prediction and label of one evaluated sequence. A label token counts when it is not PAD
 * (0) and not the loss's ignore value (negative), as the exact-accuracy metric does; the
 * prediction is drawn over the label's box for ARC, with the wrong cells listed.
 */
export function compareRow(task: Task, inputs: ArrayLike<number>, preds: ArrayLike<number>, labels: ArrayLike<number>, row: number, seqLen: number): ComparedRow {
  const o = row * seqLen;
  let wrongTokens = 0;
  for (let i = 0; i < seqLen; i++) {
    const l = labels[o + i];
    if (l > 0 && preds[o + i] !== l) wrongTokens++;
  }
  const labelBox = task === 'arc' ? arcBox(labels, o) : undefined;
  const input = decodeRow(task, inputs, o, seqLen);
  const label = decodeRow(task, labels, o, seqLen, labelBox);
  const pred = decodeRow(task, preds, o, seqLen, labelBox);
  pred.wrong = [];
  for (let i = 0; i < pred.cells.length; i++) {
    const pos = labelBox ? o + (labelBox.r0 + Math.floor(i / labelBox.cols)) * ARCMaxGridSize + labelBox.c0 + (i % labelBox.cols) : o + i;
    if (labels[pos] > 0 && preds[pos] !== labels[pos]) pred.wrong.push(i);
  }
  return { input, pred, label, wrongTokens, correct: wrongTokens === 0 };
}

/** Marks the cells of `attempt` that differ from `label` (every cell when the shapes differ). */
export function compareGrids(attempt: VizGrid, label: VizGrid): VizGrid {
  const sameShape = attempt.rows === label.rows && attempt.cols === label.cols;
  const wrong: number[] = [];
  for (let i = 0; i < attempt.cells.length; i++) if (!sameShape || attempt.cells[i] !== label.cells[i]) wrong.push(i);
  return { ...attempt, wrong };
}

/** An ARC JSON grid (list of rows of colours 0..9) as a VizGrid; throws on anything else. */
export function arcJsonGrid(value: unknown, where: string): VizGrid {
  if (!Array.isArray(value) || value.length === 0 || !value.every((r) => Array.isArray(r))) {
    throw new Error(`${where}: expected a grid (a list of rows) but received ${JSON.stringify(value)?.slice(0, 60)}`);
  }
  const rows = value as unknown[][];
  const cols = rows[0].length;
  const cells: number[] = [];
  for (const r of rows) {
    if (r.length !== cols) throw new Error(`${where}: rows of different lengths (${cols} and ${r.length})`);
    for (const v of r) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 9) throw new Error(`${where}: ${JSON.stringify(v)} is not a colour 0..9`);
      cells.push(v);
    }
  }
  return { rows: rows.length, cols, cells };
}
