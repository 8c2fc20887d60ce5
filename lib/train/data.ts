// The run's data, as the official create_dataloader / create_evaluators: the train split sampled
// (epochs_per_iter epochs per pass), the test split walked in order (from data_paths_test when
// given), and one evaluator per configured name and test data path. Batches come out on the
// run's device.
import type * as torch from '../torch';
import { DatasetError } from '../data/errors';
import { PuzzleDataset } from '../data/puzzle_dataset';
import type { PretrainConfig } from '../config';
import { createEvaluator } from '../evaluators/registry';
import type { Evaluator } from '../evaluators/types';
import type { BatchItem, BatchSource } from './types';

export interface TrainData {
  readonly metadata: PuzzleDataset['metadata'];
  /** The pass of iteration `iter` (its sampling seed depends on it, as the official `_iters`). */
  iterate(iter: number): AsyncIterable<BatchItem>;
}

export interface RunData {
  train: TrainData;
  eval: BatchSource | null;
  evaluators: Evaluator[];
  close(): void;
}

/** The batch's tensors moved to `device` (the host copies freed). */
export function batchTo(batch: Record<string, torch.Tensor>, device: string): Record<string, torch.Tensor> {
  const out: Record<string, torch.Tensor> = {};
  for (const [k, v] of Object.entries(batch)) {
    const moved = v.to(device);
    if (moved !== v) v.dispose();
    out[k] = moved;
  }
  return out;
}

/** `items` with every batch on `device`; `items` itself on the CPU. */
function batchesOn(items: AsyncIterable<BatchItem>, device: string): AsyncIterable<BatchItem> {
  if (device === 'cpu') return items;
  return (async function* () {
    for await (const item of items) yield { ...item, batch: batchTo(item.batch, device) };
  })();
}

export function openData(config: PretrainConfig, rank: number, worldSize: number, epochsPerIter: number, log: (m: string) => void = () => {}, device = 'cpu'): RunData {
  const common = { global_batch_size: config.global_batch_size, rank, num_replicas: worldSize, seed: config.seed };
  const train = new PuzzleDataset({ ...common, dataset_paths: config.data_paths, split: 'train', test_set_mode: false, epochs_per_iter: epochsPerIter });
  const testPaths = config.data_paths_test.length > 0 ? config.data_paths_test : config.data_paths;
  let test: PuzzleDataset | null = null;
  const evaluators: Evaluator[] = [];
  try {
    try {
      test = new PuzzleDataset({ ...common, dataset_paths: testPaths, split: 'test', test_set_mode: true, epochs_per_iter: 1 });
    } catch (e) {
      if (!(e instanceof DatasetError) || !/no test split/.test(e.message)) throw e;
      log('NO EVAL DATA FOUND: training without evaluation');
    }
    if (test) {
      for (const k of ['seq_len', 'vocab_size'] as const) {
        if (test.metadata[k] !== train.metadata[k]) {
          throw new DatasetError(`the test split has ${k} ${test.metadata[k]} but the training data has ${train.metadata[k]}; the model is built for the training data (${testPaths.join(', ')})`);
        }
      }
      for (const cfg of config.evaluators) {
        const { name, ...options } = cfg as unknown as Record<string, unknown>;
        for (const dataPath of testPaths) evaluators.push(createEvaluator(String(name), { dataPath, evalMetadata: test.metadata }, options));
      }
    }
  } catch (e) {
    // Nothing stays mapped when the test split or an evaluator cannot be set up.
    test?.close();
    train.close();
    throw e;
  }
  return {
    train: {
      metadata: train.metadata,
      iterate: (iter) => batchesOn(train.batches({ iter }), device),
    },
    eval: test ? { metadata: test.metadata, [Symbol.asyncIterator]: () => batchesOn(test!.batches(), device)[Symbol.asyncIterator]() } : null,
    evaluators,
    close() {
      train.close();
      test?.close();
    },
  };
}
