// What the training loop needs from the data and from the other ranks.
import type * as torch from '../torch';
import type { PuzzleDatasetMetadata } from '../data/metadata';

/** One batch from a PuzzleDataset: int32 tensors the consumer disposes. */
export interface BatchItem {
  setName: string;
  batch: Record<string, torch.Tensor>;
  effectiveBatchSize: number;
}

/** A dataset split: each `for await` is one pass (epochs_per_iter epochs in training). */
export interface BatchSource extends AsyncIterable<BatchItem> {
  readonly metadata: PuzzleDatasetMetadata;
}

/**
 * Collectives the loop uses. One process: identities. Several: the distributed layer's process
 * group (gradients all-reduced, metrics and evaluator state gathered to rank 0).
 */
export interface Comm {
  readonly rank: number;
  readonly worldSize: number;
  /** Sums `grads` in place across ranks. */
  allReduceGrads(grads: torch.Tensor[]): Promise<void>;
  /** Elementwise sum onto rank 0 (null elsewhere). */
  reduceSum(values: number[]): Promise<number[] | null>;
  /** Elementwise sum on every rank (the same values on all: a verdict drawn from them agrees). */
  allReduceSum(values: number[]): Promise<number[]>;
  /** Every rank's string, in rank order, on rank 0 (null elsewhere). */
  gatherStrings(value: string): Promise<string[] | null>;
  /** Parameters and buffers from rank 0 to all. */
  broadcastTensors(tensors: torch.Tensor[]): Promise<void>;
}

export const SINGLE_PROCESS: Comm = {
  rank: 0,
  worldSize: 1,
  allReduceGrads: async () => {},
  reduceSum: async (values) => values,
  allReduceSum: async (values) => values,
  gatherStrings: async (value) => [value],
  broadcastTensors: async () => {},
};
