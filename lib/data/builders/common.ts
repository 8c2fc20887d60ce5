// Pieces shared by the ARC, Sudoku and Maze builders: 2-D grids, the 8 dihedral transforms,
// and the writer of one split/set in the official folder layout.
import * as fs from "fs";
import * as path from "path";
import { DatasetError } from "../errors";
import { NpyRowWriter, writeNpy } from "../npy";
import { PuzzleDatasetMetadata, writeMetadata } from "../metadata";
import { progress } from "../progress";
import { Rng } from "../random";

/** A row-major 2-D grid of small non-negative values. */
export interface Grid {
  rows: number;
  cols: number;
  data: Uint8Array;
}

export function makeGrid(rows: number, cols: number, data?: Uint8Array): Grid {
  const d = data ?? new Uint8Array(rows * cols);
  if (d.length !== rows * cols) throw new RangeError(`grid data length ${d.length} is not ${rows}x${cols}`);
  return { rows, cols, data: d };
}

/** Index i of this table is the inverse of dihedral transform i (official DIHEDRAL_INVERSE). */
export const DIHEDRAL_INVERSE = [0, 3, 2, 1, 4, 5, 6, 7] as const;

/**
 * The 8 symmetries of the square, numbered as the official `dihedral_transform`:
 * 0 identity, 1 rot90 (numpy, counter-clockwise), 2 rot180, 3 rot270, 4 fliplr, 5 flipud,
 * 6 transpose, 7 anti-diagonal reflection (fliplr ∘ rot90). Non-square grids swap shape for 1, 3, 6, 7.
 */
export function dihedralTransform(grid: Grid, tid: number): Grid {
  const R = grid.rows;
  const C = grid.cols;
  const a = grid.data;
  const swap = tid === 1 || tid === 3 || tid === 6 || tid === 7;
  const outRows = swap ? C : R;
  const outCols = swap ? R : C;
  const out = new Uint8Array(R * C);
  // For each output cell (i, j), the source cell (r, c) in the input.
  for (let i = 0; i < outRows; i++) {
    for (let j = 0; j < outCols; j++) {
      let r: number;
      let c: number;
      switch (tid) {
        case 1: r = j; c = C - 1 - i; break;
        case 2: r = R - 1 - i; c = C - 1 - j; break;
        case 3: r = R - 1 - j; c = i; break;
        case 4: r = i; c = C - 1 - j; break;
        case 5: r = R - 1 - i; c = j; break;
        case 6: r = j; c = i; break;
        case 7: r = R - 1 - j; c = C - 1 - i; break;
        default: r = i; c = j; // 0 and out-of-range ids are the identity, as in the official code
      }
      out[i * outCols + j] = a[r * C + c];
    }
  }
  return { rows: outRows, cols: outCols, data: out };
}

export function inverseDihedralTransform(grid: Grid, tid: number): Grid {
  return dihedralTransform(grid, DIHEDRAL_INVERSE[tid] ?? 0);
}

export function gridsEqual(a: Grid, b: Grid): boolean {
  if (a.rows !== b.rows || a.cols !== b.cols) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

export const SET_FIELDS = ["inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices"] as const;

export function setFile(dir: string, setName: string, field: (typeof SET_FIELDS)[number]): string {
  return path.join(dir, `${setName}__${field}.npy`);
}

export interface SetStats {
  totalExamples: number;
  totalPuzzles: number;
  totalGroups: number;
}

/**
 * Streams one set (e.g. train/all) to disk in the official layout:
 *   inputs, labels          uint8 [examples, seq_len]
 *   puzzle_identifiers      int32 [puzzles]
 *   puzzle_indices          int32 [puzzles + 1]  (example start of each puzzle, then the total)
 *   group_indices           int32 [groups + 1]   (puzzle start of each group, then the total)
 * Examples go straight to disk; only the small index arrays stay in memory.
 */
export class SetWriter {
  private readonly inputs: NpyRowWriter;
  private readonly labels: NpyRowWriter;
  private readonly puzzleIdentifiers: number[] = [];
  private readonly puzzleIndices: number[] = [0];
  private readonly groupIndices: number[] = [0];
  private examples = 0;
  private closed = false;

  constructor(readonly dir: string, readonly setName: string, readonly seqLen: number) {
    fs.mkdirSync(dir, { recursive: true });
    this.inputs = new NpyRowWriter(setFile(dir, setName, "inputs"), "uint8", [seqLen]);
    this.labels = new NpyRowWriter(setFile(dir, setName, "labels"), "uint8", [seqLen]);
  }

  addExample(input: Uint8Array, label: Uint8Array): void {
    if (input.length !== this.seqLen || label.length !== this.seqLen) {
      throw new DatasetError(`example of length ${input.length}/${label.length}, expected seq_len ${this.seqLen}`, { file: this.dir });
    }
    this.inputs.append(input);
    this.labels.append(label);
    this.examples++;
  }

  /** Closes the puzzle made of the examples added since the previous one. */
  endPuzzle(identifier: number): void {
    this.puzzleIndices.push(this.examples);
    this.puzzleIdentifiers.push(identifier);
  }

  /** Closes the group made of the puzzles ended since the previous one. */
  endGroup(): void {
    this.groupIndices.push(this.puzzleIdentifiers.length);
  }

  close(): SetStats {
    if (!this.closed) {
      this.closed = true;
      this.inputs.close();
      this.labels.close();
      const i32 = (v: number[]) => ({ dtype: "int32" as const, shape: [v.length], data: Int32Array.from(v) });
      writeNpy(setFile(this.dir, this.setName, "puzzle_identifiers"), i32(this.puzzleIdentifiers));
      writeNpy(setFile(this.dir, this.setName, "puzzle_indices"), i32(this.puzzleIndices));
      writeNpy(setFile(this.dir, this.setName, "group_indices"), i32(this.groupIndices));
    }
    return { totalExamples: this.examples, totalPuzzles: this.puzzleIdentifiers.length, totalGroups: this.groupIndices.length - 1 };
  }
}

/** Writes `<splitDir>/dataset.json` for a split whose sets have the given stats. */
export function writeSplitMetadata(
  splitDir: string,
  base: Pick<PuzzleDatasetMetadata, "pad_id" | "ignore_label_id" | "blank_identifier_id" | "vocab_size" | "seq_len" | "num_puzzle_identifiers">,
  sets: Record<string, SetStats>,
  overrides: Partial<Pick<PuzzleDatasetMetadata, "mean_puzzle_examples" | "total_puzzles">> = {},
): PuzzleDatasetMetadata {
  const stats = Object.values(sets);
  const totalExamples = stats.reduce((a, s) => a + s.totalExamples, 0);
  const totalPuzzles = stats.reduce((a, s) => a + s.totalPuzzles, 0);
  const metadata: PuzzleDatasetMetadata = {
    ...base,
    total_groups: stats.reduce((a, s) => a + s.totalGroups, 0),
    mean_puzzle_examples: totalPuzzles > 0 ? totalExamples / totalPuzzles : 0,
    total_puzzles: totalPuzzles,
    sets: Object.keys(sets),
    ...overrides,
  };
  fs.mkdirSync(splitDir, { recursive: true });
  writeMetadata(path.join(splitDir, "dataset.json"), metadata);
  return metadata;
}

/** The source rows a split is built from: all of them, or for train `subsampleSize` drawn at random. */
export function splitOrder(setName: "train" | "test", count: number, subsampleSize: number | undefined, rng: Rng): Int32Array {
  if (setName === "train" && subsampleSize !== undefined && subsampleSize < count) return rng.choiceWithoutReplacement(count, subsampleSize);
  return Int32Array.from({ length: count }, (_, i) => i);
}

/** One Sudoku or Maze split: `<saveDir>/all__*.npy` and its dataset.json. */
export interface SingleExampleSplit {
  saveDir: string;
  /** Progress bar label, e.g. "sudoku train". */
  label: string;
  seqLen: number;
  vocabSize: number;
  verbose: boolean;
  /** Source rows, in the order written (see splitOrder). */
  order: Int32Array;
  /** [input, label] tokens of each variant of a source row: the row itself, then its augmentations. */
  variants: (row: number) => Array<[Uint8Array, Uint8Array]>;
}

/**
 * Writes a split of single-example puzzles as the official Sudoku and Maze builders do: each source
 * row becomes one group of its variants, each variant one puzzle with the blank identifier; the
 * metadata keeps the official mean_puzzle_examples 1 and total_puzzles = groups (not variants).
 */
export function writeSingleExampleSplit(split: SingleExampleSplit): SetStats {
  const writer = new SetWriter(split.saveDir, "all", split.seqLen);
  const bar = progress(split.label, split.order.length, { enabled: split.verbose });
  split.order.forEach((row, k) => {
    for (const [input, label] of split.variants(row)) {
      writer.addExample(input, label);
      writer.endPuzzle(0);
    }
    writer.endGroup();
    bar.tick(k + 1);
  });
  bar.done();
  const stats = writer.close();
  const base = { pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: split.vocabSize, seq_len: split.seqLen, num_puzzle_identifiers: 1 };
  writeSplitMetadata(split.saveDir, base, { all: stats }, { mean_puzzle_examples: 1, total_puzzles: stats.totalGroups });
  return stats;
}

/** identifiers.json: index = puzzle identifier, value = puzzle name ("<blank>" for 0 / unused). */
export function writeIdentifiers(outputDir: string, names: string[]): void {
  fs.mkdirSync(outputDir, { recursive: true });
  fs.writeFileSync(path.join(outputDir, "identifiers.json"), JSON.stringify(names));
}

/**
 * The official Sudoku/Maze builders download `<set>.csv` from a hub repo named by --source-repo;
 * here --source-repo is a local folder holding train.csv and test.csv (e.g. from our generators).
 */
export function resolveSourceCsv(sourceRepo: string, setName: string): string {
  if (!fs.existsSync(sourceRepo) || !fs.statSync(sourceRepo).isDirectory()) {
    throw new DatasetError(
      `--source-repo must be a local folder holding train.csv and test.csv (nothing is downloaded); "${sourceRepo}" is not a folder. ` +
        `Generate one with "trm dataset gen-sudoku" or "trm dataset gen-maze".`,
      { field: "--source-repo" },
    );
  }
  const file = path.join(sourceRepo, `${setName}.csv`);
  if (!fs.existsSync(file)) throw new DatasetError(`missing ${setName}.csv in --source-repo folder`, { file, field: "--source-repo" });
  return file;
}

/** Growable store of equal-length byte rows, so millions of puzzles are not millions of objects. */
export class ByteRows {
  private buf: Uint8Array;
  private count = 0;

  constructor(readonly rowLength: number, initialRows = 1024) {
    this.buf = new Uint8Array(rowLength * initialRows);
  }

  get length(): number {
    return this.count;
  }

  push(row: ArrayLike<number>): void {
    if (row.length !== this.rowLength) throw new RangeError(`row of length ${row.length}, expected ${this.rowLength}`);
    if ((this.count + 1) * this.rowLength > this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf.set(row, this.count * this.rowLength);
    this.count++;
  }

  get(i: number): Uint8Array {
    return this.buf.subarray(i * this.rowLength, (i + 1) * this.rowLength);
  }
}
