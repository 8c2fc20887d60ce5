// Does data ever stall training? Config A's training step fed by the real loader (PuzzleDataset,
// memory-mapped, gathered off the main thread) from a generated 9×9 Sudoku set; the share of the
// time spent waiting for batches (LoaderStats.waitSeconds / elapsedSeconds).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSudokuDataset } from '../data/builders/sudoku';
import { generateSudokuCsv } from '../data/generators/sudoku';
import { PuzzleDataset } from '../data/puzzle_dataset';
import type { Tensor } from '../torch';
import type { BenchConfig } from './configs';
import { measureSteps } from './train_step';

/** Writes a small Sudoku dataset (200 puzzles × 8 augments) into a fresh temporary folder. */
export function makeBenchDataset(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-bench-'));
  const csv = path.join(root, 'csv');
  generateSudokuCsv({ outputDir: csv, size: 9, numTrain: 200, numTest: 20, seed: 0, givens: 36, verbose: false });
  buildSudokuDataset({ sourceRepo: csv, outputDir: path.join(root, 'data'), numAug: 8, seed: 0, verbose: false });
  return path.join(root, 'data');
}

export interface DataWait {
  steps: number;
  waitSeconds: number;
  elapsedSeconds: number;
  share: number;
}

/** Runs `steps` training steps of `config` (sequence 81, as the Sudoku set) on the loader's batches. */
export async function measureDataWait(config: BenchConfig, dataPath: string, o: { warmup: number; steps: number }): Promise<DataWait> {
  const ds = new PuzzleDataset({
    dataset_paths: [dataPath], split: 'train', global_batch_size: config.batch, rank: 0, num_replicas: 1, seed: 0,
    test_set_mode: false, epochs_per_iter: 1000,
  });
  const it = ds.batches();
  const nextBatch = async (): Promise<Record<string, Tensor>> => {
    const r = await it.next();
    if (r.done) throw new Error('the benchmark dataset ran out of batches');
    return r.value.batch as unknown as Record<string, Tensor>;
  };
  try {
    await measureSteps({ ...config, seq: ds.metadata.seq_len, vocab: ds.metadata.vocab_size }, { ...o, evaluate: false, nextBatch });
    return { steps: o.warmup + o.steps, waitSeconds: it.stats.waitSeconds, elapsedSeconds: it.stats.elapsedSeconds, share: it.stats.waitSeconds / it.stats.elapsedSeconds };
  } finally {
    await it.return?.();
    ds.close();
  }
}
