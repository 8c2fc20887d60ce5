// ARC evaluator (official evaluators/arc.py): crop each predicted 30x30 grid at EOS, undo the
// puzzle's augmentation, vote across augments per test input by count then mean halting
// confidence sigmoid(q_halt_logits), report pass@K and write submission.json (ARC Prize format).
import * as fs from "fs";
import * as path from "path";
import { DatasetError } from "../data/errors";
import { PuzzleDatasetMetadata } from "../data/metadata";
import { Grid } from "../data/builders/common";
import { ARCMaxGridSize, arcGridToGrid, gridHash, gridToArcJson, inverseAug } from "../data/builders/arc";
import { Evaluator, TensorMap, pick } from "./types";

export interface ArcEvaluatorOptions {
  dataPath: string;
  evalMetadata: Pick<PuzzleDatasetMetadata, "blank_identifier_id">;
  submissionK?: number;
  passKs?: number[];
  /** Keep predictions across evaluations (official aggregated_voting, default true). */
  aggregatedVoting?: boolean;
}

interface ArcTestPuzzle {
  test: { input: number[][]; output: number[][] }[];
}

/** JSON-able per-rank state: pred hash -> grid; puzzle -> input hash -> [pred hash, q][]. */
export interface ArcState {
  hmap: Record<string, number[][]>;
  preds: Record<string, Record<string, [string, number][]>>;
}

/**
 * Largest top-left rectangle of colour tokens (2..11) in a 30x30 token grid, as colours 0..9
 * (official `_crop`): the width shrinks to the first non-colour in each successive row.
 */
export function cropGrid(tokens: ArrayLike<number>, offset = 0): Grid {
  const N = ARCMaxGridSize;
  let maxArea = 0;
  let best: [number, number] = [0, 0];
  let numC = N;
  for (let numR = 1; numR <= N; numR++) {
    for (let c = 1; c <= numC; c++) {
      const x = tokens[offset + (numR - 1) * N + (c - 1)];
      if (x < 2 || x > 11) { numC = c - 1; break; }
    }
    const area = numR * numC;
    if (area > maxArea) { maxArea = area; best = [numR, numC]; }
  }
  const [rows, cols] = best;
  const data = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = tokens[offset + r * N + c] - 2;
  return { rows, cols, data };
}

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new DatasetError(`ARC evaluator cannot read ${path.basename(file)}: ${(e as Error).message}`, { file });
  }
}

export class ARC implements Evaluator {
  readonly requiredOutputs: ReadonlySet<string> = new Set(["inputs", "puzzle_identifiers", "q_halt_logits", "preds"]);
  readonly passKs: number[];
  readonly submissionK: number;
  readonly aggregatedVoting: boolean;
  private readonly blankIdentifierId: number;
  private readonly identifierMap: string[];
  private readonly testPuzzles: Record<string, ArcTestPuzzle>;
  private state: ArcState = { hmap: {}, preds: {} };

  constructor(options: ArcEvaluatorOptions) {
    this.passKs = options.passKs ?? [1, 2, 5, 10, 100, 1000];
    this.submissionK = options.submissionK ?? 2;
    this.aggregatedVoting = options.aggregatedVoting ?? true;
    this.blankIdentifierId = options.evalMetadata.blank_identifier_id;
    this.identifierMap = readJsonFile(path.join(options.dataPath, "identifiers.json")) as string[];
    this.testPuzzles = readJsonFile(path.join(options.dataPath, "test_puzzles.json")) as Record<string, ArcTestPuzzle>;
  }

  beginEval(): void {
    if (!this.aggregatedVoting) this.state = { hmap: {}, preds: {} };
  }

  updateBatch(batch: TensorMap, preds: TensorMap): void {
    const ids = pick(batch, preds, "puzzle_identifiers");
    const inputs = pick(batch, preds, "inputs");
    const predTokens = pick(batch, preds, "preds");
    const qLogits = pick(batch, preds, "q_halt_logits");
    const B = ids.shape[0];
    const L = ARCMaxGridSize * ARCMaxGridSize;
    for (let b = 0; b < B; b++) {
      const id = ids.data[b];
      if (id === this.blankIdentifierId) continue; // padding rows
      const name = this.identifierMap[id];
      if (name === undefined) throw new DatasetError(`puzzle identifier ${id} is not in identifiers.json`);
      const inv = inverseAug(name);
      const inputHash = gridHash(inv.mapGrid(cropGrid(inputs.data, b * L)));
      const pred = inv.mapGrid(cropGrid(predTokens.data, b * L));
      const predHash = gridHash(pred);
      const q = 1 / (1 + Math.exp(-qLogits.data[b])); // sigmoid in float64

      this.state.hmap[predHash] = gridToArcJson(pred);
      const byInput = (this.state.preds[inv.name] ??= {});
      (byInput[inputHash] ??= []).push([predHash, q]);
    }
  }

  serializeState(): string {
    return JSON.stringify(this.state);
  }

  mergeState(serialized: string): void {
    const other = JSON.parse(serialized) as ArcState;
    Object.assign(this.state.hmap, other.hmap);
    for (const [name, byInput] of Object.entries(other.preds)) {
      const mine = (this.state.preds[name] ??= {});
      for (const [h, list] of Object.entries(byInput)) (mine[h] ??= []).push(...list);
    }
  }

  result(savePath?: string): Record<string, number> {
    const submission: Record<string, Record<string, number[][]>[]> = {};
    const correct = this.passKs.map(() => 0);
    const names = Object.keys(this.testPuzzles);
    for (const name of names) {
      const puzzle = this.testPuzzles[name];
      submission[name] = [];
      const numTestCorrect = this.passKs.map(() => 0);
      for (const pair of puzzle.test) {
        const inputHash = gridHash(arcGridToGrid(pair.input));
        const labelHash = gridHash(arcGridToGrid(pair.output));
        // Vote: count per distinct prediction, then mean confidence; stable sort keeps first-seen order on ties.
        const votes = new Map<string, [number, number]>();
        for (const [h, q] of this.state.preds[name]?.[inputHash] ?? []) {
          const s = votes.get(h) ?? [0, 0];
          s[0] += 1;
          s[1] += q;
          votes.set(h, s);
        }
        if (votes.size === 0) continue; // no prediction for this test input: counts as wrong
        const ranked = [...votes.entries()]
          .map(([h, [count, sum]]) => ({ h, count, mean: sum / count }))
          .sort((a, b) => b.count - a.count || b.mean - a.mean);
        this.passKs.forEach((k, i) => {
          if (ranked.slice(0, k).some((r) => r.h === labelHash)) numTestCorrect[i]++;
        });
        const attempts = ranked.slice(0, this.submissionK).map((r) => this.state.hmap[r.h]);
        while (attempts.length < this.submissionK) attempts.push(attempts[0]);
        submission[name].push(Object.fromEntries(attempts.map((g, i) => [`attempt_${i + 1}`, g])));
      }
      this.passKs.forEach((_, i) => { correct[i] += numTestCorrect[i] / puzzle.test.length; });
    }
    if (savePath !== undefined) {
      fs.mkdirSync(savePath, { recursive: true });
      fs.writeFileSync(path.join(savePath, "submission.json"), JSON.stringify(submission));
    }
    return Object.fromEntries(this.passKs.map((k, i) => [`ARC/pass@${k}`, names.length > 0 ? correct[i] / names.length : 0]));
  }
}
