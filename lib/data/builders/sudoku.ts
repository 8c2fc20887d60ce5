// Sudoku builder (official dataset/build_sudoku_dataset.py semantics) generalised to n x n.
// Token mapping: official 9x9 stores cell value v (0 = blank, 1..9) as v + 1, PAD = 0, vocab 11.
// For n x n we keep the same rule: PAD 0, blank 1, digits 1..n -> 2..n+1, vocab n + 2,
// seq_len n*n; 9x9 output is byte-identical in format to the official one.
import * as path from "path";
import { DatasetError } from "../errors";
import { Rng } from "../random";
import { readPuzzleCsv } from "../csv";
import { boxShape } from "../sudoku_grid";
import { ByteRows, SetStats, resolveSourceCsv, splitOrder, writeIdentifiers, writeSingleExampleSplit } from "./common";

export interface SudokuBuildConfig {
  /** Local folder with train.csv and test.csv (official: a hub repo id). */
  sourceRepo: string;
  outputDir: string;
  subsampleSize?: number;
  minDifficulty?: number;
  numAug?: number;
  /** Not in the official builder (it uses numpy's unseeded global RNG); ours is reproducible. */
  seed?: number;
  verbose?: boolean;
}

/**
 * A random validity-preserving relabelling of an n x n Sudoku: digit permutation (blank kept),
 * optional transpose (only when boxes are square, else it would break the boxes), shuffled bands
 * of box-height rows and rows within each band, shuffled stacks and columns within each stack.
 * Returns the same transform applied to board and solution (cell values 0..n).
 */
export function shuffleSudoku(board: Uint8Array, solution: Uint8Array, n: number, rng: Rng): [Uint8Array, Uint8Array] {
  const [br, bc] = boxShape(n);
  const digitMap = Uint8Array.of(0, ...Array.from(rng.permutation(n), (d) => d + 1));
  const transpose = br === bc && rng.random() < 0.5;
  const rowPerm: number[] = [];
  for (const band of rng.permutation(n / br)) for (const r of rng.permutation(br)) rowPerm.push(band * br + r);
  const colPerm: number[] = [];
  for (const stack of rng.permutation(n / bc)) for (const c of rng.permutation(bc)) colPerm.push(stack * bc + c);
  const apply = (x: Uint8Array): Uint8Array => {
    const out = new Uint8Array(n * n);
    for (let i = 0; i < n * n; i++) {
      const r = rowPerm[Math.floor(i / n)];
      const c = colPerm[i % n];
      out[i] = digitMap[transpose ? x[c * n + r] : x[r * n + c]];
    }
    return out;
  };
  return [apply(board), apply(solution)];
}

/** Parses a CSV cell string ('.' or '0' blank, digits 1..n) into values 0..n. */
function parseCells(s: string, n: number, file: string, line: number, field: string, allowBlank: boolean): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const v = ch === "." ? 0 : ch.charCodeAt(0) - 48;
    if (!(v >= 0 && v <= n) || (v === 0 && !allowBlank)) {
      throw new DatasetError(`line ${line}: character ${JSON.stringify(ch)} is not ${allowBlank ? "a blank or " : ""}a digit 1..${n}`, { file, field });
    }
    out[i] = v;
  }
  return out;
}

function convertSubset(setName: "train" | "test", config: SudokuBuildConfig, rng: Rng): SetStats {
  const file = resolveSourceCsv(config.sourceRepo, setName);
  let n = 0;
  let inputs: ByteRows | null = null;
  let labels: ByteRows | null = null;
  for (const row of readPuzzleCsv(file)) {
    if (config.minDifficulty !== undefined) {
      const rating = Number(row.rating);
      if (!Number.isFinite(rating)) throw new DatasetError(`line ${row.line}: rating ${JSON.stringify(row.rating)} is not a number`, { file, field: "rating" });
      if (rating < config.minDifficulty) continue;
    }
    if (n === 0) {
      n = Math.round(Math.sqrt(row.q.length));
      if (n * n !== row.q.length || n < 1 || n > 9) {
        throw new DatasetError(`line ${row.line}: puzzle of ${row.q.length} cells is not an n x n Sudoku with n <= 9`, { file, field: "q" });
      }
      inputs = new ByteRows(n * n);
      labels = new ByteRows(n * n);
    }
    if (row.q.length !== n * n || row.a.length !== n * n) {
      throw new DatasetError(`line ${row.line}: expected ${n * n} cells in q and a (every puzzle in a file has the same size)`, { file, field: "q" });
    }
    inputs!.push(parseCells(row.q, n, file, row.line, "q", true));
    labels!.push(parseCells(row.a, n, file, row.line, "a", false));
  }
  if (!inputs || !labels) throw new DatasetError("no puzzles left after --min-difficulty filtering", { file });

  const numAug = setName === "train" ? (config.numAug ?? 0) : 0;
  const toTokens = (x: Uint8Array) => x.map((v) => v + 1);
  return writeSingleExampleSplit({
    saveDir: path.join(config.outputDir, setName),
    label: `sudoku ${setName}`,
    seqLen: n * n,
    vocabSize: n + 2, // PAD + blank + digits 1..n
    verbose: config.verbose ?? true,
    order: splitOrder(setName, inputs.length, config.subsampleSize, rng),
    variants: (row) => {
      const [input, label] = [inputs!.get(row), labels!.get(row)];
      const variants: Array<[Uint8Array, Uint8Array]> = [[input, label]];
      for (let a = 1; a <= numAug; a++) variants.push(shuffleSudoku(input, label, n, rng));
      return variants.map(([i, o]): [Uint8Array, Uint8Array] => [toTokens(i), toTokens(o)]);
    },
  });
}

export function buildSudokuDataset(config: SudokuBuildConfig): Record<"train" | "test", SetStats> {
  const rng = new Rng(config.seed ?? 0);
  const train = convertSubset("train", config, rng);
  const test = convertSubset("test", config, rng);
  writeIdentifiers(config.outputDir, ["<blank>"]);
  return { train, test };
}
