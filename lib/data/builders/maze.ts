// Maze builder (official dataset/build_maze_dataset.py semantics): square grids of "# SGo",
// tokens PAD 0 then CHARSET order ('#' 1, ' ' 2, 'S' 3, 'G' 4, 'o' 5), vocab 6; with `aug`
// each train maze becomes a group of its 8 dihedral transforms.
import * as path from "path";
import { DatasetError } from "../errors";
import { Rng } from "../random";
import { readPuzzleCsv } from "../csv";
import { ByteRows, SetStats, dihedralTransform, resolveSourceCsv, splitOrder, writeIdentifiers, writeSingleExampleSplit } from "./common";

export const CHARSET = "# SGo";

export interface MazeBuildConfig {
  /** Local folder with train.csv and test.csv (official: a hub repo id). */
  sourceRepo: string;
  outputDir: string;
  subsampleSize?: number;
  aug?: boolean;
  /** Not in the official builder (numpy's unseeded global RNG); used only by --subsample-size. */
  seed?: number;
  verbose?: boolean;
}

/** char code -> token id (0 for anything outside CHARSET, which the reader rejects first). */
const CHAR2ID = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < CHARSET.length; i++) t[CHARSET.charCodeAt(i)] = i + 1;
  return t;
})();

function encodeMaze(s: string, file: string, line: number, field: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    const id = code < 256 ? CHAR2ID[code] : 0;
    if (id === 0) throw new DatasetError(`line ${line}: character ${JSON.stringify(s[i])} is not one of ${JSON.stringify(CHARSET)}`, { file, field });
    out[i] = id;
  }
  return out;
}

function convertSubset(setName: "train" | "test", config: MazeBuildConfig, rng: Rng): SetStats {
  const file = resolveSourceCsv(config.sourceRepo, setName);
  let side = 0;
  let inputs: ByteRows | null = null;
  let labels: ByteRows | null = null;
  for (const row of readPuzzleCsv(file)) {
    if (side === 0) {
      side = Math.floor(Math.sqrt(row.q.length)); // official: int(len(q) ** 0.5)
      if (side * side !== row.q.length || side === 0) throw new DatasetError(`line ${row.line}: maze of ${row.q.length} cells is not square`, { file, field: "q" });
      inputs = new ByteRows(side * side);
      labels = new ByteRows(side * side);
    }
    if (row.q.length !== side * side || row.a.length !== side * side) {
      throw new DatasetError(`line ${row.line}: expected ${side * side} cells in q and a`, { file, field: "q" });
    }
    inputs!.push(encodeMaze(row.q, file, row.line, "q"));
    labels!.push(encodeMaze(row.a, file, row.line, "a"));
  }
  if (!inputs || !labels) throw new DatasetError("no mazes in file", { file });

  const numTransforms = setName === "train" && config.aug ? 8 : 1;
  return writeSingleExampleSplit({
    saveDir: path.join(config.outputDir, setName),
    label: `maze ${setName}`,
    seqLen: side * side,
    vocabSize: CHARSET.length + 1, // PAD + charset
    verbose: config.verbose ?? true,
    order: splitOrder(setName, inputs.length, config.subsampleSize, rng),
    variants: (row) => {
      const input = { rows: side, cols: side, data: inputs!.get(row) };
      const label = { rows: side, cols: side, data: labels!.get(row) };
      return Array.from({ length: numTransforms }, (_, t): [Uint8Array, Uint8Array] => [dihedralTransform(input, t).data, dihedralTransform(label, t).data]);
    },
  });
}

export function buildMazeDataset(config: MazeBuildConfig): Record<"train" | "test", SetStats> {
  const rng = new Rng(config.seed ?? 0);
  const train = convertSubset("train", config, rng);
  const test = convertSubset("test", config, rng);
  writeIdentifiers(config.outputDir, ["<blank>"]);
  return { train, test };
}
