// ARC-AGI builder (official dataset/build_arc_dataset.py semantics): 30x30 grids, tokens PAD 0,
// EOS 1, colours 2..11; each puzzle becomes a group of itself plus up to num_aug augments
// (dihedral transform + permutation of colours 1..9), deduplicated by hash; train-split examples
// are translated at random except one per puzzle.
import * as fs from "fs";
import * as path from "path";
import { createHash } from "crypto";
import { DatasetError } from "../errors";
import { Rng } from "../random";
import { progress } from "../progress";
import { Grid, SetStats, SetWriter, dihedralTransform, inverseDihedralTransform, writeIdentifiers, writeSplitMetadata } from "./common";

export const ARCMaxGridSize = 30;
export const ARCAugmentRetriesFactor = 5;
export const PuzzleIdSeparator = "|||";

export interface ArcBuildConfig {
  inputFilePrefix: string;
  outputDir: string;
  subsets: string[];
  testSetName: string;
  testSetName2?: string;
  seed?: number;
  numAug?: number;
  /** First identifier given to a puzzle; > 1 lets several datasets share one id space. */
  puzzleIdentifiersStart?: number;
  /** Progress/diagnostic lines on stderr (default true). */
  verbose?: boolean;
}

export interface ArcBuildSummary {
  totalPuzzles: number;
  numIdentifiers: number;
  splits: Record<string, SetStats>;
  /** Puzzles for which fewer than num_aug distinct augments were found. */
  notFullyAugmented: number;
}

/** One ARC pair as JSON. */
interface ArcJsonExample {
  input: number[][];
  output?: number[][];
}
type ArcJsonPuzzle = Record<string, ArcJsonExample[]>; // "train" and "test" lists

type Example = [Grid, Grid];

/** Validates an ARC JSON grid (2-D, at most 30x30, colours 0..9) into a Grid. */
export function arcGridToGrid(grid: unknown, where?: { file?: string; field?: string }): Grid {
  const bad = (why: string) => new DatasetError(`invalid ARC grid: ${why}`, where);
  if (!Array.isArray(grid) || grid.length === 0 || !Array.isArray(grid[0])) throw bad("not a non-empty 2-D list");
  const rows = grid.length;
  const cols = (grid[0] as unknown[]).length;
  if (rows > ARCMaxGridSize || cols > ARCMaxGridSize || cols === 0) throw bad(`shape ${rows}x${cols} outside 1..${ARCMaxGridSize}`);
  const data = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = grid[r];
    if (!Array.isArray(row) || row.length !== cols) throw bad("ragged rows");
    for (let c = 0; c < cols; c++) {
      const v = row[c];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 9) throw bad(`value ${JSON.stringify(v)} is not a colour 0..9`);
      data[r * cols + c] = v;
    }
  }
  return { rows, cols, data };
}

export function gridToArcJson(grid: Grid): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < grid.rows; r++) out.push(Array.from(grid.data.subarray(r * grid.cols, (r + 1) * grid.cols)));
  return out;
}

/** sha256 over (rows, cols) as single bytes then the uint8 cells, hex (official grid_hash). */
export function gridHash(grid: Grid): string {
  return createHash("sha256").update(Uint8Array.of(grid.rows, grid.cols)).update(grid.data).digest("hex");
}

/** Order-independent hash of all examples of a puzzle across its destinations. */
function puzzleHash(examplesPerDest: Example[][]): string {
  const hashes: string[] = [];
  for (const examples of examplesPerDest) for (const [i, o] of examples) hashes.push(`${gridHash(i)}|${gridHash(o)}`);
  hashes.sort();
  return createHash("sha256").update(hashes.join("|")).digest("hex");
}

/**
 * Draws one augment: a dihedral transform id and a colour mapping that keeps 0 (black) and
 * permutes 1..9. The name records both so the evaluator can invert it:
 *   "<name>|||t<tid>|||<mapping as 10 digits>"
 */
export function aug(name: string, rng: Rng): { name: string; mapGrid: (g: Grid) => Grid } {
  const transId = rng.int(0, 8);
  const perm = rng.permutation(9);
  const mapping = Uint8Array.of(0, ...Array.from(perm, (p) => p + 1));
  const mapGrid = (g: Grid): Grid => dihedralTransform({ rows: g.rows, cols: g.cols, data: g.data.map((v) => mapping[v]) }, transId);
  return { name: `${name}${PuzzleIdSeparator}t${transId}${PuzzleIdSeparator}${mapping.join("")}`, mapGrid };
}

/** Inverse of `aug` from the augmented name alone; plain names map to themselves. */
export function inverseAug(name: string): { name: string; mapGrid: (g: Grid) => Grid } {
  if (!name.includes(PuzzleIdSeparator)) return { name, mapGrid: (g) => g };
  const parts = name.split(PuzzleIdSeparator);
  const transId = Number(parts[parts.length - 2].slice(1)); // drop the "t"
  const perm = parts[parts.length - 1];
  const invPerm = new Uint8Array(10);
  for (let i = 0; i < perm.length; i++) invPerm[Number(perm[i])] = i; // argsort of a permutation
  const mapGrid = (g: Grid): Grid => {
    const t = inverseDihedralTransform(g, transId);
    return { rows: t.rows, cols: t.cols, data: t.data.map((v) => invPerm[v]) };
  };
  return { name: parts[0], mapGrid };
}

/**
 * Places an input/output pair on the 30x30 canvas (official np_grid_to_seq_translational_augment):
 * colours shift by 2, a random top-left offset shared by both grids when translating, then an EOS
 * row under and an EOS column right of each grid (where they fit).
 */
export function gridPairToSeq(inp: Grid, out: Grid, rng: Rng | null): [Uint8Array, Uint8Array] {
  const N = ARCMaxGridSize;
  const padR = rng ? rng.int(0, N - Math.max(inp.rows, out.rows) + 1) : 0;
  const padC = rng ? rng.int(0, N - Math.max(inp.cols, out.cols) + 1) : 0;
  return [inp, out].map((g) => {
    const seq = new Uint8Array(N * N);
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) seq[(padR + r) * N + padC + c] = g.data[r * g.cols + c] + 2;
    }
    const eosRow = padR + g.rows;
    const eosCol = padC + g.cols;
    if (eosRow < N) for (let c = padC; c < eosCol; c++) seq[eosRow * N + c] = 1;
    if (eosCol < N) for (let r = padR; r < eosRow; r++) seq[r * N + eosCol] = 1;
    return seq;
  }) as [Uint8Array, Uint8Array];
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new DatasetError(`cannot read ARC JSON: ${(e as Error).message}`, { file });
  }
}

/** Loads `<prefix>_<subset>_challenges.json`, filling test outputs from the solutions file
 *  (or with [[0]] placeholders when there is none, as the official builder does). */
function loadSubset(prefix: string, subset: string, log: (s: string) => void): Record<string, ArcJsonPuzzle> {
  const challengesFile = `${prefix}_${subset}_challenges.json`;
  if (!fs.existsSync(challengesFile)) {
    throw new DatasetError(`ARC subset "${subset}" not found; expected ${challengesFile}`, { field: "--subsets" });
  }
  const puzzles = readJson(challengesFile) as Record<string, ArcJsonPuzzle>;
  if (typeof puzzles !== "object" || puzzles === null) throw new DatasetError("expected an object of puzzles", { file: challengesFile });
  const solutionsFile = `${prefix}_${subset}_solutions.json`;
  if (fs.existsSync(solutionsFile)) {
    const sols = readJson(solutionsFile) as Record<string, number[][][]>;
    for (const [id, puzzle] of Object.entries(puzzles)) {
      const s = sols[id];
      if (!Array.isArray(s)) throw new DatasetError(`no solutions for puzzle ${id}`, { file: solutionsFile, field: id });
      s.forEach((grid, idx) => {
        if (!puzzle.test?.[idx]) throw new DatasetError(`solution ${idx} has no test input`, { file: solutionsFile, field: id });
        puzzle.test[idx].output = grid;
      });
    }
  } else {
    log(`${subset} solutions not found, filling with dummy`);
    for (const puzzle of Object.values(puzzles)) for (const ex of puzzle.test ?? []) ex.output ??= [[0]];
  }
  return puzzles;
}

export function buildArcDataset(config: ArcBuildConfig): ArcBuildSummary {
  const numAug = config.numAug ?? 1000;
  const verbose = config.verbose ?? true;
  const log = (s: string) => { if (verbose) process.stderr.write(s + "\n"); };
  const testSets = new Set([config.testSetName, config.testSetName2 ?? "your_test_set"]);
  const rng = new Rng(config.seed ?? 42);

  const subsets = config.subsets.map((s) => ({ name: s, puzzles: loadSubset(config.inputFilePrefix, s, log) }));
  const total = subsets.reduce((a, s) => a + Object.keys(s.puzzles).length, 0);

  // Identifiers are handed out in the order puzzles reach the train split (the official order:
  // every puzzle, test-set ones included, has a train-split entry for its train examples).
  const start = config.puzzleIdentifiersStart ?? 1; // 0 is <blank>
  const identifierNames: string[] = Array.from({ length: start }, () => "<blank>");
  const writers = new Map<string, SetWriter>(); // split name -> writer of set "all"
  const writerFor = (split: string) => {
    let w = writers.get(split);
    if (!w) {
      w = new SetWriter(path.join(config.outputDir, split), "all", ARCMaxGridSize * ARCMaxGridSize);
      writers.set(split, w);
    }
    return w;
  };
  writerFor("train"); // fixed split order: train then test
  const testPuzzles: Record<string, ArcJsonPuzzle> = {};
  let notFull = 0;
  let done = 0;
  const bar = progress("arc puzzles", total, { enabled: verbose });

  for (const subset of subsets) {
    const entries = Object.entries(subset.puzzles);
    rng.shuffle(entries);
    const isTest = testSets.has(subset.name);
    for (const [name, puzzle] of entries) {
      const file = `${config.inputFilePrefix}_${subset.name}_challenges.json`;
      // Destination split per example type: train examples always train; test examples go to
      // the test split only for the test set(s).
      const destOf = (type: string) => (type !== "train" && isTest ? "test" : "train");
      const dests = isTest ? ["train", "test"] : ["train"];
      const converted = new Map<string, Example[]>(dests.map((d) => [d, []]));
      for (const [type, examples] of Object.entries(puzzle)) {
        if (!Array.isArray(examples)) throw new DatasetError(`"${type}" is not a list`, { file, field: name });
        for (const ex of examples) {
          converted.get(destOf(type))!.push([
            arcGridToGrid(ex.input, { file, field: `${name}.${type}.input` }),
            arcGridToGrid(ex.output, { file, field: `${name}.${type}.output` }),
          ]);
        }
      }
      if (isTest) testPuzzles[name] = puzzle;

      // Group = the original plus distinct augments.
      const group: { name: string; examples: Map<string, Example[]> }[] = [{ name, examples: converted }];
      if (numAug > 0) {
        const hashes = new Set([puzzleHash([...converted.values()])]);
        for (let trial = 0; trial < ARCAugmentRetriesFactor * numAug && group.length < numAug + 1; trial++) {
          const a = aug(name, rng);
          const augmented = new Map<string, Example[]>();
          for (const [d, examples] of converted) augmented.set(d, examples.map(([i, o]) => [a.mapGrid(i), a.mapGrid(o)] as Example));
          const h = puzzleHash([...augmented.values()]);
          if (!hashes.has(h)) {
            hashes.add(h);
            group.push({ name: a.name, examples: augmented });
          }
        }
        if (group.length < numAug + 1) notFull++;
      }

      const ids = group.map((p) => {
        identifierNames.push(p.name);
        return identifierNames.length - 1;
      });
      for (const dest of dests) {
        const writer = writerFor(dest);
        const translate = dest === "train";
        group.forEach((p, k) => {
          const examples = p.examples.get(dest)!;
          const noAugId = examples.length > 0 ? rng.int(0, examples.length) : -1;
          examples.forEach(([i, o], idx) => {
            const [si, so] = gridPairToSeq(i, o, translate && idx !== noAugId ? rng : null);
            writer.addExample(si, so);
          });
          writer.endPuzzle(ids[k]);
        });
        writer.endGroup();
      }
      bar.tick(++done);
    }
  }
  bar.done();
  if (notFull > 0) log(`${notFull} puzzle(s) got fewer than ${numAug} distinct augments`);
  log(`Total puzzles: ${total}`);
  log(`Total puzzle IDs (including <blank>): ${identifierNames.length}`);

  const splits: Record<string, SetStats> = {};
  for (const [split, writer] of writers) {
    const stats = writer.close();
    splits[split] = stats;
    writeSplitMetadata(path.join(config.outputDir, split), {
      pad_id: 0,
      ignore_label_id: 0,
      blank_identifier_id: 0,
      vocab_size: 10 + 2, // PAD + EOS + colours 0..9
      seq_len: ARCMaxGridSize * ARCMaxGridSize,
      num_puzzle_identifiers: identifierNames.length,
    }, { all: stats });
  }
  writeIdentifiers(config.outputDir, identifierNames);
  fs.writeFileSync(path.join(config.outputDir, "test_puzzles.json"), JSON.stringify(testPuzzles));
  return { totalPuzzles: total, numIdentifiers: identifierNames.length, splits, notFullyAugmented: notFull };
}
