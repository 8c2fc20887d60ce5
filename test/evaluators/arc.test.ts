import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { buildArcDataset, gridPairToSeq, PuzzleIdSeparator } from "../../lib/data/builders/arc";
import { Grid, dihedralTransform } from "../../lib/data/builders/common";
import { DatasetError } from "../../lib/data/errors";
import { readMetadata } from "../../lib/data/metadata";
import { readNpy } from "../../lib/data/npy";
import { ARC, cropGrid } from "../../lib/evaluators/arc";
import { createEvaluator, evaluatorNames } from "../../lib/evaluators/registry";
import { tempDir } from "../data/helpers";

const g = (rows: number[][]): Grid => ({ rows: rows.length, cols: rows[0].length, data: Uint8Array.from(rows.flat()) });
const json = (grid: Grid) => Array.from({ length: grid.rows }, (_, r) => Array.from(grid.data.subarray(r * grid.cols, (r + 1) * grid.cols)));

// Three evaluation puzzles; answers and wrong guesses in the original colour space.
const ANSWER = {
  A: [g([[1, 2, 3], [4, 5, 6]])],
  B: [g([[7, 8], [9, 1]])],
  C: [g([[2, 2, 3]]), g([[5], [6], [7]])],
};
const WRONG = g([[3, 1], [1, 3]]);
const WRONG2 = g([[4, 4, 4], [4, 4, 4]]);

function writeArc(dir: string) {
  const pair = (o: Grid) => ({ input: [[1, 2], [3, 4]], output: json(o) });
  const challenges = {
    A: { train: [pair(g([[5, 6]]))], test: [{ input: [[1, 0], [0, 2]] }] },
    B: { train: [pair(g([[7]]))], test: [{ input: [[3, 0, 0], [0, 4, 0]] }] },
    C: { train: [pair(g([[8, 9]]))], test: [{ input: [[5, 6], [7, 8]] }, { input: [[6], [7], [8]] }] },
  };
  const solutions = { A: ANSWER.A.map(json), B: ANSWER.B.map(json), C: ANSWER.C.map(json) };
  fs.writeFileSync(path.join(dir, "x_evaluation_challenges.json"), JSON.stringify(challenges));
  fs.writeFileSync(path.join(dir, "x_evaluation_solutions.json"), JSON.stringify(solutions));
}

/** The forward augmentation recorded in an identifier name. */
function forward(name: string): (x: Grid) => Grid {
  if (!name.includes(PuzzleIdSeparator)) return (x) => x;
  const [, t, perm] = name.split(PuzzleIdSeparator);
  return (x) => dihedralTransform({ rows: x.rows, cols: x.cols, data: x.data.map((v) => Number(perm[v])) }, Number(t.slice(1)));
}

interface Row { base: string; id: number; input: Uint8Array; pred: Uint8Array; q: number }

/** Predictions per test row: which original-space grid each augment predicts, and its halting logit. */
function predictions(dir: string): Row[] {
  const ids = JSON.parse(fs.readFileSync(path.join(dir, "identifiers.json"), "utf8")) as string[];
  const test = path.join(dir, "test");
  const inputs = readNpy(path.join(test, "all__inputs.npy")).data as Uint8Array;
  const pid = readNpy(path.join(test, "all__puzzle_identifiers.npy")).data as Int32Array;
  const pidx = readNpy(path.join(test, "all__puzzle_indices.npy")).data as Int32Array;
  const augIndex = new Map<string, number>();
  const rows: Row[] = [];
  for (let p = 0; p < pid.length; p++) {
    const name = ids[pid[p]];
    const base = name.split(PuzzleIdSeparator)[0] as keyof typeof ANSWER;
    const k = augIndex.get(base) ?? 0; // 0..3: which member of the group
    augIndex.set(base, k + 1);
    for (let e = pidx[p]; e < pidx[p + 1]; e++) {
      const t = e - pidx[p];
      let guess = ANSWER[base][t];
      let q = 0;
      if (base === "B" && k < 3) guess = WRONG; // B: wrong 3 votes vs right 1 -> pass@1 0, pass@2 1
      // C#2: 2 votes each; the right answer is seen first but the wrong one is more confident.
      if (base === "C" && t === 1 && k < 2) q = -2;
      if (base === "C" && t === 1 && k >= 2) { guess = WRONG2; q = 2; }
      const [pred] = gridPairToSeq(forward(name)(guess), forward(name)(guess), null);
      rows.push({ base, id: pid[p], input: inputs.subarray(e * 900, (e + 1) * 900), pred, q });
    }
  }
  return rows;
}

/** Feeds rows in batches of `bs`, padding the last with blank-identifier rows full of junk. */
function feed(ev: ARC, rows: Row[], bs: number) {
  for (let s = 0; s < rows.length; s += bs) {
    const chunk = rows.slice(s, s + bs);
    const inputs = new Int32Array(bs * 900).fill(5);
    const preds = new Int32Array(bs * 900).fill(5);
    const ids = new Int32Array(bs);
    const q = new Float32Array(bs).fill(100);
    chunk.forEach((r, b) => { inputs.set(r.input, b * 900); preds.set(r.pred, b * 900); ids[b] = r.id; q[b] = r.q; });
    ev.updateBatch(
      { inputs: { shape: [bs, 900], data: inputs }, puzzle_identifiers: { shape: [bs], data: ids } },
      { preds: { shape: [bs, 900], data: preds }, q_halt_logits: { shape: [bs], data: q } },
    );
  }
}

describe("ARC evaluator", () => {
  const dir = tempDir("arc-eval");
  const out = path.join(dir, "data");
  let rows: Row[];
  const make = (o: { passKs?: number[]; aggregatedVoting?: boolean } = {}) =>
    new ARC({ dataPath: out, evalMetadata: readMetadata(path.join(out, "test", "dataset.json")), passKs: o.passKs ?? [1, 2, 5], aggregatedVoting: o.aggregatedVoting });

  before(() => {
    writeArc(dir);
    buildArcDataset({ inputFilePrefix: path.join(dir, "x"), outputDir: out, subsets: ["evaluation"], testSetName: "evaluation", numAug: 3, seed: 1, verbose: false });
    rows = predictions(out);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("crops at EOS, stopping each row at the first non-colour", () => {
    const [seq] = gridPairToSeq(g([[1, 2, 3], [4, 5, 6]]), g([[0]]), null);
    assert.deepEqual(json(cropGrid(seq)), [[1, 2, 3], [4, 5, 6]]);
    const broken = Uint8Array.from(seq);
    broken[30 + 1] = 0; // a PAD in the second row: the widest rectangle is then the first row
    assert.deepEqual(json(cropGrid(broken)), [[1, 2, 3]]);
    assert.deepEqual(cropGrid(new Uint8Array(900)).rows * cropGrid(new Uint8Array(900)).cols, 0);
  });

  it("inverts augments, votes by count then mean q, and reports pass@K", () => {
    assert.equal(rows.length, 16, "4 group members x 4 test inputs");
    const ev = make();
    ev.beginEval();
    feed(ev, rows, 5);
    // A: 1; B: 0 at K=1, 1 at K=2; C: (1 + 0)/2 at K=1, 1 at K=2.
    assert.deepEqual(ev.result(), { "ARC/pass@1": 0.5, "ARC/pass@2": 1, "ARC/pass@5": 1 });
  });

  it("writes submission.json in the ARC Prize format, padding to submission_K", () => {
    const ev = make();
    feed(ev, rows, 7);
    const save = path.join(dir, "save");
    ev.result(save);
    const sub = JSON.parse(fs.readFileSync(path.join(save, "submission.json"), "utf8"));
    assert.deepEqual(Object.keys(sub).sort(), ["A", "B", "C"]);
    assert.deepEqual(sub.A, [{ attempt_1: json(ANSWER.A[0]), attempt_2: json(ANSWER.A[0]) }], "one candidate repeated to K");
    assert.deepEqual(sub.B, [{ attempt_1: json(WRONG), attempt_2: json(ANSWER.B[0]) }]);
    assert.deepEqual(sub.C[1], { attempt_1: json(WRONG2), attempt_2: json(ANSWER.C[1]) });
  });

  it("merging per-rank state gives the single-process result", () => {
    const r0 = make();
    const r1 = make();
    feed(r0, rows.filter((_, i) => i % 2 === 0), 3);
    feed(r1, rows.filter((_, i) => i % 2 === 1), 3);
    r0.mergeState(r1.serializeState());
    assert.deepEqual(r0.result(), { "ARC/pass@1": 0.5, "ARC/pass@2": 1, "ARC/pass@5": 1 });
  });

  it("counts unanswered test inputs as wrong; aggregated_voting=false clears between evals", () => {
    const ev = make({ aggregatedVoting: false });
    feed(ev, rows.filter((r) => r.base === "A"), 4);
    assert.deepEqual(ev.result(), { "ARC/pass@1": 1 / 3, "ARC/pass@2": 1 / 3, "ARC/pass@5": 1 / 3 });
    ev.beginEval();
    assert.deepEqual(ev.result(), { "ARC/pass@1": 0, "ARC/pass@2": 0, "ARC/pass@5": 0 });
  });

  it("is created by name from the registry with YAML-style options", () => {
    const ctx = { dataPath: out, evalMetadata: readMetadata(path.join(out, "test", "dataset.json")) };
    const ev = createEvaluator("arc@ARC", ctx, { pass_Ks: [1, 2], submission_K: 3 });
    assert.ok(ev instanceof ARC);
    assert.deepEqual([...ev.requiredOutputs].sort(), ["inputs", "preds", "puzzle_identifiers", "q_halt_logits"]);
    assert.deepEqual(evaluatorNames().sort(), ["arc@ARC", "exact@ExactAccuracy"]);
    assert.throws(() => createEvaluator("arc@ARk", ctx), (e: unknown) => e instanceof DatasetError && /Did you mean 'arc@ARC'/.test(e.message));
    assert.throws(() => createEvaluator("arc@ARC", ctx, { pass_ks: [1] }), /Did you mean 'pass_Ks'/);
    assert.throws(() => createEvaluator("arc@ARC", ctx, { submission_K: 0 }), /invalid value/);
  });
});
