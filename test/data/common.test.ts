import { strict as assert } from "assert";
import * as path from "path";
import * as fs from "fs";
import { DIHEDRAL_INVERSE, dihedralTransform, gridsEqual, inverseDihedralTransform, makeGrid } from "../../lib/data/builders/common";
import { DatasetError } from "../../lib/data/errors";
import { readMetadata, validateMetadata, writeMetadata, PuzzleDatasetMetadata } from "../../lib/data/metadata";
import { Rng } from "../../lib/data/random";
import { hasNumpy, python, tempDir } from "./helpers";

const GOOD: PuzzleDatasetMetadata = {
  pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: 12, seq_len: 900, num_puzzle_identifiers: 3,
  total_groups: 2, mean_puzzle_examples: 1.5, total_puzzles: 2, sets: ["all"],
};

describe("dihedral transforms", () => {
  const grid = makeGrid(2, 3, Uint8Array.from([1, 2, 3, 4, 5, 6]));

  it("each transform is undone by its inverse, on a non-square grid", () => {
    for (let t = 0; t < 8; t++) {
      const g = dihedralTransform(grid, t);
      assert.ok(gridsEqual(inverseDihedralTransform(g, t), grid), `tid ${t}`);
      assert.ok(gridsEqual(dihedralTransform(g, DIHEDRAL_INVERSE[t]), grid));
    }
  });

  it("the 8 transforms are distinct", () => {
    const seen = new Set<string>();
    for (let t = 0; t < 8; t++) {
      const g = dihedralTransform(grid, t);
      seen.add(`${g.rows}x${g.cols}:${g.data.join(",")}`);
    }
    assert.equal(seen.size, 8);
  });

  it("match numpy's dihedral_transform (rot90, fliplr, flipud, transpose)", function () {
    if (!hasNumpy()) this.skip();
    const expected = JSON.parse(python(`
a = np.arange(1, 7).reshape(2, 3)
ops = [lambda x: x, lambda x: np.rot90(x, 1), lambda x: np.rot90(x, 2), lambda x: np.rot90(x, 3),
       np.fliplr, np.flipud, lambda x: x.T, lambda x: np.fliplr(np.rot90(x, 1))]
print(json.dumps([op(a).tolist() for op in ops]))`)) as number[][][];
    for (let t = 0; t < 8; t++) {
      const g = dihedralTransform(grid, t);
      const rows = Array.from({ length: g.rows }, (_, r) => Array.from(g.data.subarray(r * g.cols, (r + 1) * g.cols)));
      assert.deepEqual(rows, expected[t], `tid ${t}`);
    }
  });
});

describe("Rng", () => {
  it("is deterministic by seed and differs across seeds", () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const xa = Array.from({ length: 20 }, () => a.nextUint32());
    assert.deepEqual(xa, Array.from({ length: 20 }, () => b.nextUint32()));
    assert.notDeepEqual(xa, Array.from({ length: 20 }, () => c.nextUint32()));
  });

  it("int, permutation and choiceWithoutReplacement stay in range and are roughly uniform", () => {
    const r = new Rng(1);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 6000; i++) counts[r.int(0, 6)]++;
    for (const c of counts) assert.ok(c > 850 && c < 1150, `counts ${counts}`);
    assert.deepEqual(Array.from(r.permutation(50)).sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
    const pick = Array.from(r.choiceWithoutReplacement(1000, 100));
    assert.equal(new Set(pick).size, 100);
    assert.ok(pick.every((v) => v >= 0 && v < 1000));
    assert.throws(() => r.int(3, 3), RangeError);
  });
});

describe("dataset.json", () => {
  it("round-trips and keeps the official key order", () => {
    const dir = tempDir("meta");
    const f = path.join(dir, "dataset.json");
    writeMetadata(f, GOOD);
    assert.deepEqual(readMetadata(f), GOOD);
    assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(f, "utf8"))), Object.keys(GOOD));
  });

  it("accepts ignore_label_id null", () => {
    assert.equal(validateMetadata({ ...GOOD, ignore_label_id: null }).ignore_label_id, null);
  });

  it("names the file and the bad field", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...GOOD, seq_len: "900" }, "seq_len"],
      [{ ...GOOD, vocab_size: 0 }, "vocab_size"],
      [{ ...GOOD, ignore_label_id: 1.5 }, "ignore_label_id"],
      [{ ...GOOD, sets: [] }, "sets"],
      [{ ...GOOD, mean_puzzle_examples: "x" }, "mean_puzzle_examples"],
      [Object.fromEntries(Object.entries(GOOD).filter(([k]) => k !== "total_groups")), "total_groups"],
    ];
    for (const [value, field] of cases) {
      assert.throws(() => validateMetadata(value, "/x/train/dataset.json"), (e: unknown) =>
        e instanceof DatasetError && e.field === field && e.file === "/x/train/dataset.json" && e.message.includes(field), field);
    }
    const dir = tempDir("meta");
    const broken = path.join(dir, "dataset.json");
    fs.writeFileSync(broken, "{not json");
    assert.throws(() => readMetadata(broken), (e: unknown) => e instanceof DatasetError && e.file === broken);
    assert.throws(() => readMetadata(path.join(dir, "missing.json")), DatasetError);
  });
});
