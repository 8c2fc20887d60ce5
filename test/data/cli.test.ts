import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { runDatasetCommand } from "../../lib/cli/dataset";
import { readMetadata } from "../../lib/data/metadata";
import { tempDir } from "./helpers";

/** Runs the command with stdout/stderr captured. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const so = process.stdout.write.bind(process.stdout);
  const se = process.stderr.write.bind(process.stderr);
  (process.stdout as { write: unknown }).write = (s: string) => ((out += s), true);
  (process.stderr as { write: unknown }).write = (s: string) => ((err += s), true);
  try {
    const code = await runDatasetCommand(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = so;
    process.stderr.write = se;
  }
}

describe("trm dataset CLI", () => {
  it("generates then builds Sudoku and Maze folders with the official flag names", async () => {
    const src = tempDir("cli");
    const out = tempDir("cli");
    assert.equal((await run(["gen-sudoku", "--output-dir", src, "--size", "4", "--num-train", "6", "--num-test", "2", "--quiet"])).code, 0);
    const r = await run(["sudoku", "--source-repo", src, "--output-dir", out, "--subsample-size", "4", "--num-aug", "2"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /sudoku train: 4\/4/, "progress on stderr");
    assert.equal(readMetadata(path.join(out, "train", "dataset.json")).total_groups, 4);
    const msrc = tempDir("cli");
    const mout = tempDir("cli");
    assert.equal((await run(["gen-maze", "--output-dir", msrc, "--size=10", "--num-train", "2", "--num-test", "1", "--min-path-length", "8", "--quiet"])).code, 0);
    assert.equal((await run(["maze", "--source-repo", msrc, "--output-dir", mout, "--aug", "--quiet"])).code, 0);
    assert.equal(readMetadata(path.join(mout, "train", "dataset.json")).seq_len, 100);
  });

  it("names an unknown flag and suggests the closest", async () => {
    const r = await run(["arc", "--input-file-prefx", "x", "--output-dir", "y"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown flag --input-file-prefx .*Did you mean --input-file-prefix\?/);
    const c = await run(["sudoko"]);
    assert.equal(c.code, 2);
    assert.match(c.err, /unknown command "sudoko". Did you mean 'sudoku'\?/);
  });

  it("reports missing required flags, bad values and a missing --source-repo folder", async () => {
    assert.match((await run(["arc", "--output-dir", "y"])).err, /missing required flag --input-file-prefix/);
    assert.match((await run(["gen-sudoku", "--output-dir", "y", "--size", "nine"])).err, /Expected an integer for --size but received "nine"/);
    const r = await run(["maze", "--source-repo", "/nonexistent/dir", "--quiet"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /--source-repo must be a local folder/);
  });

  it("accepts list flags and --help", async () => {
    const h = await run(["arc", "--help"]);
    assert.equal(h.code, 0);
    assert.match(h.out, /--num-aug <int>.*default: 1000/);
    const outDir = tempDir("cli");
    const r = await run(["arc", "--input-file-prefix", path.join(tempDir("cli"), "none"), "--output-dir", outDir, "--subsets", "training", "evaluation", "--test-set-name", "evaluation"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /ARC subset "training" not found/);
    assert.ok(!fs.existsSync(path.join(outDir, "train")), "nothing written when an input is missing");
  });
});
