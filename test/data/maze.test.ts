import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { CHARSET, buildMazeDataset } from "../../lib/data/builders/maze";
import { dihedralTransform } from "../../lib/data/builders/common";
import { DatasetError } from "../../lib/data/errors";
import { generateMaze, generateMazeCsv } from "../../lib/data/generators/maze";
import { readMetadata } from "../../lib/data/metadata";
import { readNpy } from "../../lib/data/npy";
import { Rng } from "../../lib/data/random";
import { tempDir } from "./helpers";

/** Independent check: the 'o' cells plus S and G form a simple 4-connected S..G path whose length
 *  equals the BFS distance (so it is a shortest path). Returns the path length in moves. */
function checkMaze(q: string, a: string, side: number): number {
  assert.equal(q.length, side * side);
  assert.ok([...q].every((c) => "# SG".includes(c)), "q uses '# SG'");
  assert.equal([...q].filter((c) => c === "S").length, 1);
  assert.equal([...q].filter((c) => c === "G").length, 1);
  for (let i = 0; i < q.length; i++) {
    if (a[i] === "o") assert.equal(q[i], " ", "path only on open cells");
    else assert.equal(a[i], q[i], "a equals q off the path");
  }
  const nb = (i: number) => [i - side, i + side, i % side ? i - 1 : -1, (i + 1) % side ? i + 1 : -1].filter((j) => j >= 0 && j < side * side);
  const s = q.indexOf("S");
  const g = q.indexOf("G");
  // Follow the path: every step has exactly one unvisited path neighbour.
  const onPath = (i: number) => a[i] === "o" || i === g;
  let cur = s;
  let prev = -1;
  let steps = 0;
  while (cur !== g) {
    const next = nb(cur).filter((j) => j !== prev && onPath(j));
    assert.equal(next.length, 1, `path branches or breaks at ${cur}`);
    prev = cur;
    cur = next[0];
    steps++;
  }
  assert.equal(steps, [...a].filter((c) => c === "o").length + 1, "no stray path cells");
  // BFS distance
  const dist = new Map([[s, 0]]);
  const queue = [s];
  while (queue.length) {
    const u = queue.shift()!;
    for (const v of nb(u)) if (q[v] !== "#" && !dist.has(v)) { dist.set(v, dist.get(u)! + 1); queue.push(v); }
  }
  assert.equal(dist.get(g), steps, "marked path is a shortest path");
  return steps;
}

describe("maze generator", () => {
  it("30x30 carved mazes: valid shortest paths of at least the minimum length", () => {
    const rng = new Rng(11);
    let made = 0;
    while (made < 10) {
      const m = generateMaze(30, rng, { minPathLength: 110, style: "carved", loopFraction: 0.05, uniquePath: true });
      if (!m) continue;
      const len = checkMaze(m.q, m.a, 30);
      assert.equal(len, m.pathLength);
      assert.ok(len >= 110);
      made++;
    }
  });

  it("random-wall style and the CSV writer (deterministic by seed)", () => {
    const d1 = tempDir("gm");
    const d2 = tempDir("gm");
    const cfg = { size: 12, numTrain: 5, numTest: 2, minPathLength: 10, style: "random" as const, uniquePath: false, seed: 4, verbose: false };
    generateMazeCsv({ ...cfg, outputDir: d1 });
    generateMazeCsv({ ...cfg, outputDir: d2 });
    const csv = fs.readFileSync(path.join(d1, "train.csv"), "utf8");
    assert.equal(csv, fs.readFileSync(path.join(d2, "train.csv"), "utf8"));
    const rows = csv.trim().split("\n").slice(1);
    assert.equal(rows.length, 5);
    for (const r of rows) {
      const [source, q, a, rating] = r.split(",");
      assert.ok(source.startsWith("trm-gen-maze"));
      assert.equal(checkMaze(q, a, 12), Number(rating));
    }
  });

  it("says when the minimum path length cannot be met", () => {
    assert.throws(() => generateMazeCsv({ outputDir: tempDir("gm"), size: 4, numTrain: 1, numTest: 1, minPathLength: 100, verbose: false }),
      (e: unknown) => e instanceof DatasetError && e.field === "--min-path-length");
  });
});

describe("maze builder", () => {
  it("maps '# SGo' to 1..5 and, with aug, groups the 8 dihedral transforms of each train maze", () => {
    const src = tempDir("maze-src");
    generateMazeCsv({ outputDir: src, size: 30, numTrain: 3, numTest: 2, seed: 2, verbose: false });
    const out = tempDir("maze-out");
    buildMazeDataset({ sourceRepo: src, outputDir: out, aug: true, verbose: false });
    const meta = readMetadata(path.join(out, "train", "dataset.json"));
    assert.deepEqual([meta.vocab_size, meta.seq_len, meta.total_groups, meta.total_puzzles], [6, 900, 3, 3]);
    const inputs = readNpy(path.join(out, "train", "all__inputs.npy"));
    assert.deepEqual([inputs.dtype, inputs.shape], ["uint8", [24, 900]]);
    assert.deepEqual(Array.from(readNpy(path.join(out, "train", "all__group_indices.npy")).data as Int32Array), [0, 8, 16, 24]);
    const first = fs.readFileSync(path.join(src, "train.csv"), "utf8").split("\n")[1].split(",")[1];
    const tokens = Uint8Array.from(first, (c) => CHARSET.indexOf(c) + 1);
    const data = inputs.data as Uint8Array;
    for (let t = 0; t < 8; t++) {
      const want = dihedralTransform({ rows: 30, cols: 30, data: tokens }, t).data;
      assert.deepEqual(data.subarray(t * 900, (t + 1) * 900), want, `transform ${t}`);
    }
    assert.deepEqual(readNpy(path.join(out, "test", "all__inputs.npy")).shape, [2, 900], "test split is not augmented");
  });

  it("rejects characters outside '# SGo' naming the file", () => {
    const src = tempDir("maze-src");
    fs.writeFileSync(path.join(src, "train.csv"), "source,q,a,rating\nx,#S G,#SxG,1\n");
    fs.writeFileSync(path.join(src, "test.csv"), "source,q,a,rating\n");
    assert.throws(() => buildMazeDataset({ sourceRepo: src, outputDir: tempDir("maze-out"), verbose: false }),
      (e: unknown) => e instanceof DatasetError && e.field === "a" && e.file!.endsWith("train.csv"));
  });
});
