import { strict as assert } from "assert";
import * as path from "path";
import { SetWriter, writeSplitMetadata } from "../../lib/data/builders/common";
import { DatasetError } from "../../lib/data/errors";
import { PuzzleDatasetMetadata } from "../../lib/data/metadata";
import {
  BatchItem, IGNORE_LABEL_ID, PuzzleSetArrays, SamplingConfig, iterTest, iterTrain, loadMergedMetadata, loadPuzzleSets, mergeMetadata,
} from "../../lib/data/sampling";
import { tempDir } from "./helpers";

const L = 3; // seq_len

/** A set from puzzle sizes per group; example e has inputs [e+1, e+1, e+1] and labels [e+1, 0, e+1]. */
function makeSet(groups: number[][], idBase = 1): PuzzleSetArrays {
  const puzzleIndices = [0];
  const groupIndices = [0];
  const ids: number[] = [];
  for (const g of groups) {
    for (const size of g) {
      puzzleIndices.push(puzzleIndices[puzzleIndices.length - 1] + size);
      ids.push(idBase + ids.length);
    }
    groupIndices.push(ids.length);
  }
  const n = puzzleIndices[puzzleIndices.length - 1];
  const inputs = new Uint8Array(n * L);
  const labels = new Uint8Array(n * L);
  for (let e = 0; e < n; e++) {
    inputs.fill(e + 1, e * L, (e + 1) * L);
    labels.set([e + 1, 0, e + 1], e * L);
  }
  return {
    inputs: { shape: [n, L], data: inputs },
    labels: { shape: [n, L], data: labels },
    puzzle_identifiers: Int32Array.from(ids),
    puzzle_indices: Int32Array.from(puzzleIndices),
    group_indices: Int32Array.from(groupIndices),
  };
}

const META: PuzzleDatasetMetadata = {
  pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: 40, seq_len: L, num_puzzle_identifiers: 20,
  total_groups: 0, mean_puzzle_examples: 1, total_puzzles: 0, sets: ["all"],
};

const cfg = (over: Partial<SamplingConfig> = {}): SamplingConfig => ({
  seed: 3, globalBatchSize: 4, testSetMode: false, epochsPerIter: 1, rank: 0, numReplicas: 1, ...over,
});

/** Example index of each row (inputs hold e+1; 0 is padding). */
const rowsOf = (item: BatchItem) => Array.from({ length: item.batch.puzzle_identifiers.length }, (_, b) => item.batch.inputs[b * L] - 1);

describe("sampling (PuzzleDataset index logic)", () => {
  describe("train mode", () => {
    it("packs one random puzzle per group, each group at most once per epoch, and drops the last partial batch", () => {
      // 10 single-example groups, batch 4: two full batches, the 2 left over are dropped.
      const set = makeSet(Array.from({ length: 10 }, () => [1]));
      const items = [...iterTrain(new Map([["all", set]]), META, cfg(), { iters: 0 })];
      assert.equal(items.length, 2);
      const seen = items.flatMap(rowsOf);
      assert.equal(new Set(seen).size, 8, "no group twice in an epoch");
      for (const it of items) assert.equal(it.effectiveBatchSize, 4);
    });

    it("keeps a puzzle's examples together, from one puzzle of the group, with matching identifiers", () => {
      const groups = [[2, 3], [1], [4], [2, 2], [5], [3], [1, 1, 1]];
      const set = makeSet([...groups, ...groups, ...groups]);
      const pidx = set.puzzle_indices as Int32Array;
      const gidx = set.group_indices as Int32Array;
      const items = [...iterTrain(new Map([["all", set]]), META, cfg({ globalBatchSize: 6 }), { iters: 0 })];
      assert.ok(items.length >= 3);
      const puzzlesOfGroup = new Map<number, Set<number>>();
      for (const it of items) {
        const rows = rowsOf(it);
        assert.equal(rows.length, 6);
        rows.forEach((e, b) => {
          let p = 0;
          while (pidx[p + 1] <= e) p++;
          let g = 0;
          while (gidx[g + 1] <= p) g++;
          puzzlesOfGroup.set(g, (puzzlesOfGroup.get(g) ?? new Set()).add(p));
          assert.equal(it.batch.puzzle_identifiers[b], 1 + p, "identifier is the example's puzzle");
          assert.deepEqual(Array.from(it.batch.labels.subarray(b * L, (b + 1) * L)), [e + 1, IGNORE_LABEL_ID, e + 1], "ignore_label_id -> -100");
        });
        assert.equal(new Set(rows).size, rows.length, "examples drawn without replacement");
      }
      for (const ps of puzzlesOfGroup.values()) assert.equal(ps.size, 1, "one puzzle per group per epoch");
    });

    it("concatenates epochs_per_iter shuffled epochs into one pass", () => {
      const set = makeSet(Array.from({ length: 10 }, () => [1]));
      const items = [...iterTrain(new Map([["all", set]]), META, cfg({ epochsPerIter: 2 }), { iters: 0 })];
      assert.equal(items.length, 5); // 20 groups / 4
      const counts = new Map<number, number>();
      for (const e of items.flatMap(rowsOf)) counts.set(e, (counts.get(e) ?? 0) + 1);
      assert.ok([...counts.values()].every((c) => c === 2));
    });

    it("is deterministic by seed and epoch, and epochs differ", () => {
      const sets = new Map([["all", makeSet(Array.from({ length: 40 }, () => [1, 2]))]]);
      const run = (seed: number, iters: number) => [...iterTrain(sets, META, cfg({ seed }), { iters })].flatMap(rowsOf);
      assert.deepEqual(run(3, 0), run(3, 0));
      assert.notDeepEqual(run(3, 0), run(3, 1));
      assert.notDeepEqual(run(3, 0), run(4, 0));
      const state = { iters: 0 };
      [...iterTrain(sets, META, cfg(), state)];
      assert.equal(state.iters, 1, "one pass per set advances the epoch counter");
    });

    it("gives each rank its slice of the same global batch", () => {
      const sets = new Map([["all", makeSet(Array.from({ length: 30 }, (_, i) => [1 + (i % 3)]))]]);
      const whole = [...iterTrain(sets, META, cfg({ globalBatchSize: 8 }), { iters: 0 })];
      const r0 = [...iterTrain(sets, META, cfg({ globalBatchSize: 8, numReplicas: 2, rank: 0 }), { iters: 0 })];
      const r1 = [...iterTrain(sets, META, cfg({ globalBatchSize: 8, numReplicas: 2, rank: 1 }), { iters: 0 })];
      assert.equal(r0.length, whole.length);
      whole.forEach((w, k) => {
        assert.deepEqual([...rowsOf(r0[k]), ...rowsOf(r1[k])], rowsOf(w));
        assert.equal(r0[k].batch.inputs.length, 4 * L);
        assert.equal(r1[k].effectiveBatchSize, 8, "effective size is global");
      });
      assert.throws(() => [...iterTrain(sets, META, cfg({ globalBatchSize: 9, numReplicas: 2 }), { iters: 0 })], DatasetError);
    });
  });

  describe("test mode", () => {
    it("walks every example in order and pads the last batch with pad_id, -100 and the blank identifier", () => {
      const set = makeSet([[2, 0, 3], [1], [4]]); // includes an empty puzzle
      const items = [...iterTest(new Map([["all", set]]), { ...META, pad_id: 7, blank_identifier_id: 9 }, cfg({ testSetMode: true }))];
      assert.deepEqual(items.map((i) => i.effectiveBatchSize), [4, 4, 2]);
      const last = items[2].batch;
      assert.deepEqual(Array.from(last.inputs.subarray(2 * L)), new Array(2 * L).fill(7));
      assert.deepEqual(Array.from(last.labels.subarray(2 * L)), new Array(2 * L).fill(IGNORE_LABEL_ID));
      assert.deepEqual(Array.from(last.puzzle_identifiers), [5, 5, 9, 9]);
      const rows = items.flatMap((i) => rowsOf(i).slice(0, i.effectiveBatchSize));
      assert.deepEqual(rows, Array.from({ length: 10 }, (_, i) => i));
      const ids = items.flatMap((i) => Array.from(i.batch.puzzle_identifiers)).slice(0, 10);
      assert.deepEqual(ids, [1, 1, 3, 3, 3, 4, 5, 5, 5, 5], "empty puzzle 2 is skipped");
    });

    it("splits each global batch across ranks", () => {
      const set = makeSet([[3], [3], [4]]);
      const sets = new Map([["all", set]]);
      const r1 = [...iterTest(sets, META, cfg({ testSetMode: true, globalBatchSize: 8, numReplicas: 2, rank: 1 }))];
      assert.deepEqual(rowsOf(r1[0]), [4, 5, 6, 7]);
      assert.deepEqual(rowsOf(r1[1]), [-1, -1, -1, -1], "rank 1 gets only padding in the short last batch");
      assert.equal(r1[1].effectiveBatchSize, 2);
    });
  });

  describe("several data paths", () => {
    function writeDataset(dir: string, seqLen: number, groups: number) {
      const w = new SetWriter(path.join(dir, "train"), "all", seqLen);
      for (let g = 0; g < groups; g++) {
        w.addExample(new Uint8Array(seqLen).fill(g + 1), new Uint8Array(seqLen).fill(g + 1));
        w.endPuzzle(1);
        w.endGroup();
      }
      writeSplitMetadata(path.join(dir, "train"), {
        pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: 12, seq_len: seqLen, num_puzzle_identifiers: 2,
      }, { all: w.close() });
    }

    it("merges metadata and names the second path's sets with a suffix", () => {
      const a = tempDir("ds");
      const b = tempDir("ds");
      writeDataset(a, 4, 3);
      writeDataset(b, 4, 5);
      const meta = loadMergedMetadata([a, b], "train");
      assert.deepEqual([meta.total_groups, meta.total_puzzles, meta.num_puzzle_identifiers, meta.mean_puzzle_examples], [8, 8, 4, 1]);
      const sets = loadPuzzleSets([a, b], "train", meta);
      assert.deepEqual([...sets.keys()], ["all", "all1"]);
      assert.equal(sets.get("all1")!.inputs.shape[0], 5);
      const items = [...iterTrain(sets, meta, cfg({ globalBatchSize: 2 }), { iters: 0 })];
      assert.deepEqual(items.map((i) => i.setName), ["all", "all1", "all1"]);
    });

    it("rejects datasets that disagree, naming the path and field", () => {
      const a = tempDir("ds");
      const b = tempDir("ds");
      writeDataset(a, 4, 2);
      writeDataset(b, 5, 2);
      assert.throws(() => loadMergedMetadata([a, b], "train"),
        (e: unknown) => e instanceof DatasetError && e.field === "seq_len" && e.file === b);
      const m = { path: a, metadata: { ...META, total_puzzles: 1 } };
      assert.throws(() => mergeMetadata([m, { path: b, metadata: { ...META, sets: ["other"] } }]), (e: unknown) => e instanceof DatasetError && e.field === "sets");
      assert.throws(() => loadPuzzleSets([a], "train", { ...META, seq_len: 9 }), (e: unknown) => e instanceof DatasetError && e.field === "inputs");
    });
  });
});
