// The evaluator interface (official evaluators: required_outputs, begin_eval, update_batch, result)
// over plain arrays, so evaluators need no tensor library.

/** The least an evaluator needs of a tensor: a shape and row-major values already on the CPU. */
export interface TensorLike {
  shape: number[];
  data: ArrayLike<number>;
}

export type TensorMap = Record<string, TensorLike | undefined>;

export interface Evaluator {
  /** Names of batch/model outputs `updateBatch` needs (official required_outputs). */
  readonly requiredOutputs: ReadonlySet<string>;
  beginEval(): void;
  updateBatch(batch: TensorMap, preds: TensorMap): void;
  /** This rank's accumulated state as JSON, for gathering to rank 0. */
  serializeState(): string;
  /** Adds another rank's `serializeState()` to this one; call in rank order on rank 0. */
  mergeState(serialized: string): void;
  /** Metrics over everything accumulated (and merged); writes files under `savePath` if given. */
  result(savePath?: string): Record<string, number> | undefined;
}

/** Looks up a required output in batch then preds (later wins, as in the official loop). */
export function pick(batch: TensorMap, preds: TensorMap, key: string): TensorLike {
  const v = preds[key] ?? batch[key];
  if (!v) throw new Error(`evaluator needs "${key}" in the batch or the model outputs`);
  return v;
}
