import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ArcBuildSummary, aug, buildArcDataset, gridPairToSeq, inverseAug } from "../../lib/data/builders/arc";
import { Grid, gridsEqual } from "../../lib/data/builders/common";
import { readMetadata } from "../../lib/data/metadata";
import { readNpy } from "../../lib/data/npy";
import { Rng } from "../../lib/data/random";
import { ARC_DATA, hasNumpy, python, tempDir } from "./helpers";

type Json = Record<string, { train: { input: number[][]; output: number[][] }[]; test: { input: number[][]; output?: number[][] }[] }>;

const toGrid = (g: number[][]): Grid => ({ rows: g.length, cols: g[0].length, data: Uint8Array.from(g.flat()) });

/** Finds the grid on a 30x30 token canvas (anywhere, for translated examples) and checks the
 *  EOS frame and PAD around it; returns the grid as colours 0..9 and its offset. */
function extract(seq: Uint8Array): { grid: Grid; r0: number; c0: number } {
  const N = 30;
  let r0 = N;
  let c0 = N;
  for (let i = 0; i < N * N; i++) {
    if (seq[i] >= 2) { r0 = Math.min(r0, Math.floor(i / N)); c0 = Math.min(c0, i % N); }
  }
  let cols = 0;
  while (c0 + cols < N && seq[r0 * N + c0 + cols] >= 2) cols++;
  let rows = 0;
  while (r0 + rows < N && seq[(r0 + rows) * N + c0] >= 2) rows++;
  const data = new Uint8Array(rows * cols);
  const expected = new Uint8Array(N * N);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const t = seq[(r0 + r) * N + c0 + c];
      data[r * cols + c] = t - 2;
      expected[(r0 + r) * N + c0 + c] = t;
    }
  }
  if (r0 + rows < N) for (let c = c0; c < c0 + cols; c++) expected[(r0 + rows) * N + c] = 1;
  if (c0 + cols < N) for (let r = r0; r < r0 + rows; r++) expected[r * N + c0 + cols] = 1;
  assert.deepEqual(seq, expected, "canvas is PAD except the grid and its EOS row/column");
  return { grid: { rows, cols, data }, r0, c0 };
}

describe("ARC builder", () => {
  it("augment names invert their transform and colour map", () => {
    const rng = new Rng(0);
    const g = toGrid([[0, 1, 2], [3, 4, 5]]);
    for (let i = 0; i < 50; i++) {
      const a = aug("p1", rng);
      const inv = inverseAug(a.name);
      assert.equal(inv.name, "p1");
      assert.ok(gridsEqual(inv.mapGrid(a.mapGrid(g)), g), a.name);
      assert.match(a.name, /^p1\|\|\|t[0-7]\|\|\|0[1-9]{9}$/);
      assert.equal(a.mapGrid(g).data.filter((v) => v === 0).length, 1, "colour 0 (black) is never remapped");
    }
  });

  it("places grids with EOS exactly as np_grid_to_seq_translational_augment", () => {
    const [i, o] = gridPairToSeq(toGrid([[1, 2]]), toGrid([[3], [4]]), null);
    assert.deepEqual(Array.from(i.subarray(0, 3)), [3, 4, 1]);
    assert.deepEqual(Array.from(i.subarray(30, 33)), [1, 1, 0]);
    assert.deepEqual([o[0], o[1], o[30], o[31], o[60], o[61]], [5, 1, 6, 1, 1, 0]);
    const full = toGrid(Array.from({ length: 30 }, () => new Array(30).fill(9)));
    const [f] = gridPairToSeq(full, full, null);
    assert.ok(f.every((t) => t === 11), "a 30x30 grid leaves no room for EOS");
  });

  describe("ARC-1 (training + evaluation + concept) with --num-aug 2", function () {
    const out = tempDir("arc");
    let summary: ArcBuildSummary;
    const load = (subset: string) => {
      const file = `${ARC_DATA}/arc-agi_${subset}_challenges.json`;
      const sols = JSON.parse(fs.readFileSync(`${ARC_DATA}/arc-agi_${subset}_solutions.json`, "utf8")) as Record<string, number[][][]>;
      const puzzles = JSON.parse(fs.readFileSync(file, "utf8")) as Json;
      for (const [id, p] of Object.entries(puzzles)) p.test.forEach((t, k) => { t.output = sols[id][k]; });
      return puzzles;
    };
    let originals: Record<string, { subset: string; puzzle: Json[string] }>;

    before(function () {
      if (!fs.existsSync(`${ARC_DATA}/arc-agi_training_challenges.json`)) this.skip();
      originals = {};
      for (const subset of ["training", "evaluation", "concept"]) {
        for (const [id, puzzle] of Object.entries(load(subset))) originals[id] = { subset, puzzle };
      }
      summary = buildArcDataset({
        inputFilePrefix: `${ARC_DATA}/arc-agi`, outputDir: out, subsets: ["training", "evaluation", "concept"],
        testSetName: "evaluation", numAug: 2, seed: 42, verbose: false,
      });
    });
    after(() => fs.rmSync(out, { recursive: true, force: true }));

    it("has the official counts, metadata and identifiers", () => {
      const all = Object.values(originals);
      const evalCount = all.filter((o) => o.subset === "evaluation").length;
      assert.equal(summary.totalPuzzles, all.length);
      const ids = JSON.parse(fs.readFileSync(path.join(out, "identifiers.json"), "utf8")) as string[];
      assert.equal(ids[0], "<blank>");
      assert.equal(new Set(ids).size, ids.length, "identifier names are unique");
      assert.equal(summary.notFullyAugmented, 0, "every puzzle got 2 augments");
      assert.equal(ids.length, 1 + 3 * all.length);

      const train = readMetadata(path.join(out, "train", "dataset.json"));
      const test = readMetadata(path.join(out, "test", "dataset.json"));
      const trainExamples = 3 * all.reduce((a, o) => a + o.puzzle.train.length + (o.subset === "evaluation" ? 0 : o.puzzle.test.length), 0);
      const testExamples = 3 * all.filter((o) => o.subset === "evaluation").reduce((a, o) => a + o.puzzle.test.length, 0);
      assert.deepEqual(train, {
        pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: 12, seq_len: 900, num_puzzle_identifiers: ids.length,
        total_groups: all.length, mean_puzzle_examples: trainExamples / (3 * all.length), total_puzzles: 3 * all.length, sets: ["all"],
      });
      assert.deepEqual([test.total_groups, test.total_puzzles, test.num_puzzle_identifiers], [evalCount, 3 * evalCount, ids.length]);
      assert.deepEqual(readNpy(path.join(out, "train", "all__inputs.npy")).shape, [trainExamples, 900]);
      assert.deepEqual(readNpy(path.join(out, "test", "all__labels.npy")).shape, [testExamples, 900]);

      const testPuzzles = JSON.parse(fs.readFileSync(path.join(out, "test_puzzles.json"), "utf8")) as Json;
      assert.equal(Object.keys(testPuzzles).length, evalCount);
      for (const [id, p] of Object.entries(testPuzzles)) {
        assert.equal(originals[id].subset, "evaluation");
        assert.deepEqual(p, originals[id].puzzle, "test puzzle kept with its solutions");
      }
    });

    it("is readable by numpy with mmap, with the official dtypes", function () {
      if (!hasNumpy()) this.skip();
      const got = JSON.parse(python(`
d = "${out}"
res = {}
for split in ["train", "test"]:
    meta = json.load(open(f"{d}/{split}/dataset.json"))
    for k in ["inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices"]:
        a = np.load(f"{d}/{split}/all__{k}.npy", mmap_mode="r")
        res[f"{split}/{k}"] = [str(a.dtype), len(a.shape), int(a.shape[-1]) if k in ("inputs", "labels") else None]
    res[f"{split}/max"] = int(np.load(f"{d}/{split}/all__inputs.npy", mmap_mode="r").max())
print(json.dumps(res))`));
      for (const split of ["train", "test"]) {
        assert.deepEqual(got[`${split}/inputs`], ["uint8", 2, 900]);
        assert.deepEqual(got[`${split}/labels`], ["uint8", 2, 900]);
        for (const k of ["puzzle_identifiers", "puzzle_indices", "group_indices"]) assert.deepEqual(got[`${split}/${k}`], ["int32", 1, null]);
        assert.ok(got[`${split}/max`] <= 11);
      }
    });

    for (const split of ["train", "test"]) {
      it(`${split}: every augmented example inverts back to its original grid`, () => {
        const ids = JSON.parse(fs.readFileSync(path.join(out, "identifiers.json"), "utf8")) as string[];
        const dir = path.join(out, split);
        const inputs = readNpy(path.join(dir, "all__inputs.npy")).data as Uint8Array;
        const labels = readNpy(path.join(dir, "all__labels.npy")).data as Uint8Array;
        const pid = readNpy(path.join(dir, "all__puzzle_identifiers.npy")).data as Int32Array;
        const pidx = readNpy(path.join(dir, "all__puzzle_indices.npy")).data as Int32Array;
        const gidx = readNpy(path.join(dir, "all__group_indices.npy")).data as Int32Array;
        let translated = 0;
        for (let g = 0; g + 1 < gidx.length; g++) {
          const names = new Set<string>();
          for (let p = gidx[g]; p < gidx[g + 1]; p++) {
            const inv = inverseAug(ids[pid[p]]);
            names.add(inv.name);
            const orig = originals[inv.name];
            // Examples follow the JSON key order ("test" comes first in the ARC-1 files), as the
            // official builder iterates puzzle.items().
            const expected = Object.entries(orig.puzzle)
              .filter(([type]) => (split === "test" ? type === "test" : type === "train" || orig.subset !== "evaluation"))
              .flatMap(([, examples]) => examples);
            assert.equal(pidx[p + 1] - pidx[p], expected.length, `${ids[pid[p]]} example count`);
            let atOrigin = 0;
            expected.forEach((ex, k) => {
              const e = pidx[p] + k;
              const i = extract(inputs.subarray(e * 900, (e + 1) * 900));
              const o = extract(labels.subarray(e * 900, (e + 1) * 900));
              assert.deepEqual([i.r0, i.c0], [o.r0, o.c0], "input and output share the translation");
              if (i.r0 === 0 && i.c0 === 0) atOrigin++;
              else translated++;
              assert.ok(gridsEqual(inv.mapGrid(i.grid), toGrid(ex.input)), `${ids[pid[p]]} input ${k}`);
              assert.ok(gridsEqual(inv.mapGrid(o.grid), toGrid(ex.output!)), `${ids[pid[p]]} output ${k}`);
            });
            if (expected.length > 0) assert.ok(atOrigin >= 1, "one example per puzzle is not translated");
            if (split === "test") assert.equal(atOrigin, expected.length, "test examples are never translated");
          }
          assert.equal(names.size, 1, "a group holds one puzzle and its augments");
          assert.equal(gidx[g + 1] - gidx[g], 3);
        }
        if (split === "train") assert.ok(translated > 1000, "train examples are translated");
      });
    }
  });
});
