import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { buildSudokuDataset, shuffleSudoku } from "../../lib/data/builders/sudoku";
import { DatasetError } from "../../lib/data/errors";
import { generateSudokuCsv, generateSudokuPuzzle } from "../../lib/data/generators/sudoku";
import { readMetadata } from "../../lib/data/metadata";
import { readNpy } from "../../lib/data/npy";
import { Rng } from "../../lib/data/random";
import { boxShape, countSolutions, isValidSolution } from "../../lib/data/sudoku_grid";
import { tempDir } from "./helpers";

/** Independent brute-force solution counter (plain backtracking, no MRV), for small sizes. */
function bruteCount(cells: number[], n: number, limit = 2): number {
  const [br, bc] = boxShape(n);
  const ok = (i: number, v: number) => {
    const r = Math.floor(i / n);
    const c = i % n;
    for (let k = 0; k < n; k++) if (cells[r * n + k] === v || cells[k * n + c] === v) return false;
    const r0 = r - (r % br);
    const c0 = c - (c % bc);
    for (let dr = 0; dr < br; dr++) for (let dc = 0; dc < bc; dc++) if (cells[(r0 + dr) * n + c0 + dc] === v) return false;
    return true;
  };
  let count = 0;
  const rec = (i: number): void => {
    if (count >= limit) return;
    if (i === n * n) { count++; return; }
    if (cells[i] !== 0) return rec(i + 1);
    for (let v = 1; v <= n; v++) {
      if (!ok(i, v)) continue;
      cells[i] = v;
      rec(i + 1);
      cells[i] = 0;
    }
  };
  rec(0);
  return count;
}

function parse(s: string): number[] {
  return Array.from(s, (ch) => (ch === "." ? 0 : Number(ch)));
}

describe("Sudoku solver", () => {
  it("counts 0, 1 and many solutions", () => {
    assert.equal(countSolutions(new Array(16).fill(0), 4, 1000), 288); // all 4x4 grids
    const solved = parse("1234341221434321");
    assert.equal(countSolutions(solved, 4), 1);
    const clash = parse("11..............");
    assert.equal(countSolutions(clash, 4), 0);
    assert.ok(!isValidSolution(parse("................"), parse("1234123412341234"), 4));
  });
});

describe("Sudoku generator", () => {
  for (const n of [4, 6, 9]) {
    it(`${n}x${n}: every puzzle has exactly one solution, equal to the answer`, () => {
      const rng = new Rng(n);
      for (let i = 0; i < (n === 9 ? 5 : 20); i++) {
        const p = generateSudokuPuzzle(n, rng)!;
        assert.ok(isValidSolution(p.q, p.a, n), "answer solves the puzzle");
        const q = Array.from(p.q);
        if (n < 9) assert.equal(bruteCount(q, n), 1, "independent brute force agrees");
        else assert.equal(countSolutions(q, n), 1);
      }
    });
  }

  it("hits an exact givens count, and is deterministic by seed", () => {
    const dir1 = tempDir("gs");
    const dir2 = tempDir("gs");
    generateSudokuCsv({ outputDir: dir1, size: 6, numTrain: 6, numTest: 3, givens: 14, seed: 3, verbose: false });
    generateSudokuCsv({ outputDir: dir2, size: 6, numTrain: 6, numTest: 3, givens: 14, seed: 3, verbose: false });
    const train = fs.readFileSync(path.join(dir1, "train.csv"), "utf8");
    assert.equal(train, fs.readFileSync(path.join(dir2, "train.csv"), "utf8"));
    const rows = train.trim().split("\n");
    assert.equal(rows[0], "source,q,a,rating");
    assert.equal(rows.length, 7);
    for (const row of rows.slice(1)) {
      const [, q, a] = row.split(",");
      assert.equal([...q].filter((c) => c !== ".").length, 14);
      assert.equal(bruteCount(parse(q), 6), 1);
      assert.ok(isValidSolution(parse(q), parse(a), 6));
    }
  });

  it("rejects unsupported sizes and impossible givens", () => {
    assert.throws(() => generateSudokuCsv({ outputDir: tempDir("gs"), size: 5, verbose: false }), (e: unknown) => e instanceof DatasetError && e.field === "--size");
    assert.throws(() => generateSudokuCsv({ outputDir: tempDir("gs"), size: 4, numTrain: 1, givens: 1, verbose: false }), DatasetError);
  });
});

describe("Sudoku builder", () => {
  it("shuffles keep puzzles valid and consistent (6x6 and 9x9)", () => {
    const rng = new Rng(5);
    for (const n of [6, 9]) {
      const p = generateSudokuPuzzle(n, rng)!;
      for (let k = 0; k < 10; k++) {
        const [q, a] = shuffleSudoku(p.q, p.a, n, rng);
        assert.ok(isValidSolution(q, a, n));
        assert.equal(countSolutions(q, n), 1);
        assert.equal(q.filter((v) => v === 0).length, p.q.filter((v) => v === 0).length);
      }
    }
  });

  it("writes the official layout: uint8 tokens v+1, one example per puzzle, groups of 1+num_aug", () => {
    const src = tempDir("sudoku-src");
    generateSudokuCsv({ outputDir: src, size: 9, numTrain: 8, numTest: 4, seed: 1, verbose: false });
    const out = tempDir("sudoku-out");
    buildSudokuDataset({ sourceRepo: src, outputDir: out, numAug: 3, subsampleSize: 5, verbose: false });
    const meta = readMetadata(path.join(out, "train", "dataset.json"));
    assert.deepEqual(meta, {
      pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: 11, seq_len: 81, num_puzzle_identifiers: 1,
      total_groups: 5, mean_puzzle_examples: 1, total_puzzles: 5, sets: ["all"],
    });
    const inputs = readNpy(path.join(out, "train", "all__inputs.npy"));
    const labels = readNpy(path.join(out, "train", "all__labels.npy"));
    assert.deepEqual([inputs.dtype, inputs.shape], ["uint8", [20, 81]]);
    assert.deepEqual(labels.shape, [20, 81]);
    assert.deepEqual(Array.from(readNpy(path.join(out, "train", "all__group_indices.npy")).data as Int32Array), [0, 4, 8, 12, 16, 20]);
    assert.deepEqual(Array.from(readNpy(path.join(out, "train", "all__puzzle_indices.npy")).data as Int32Array), Array.from({ length: 21 }, (_, i) => i));
    assert.equal(readNpy(path.join(out, "train", "all__puzzle_identifiers.npy")).dtype, "int32");
    for (let e = 0; e < 20; e++) {
      const q = Array.from((inputs.data as Uint8Array).subarray(e * 81, (e + 1) * 81), (t) => t - 1);
      const a = Array.from((labels.data as Uint8Array).subarray(e * 81, (e + 1) * 81), (t) => t - 1);
      assert.ok(isValidSolution(q, a, 9), `example ${e}`);
    }
    assert.equal(readMetadata(path.join(out, "test", "dataset.json")).total_groups, 4, "test: no subsample, no augment");
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, "identifiers.json"), "utf8")), ["<blank>"]);
  });

  it("generalises the token mapping to 4x4: vocab 6, seq_len 16", () => {
    const src = tempDir("sudoku-src");
    generateSudokuCsv({ outputDir: src, size: 4, numTrain: 4, numTest: 2, verbose: false });
    const out = tempDir("sudoku-out");
    buildSudokuDataset({ sourceRepo: src, outputDir: out, verbose: false });
    const meta = readMetadata(path.join(out, "test", "dataset.json"));
    assert.equal(meta.vocab_size, 6);
    assert.equal(meta.seq_len, 16);
    const labels = readNpy(path.join(out, "test", "all__labels.npy")).data as Uint8Array;
    assert.ok(labels.every((t) => t >= 2 && t <= 5));
  });

  it("filters by --min-difficulty and explains a missing --source-repo", () => {
    const src = tempDir("sudoku-src");
    fs.writeFileSync(path.join(src, "train.csv"), "source,q,a,rating\nx,1234341221434321,1234341221434321,0\nx,.234341221434321,1234341221434321,5\n");
    fs.writeFileSync(path.join(src, "test.csv"), "source,q,a,rating\nx,1234341221434321,1234341221434321,9\n");
    const out = tempDir("sudoku-out");
    buildSudokuDataset({ sourceRepo: src, outputDir: out, minDifficulty: 3, verbose: false });
    assert.equal(readMetadata(path.join(out, "train", "dataset.json")).total_groups, 1);
    assert.throws(() => buildSudokuDataset({ sourceRepo: path.join(src, "nope"), outputDir: out, verbose: false }),
      (e: unknown) => e instanceof DatasetError && e.field === "--source-repo" && /local folder/.test(e.message));
    fs.rmSync(path.join(src, "test.csv"));
    assert.throws(() => buildSudokuDataset({ sourceRepo: src, outputDir: out, verbose: false }), /missing test\.csv/);
  });
});
