import { strict as assert } from "assert";
import { IGNORE_LABEL_ID } from "../../lib/data/sampling";
import { ExactAccuracy } from "../../lib/evaluators/exact";
import { createEvaluator } from "../../lib/evaluators/registry";

const I = IGNORE_LABEL_ID;

describe("exact-accuracy evaluator", () => {
  const labels = { shape: [4, 3], data: Int32Array.from([1, 2, I, /**/ 3, 3, 3, /**/ I, I, I, /**/ 4, 5, 6]) };
  const preds = { shape: [4, 3], data: Int32Array.from([1, 2, 9, /**/ 3, 0, 3, /**/ 7, 7, 7, /**/ 4, 5, 6]) };

  it("scores a sequence only when every labelled position is right, skipping padding rows", () => {
    const ev = new ExactAccuracy("Sudoku");
    ev.beginEval();
    ev.updateBatch({ labels }, { preds });
    const r = ev.result();
    assert.equal(r["Sudoku/exact_accuracy"], 2 / 3);
    assert.equal(r["Sudoku/token_accuracy"], 7 / 8);
    assert.equal(r["Sudoku/count"], 3);
  });

  it("merges rank states and rejects mismatched shapes", () => {
    const a = createEvaluator("exact@ExactAccuracy", { dataPath: "", evalMetadata: undefined as never }, { prefix: "Maze" });
    const b = new ExactAccuracy("Maze");
    a.updateBatch({ labels }, { preds });
    b.updateBatch({ labels }, { preds: { shape: [4, 3], data: labels.data } });
    a.mergeState(b.serializeState());
    assert.equal(a.result()!["Maze/exact_accuracy"], 5 / 6);
    assert.throws(() => b.updateBatch({ labels }, { preds: { shape: [2, 3], data: new Int32Array(6) } }), /does not match/);
  });
});
