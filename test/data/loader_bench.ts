// Loader throughput, measured by hand (not a test: mocha runs only *.test.js). Builds (once, into
// a cache folder) the README's Sudoku set, 1,000 puzzles x 1,000 augments, then reports (1 thread)
//   - batches/s of PuzzleDataset with an idle consumer (train and test mode, batch 768 x 81);
//   - the data wait's share of a pass whose consumer runs a synchronous step on the main thread,
//     with prefetch 1 (gathered during the step) and prefetch 0 (gathered on demand).
// Run: npx tsc -p . && node dist/test/data/loader_bench.js [cacheDir]
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as torch from "../../lib/torch";
import { buildSudokuDataset } from "../../lib/data/builders/sudoku";
import { generateSudokuCsv } from "../../lib/data/generators/sudoku";
import { PuzzleDataset, PuzzleDatasetConfig } from "../../lib/data/puzzle_dataset";

const cache = process.argv[2] ?? path.join(os.tmpdir(), "trm-loader-bench");
const data = path.join(cache, "sudoku-1k-aug-1000");
if (!fs.existsSync(path.join(data, "test", "dataset.json"))) {
  const csv = path.join(cache, "sudoku-csv");
  generateSudokuCsv({ outputDir: csv, size: 9, numTrain: 1000, numTest: 1000, seed: 0, verbose: false });
  buildSudokuDataset({ sourceRepo: csv, outputDir: data, subsampleSize: 1000, numAug: 1000, seed: 0, verbose: false });
}
torch.setNumThreads(1);

// Each Sudoku group is one puzzle's 1,001 augments, and a training batch takes one example from each
// of 768 groups: 1,000 epochs make a pass of 1,302 batches. Test mode walks the train split's
// 1,001,000 examples in order.
const base: PuzzleDatasetConfig = {
  dataset_paths: [data], split: "train", global_batch_size: 768, rank: 0, num_replicas: 1, seed: 0, test_set_mode: false, epochs_per_iter: 1000,
};

/** One pass (at most `limit` batches); the step runs `stepMs` of synchronous work per batch. */
async function pass(over: Partial<PuzzleDatasetConfig>, limit: number, stepMs = 0): Promise<string> {
  const ds = new PuzzleDataset({ ...base, ...over });
  const it = ds.batches();
  const t0 = performance.now();
  for await (const item of it) {
    if (stepMs > 0) {
      const t = performance.now();
      while (performance.now() - t < stepMs); // the trainer's ATen step, on the main thread
    }
    torch.dispose(item.batch);
    if (it.stats.batches === limit) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  ds.close();
  const s = it.stats;
  return `${s.batches} batches in ${seconds.toFixed(2)} s = ${(s.batches / seconds).toFixed(0)} batches/s; ` +
    `gather ${((1000 * s.assembleSeconds) / s.batches).toFixed(2)} ms/batch, data wait ${((100 * s.waitSeconds) / seconds).toFixed(1)}%`;
}

async function main(): Promise<void> {
  for (let round = 0; round < 3; round++) {
    console.log(`round ${round + 1}`);
    console.log(`  train, idle consumer:          ${await pass({}, 600)}`);
    console.log(`  test mode, idle consumer:      ${await pass({ test_set_mode: true }, 600)}`);
    console.log(`  train, 5 ms step, prefetch 1:  ${await pass({}, 200, 5)}`);
    console.log(`  train, 5 ms step, prefetch 0:  ${await pass({ prefetch: 0 }, 200, 5)}`);
  }
}

void main();
