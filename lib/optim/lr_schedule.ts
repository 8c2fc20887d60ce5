// The official learning-rate schedule (pretrain.py's cosine_schedule_with_warmup_lr_lambda and
// compute_lr): linear warmup from 0, then a cosine from the base rate down to base·min_ratio.

export interface CosineScheduleOptions {
  baseLr: number;
  numWarmupSteps: number;
  numTrainingSteps: number;
  /** Floor as a fraction of baseLr (config `lr_min_ratio`; 1.0 keeps the rate constant). */
  minRatio?: number;
  /** Cosine periods over the decay; 0.5 (default) goes once from the top to the floor. */
  numCycles?: number;
}

/** The rate at `currentStep` (the official counts steps from 1: the first update uses step 1). */
export function cosineScheduleWithWarmupLr(currentStep: number, o: CosineScheduleOptions): number {
  const { baseLr, numWarmupSteps, numTrainingSteps, minRatio = 0, numCycles = 0.5 } = o;
  if (currentStep < numWarmupSteps) return (baseLr * currentStep) / Math.max(1, numWarmupSteps);
  const progress = (currentStep - numWarmupSteps) / Math.max(1, numTrainingSteps - numWarmupSteps);
  return baseLr * (minRatio + Math.max(0, (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress))));
}

/** Python's round(): to the nearest integer, ties to even. */
export function pythonRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The config keys the schedule reads (cfg_pretrain.yaml names). */
export interface LrScheduleConfig {
  lr_warmup_steps: number;
  lr_min_ratio: number;
}

/** pretrain.py's compute_lr: the rate for `baseLr` (lr or puzzle_emb_lr) at `step` of `totalSteps`. */
export function computeLr(baseLr: number, config: LrScheduleConfig, step: number, totalSteps: number): number {
  return cosineScheduleWithWarmupLr(step, {
    baseLr,
    numWarmupSteps: pythonRound(config.lr_warmup_steps),
    numTrainingSteps: totalSteps,
    minRatio: config.lr_min_ratio,
  });
}

/** pretrain.py's estimate: int(epochs · total_groups · mean_puzzle_examples / global_batch_size). */
export function totalTrainSteps(epochs: number, totalGroups: number, meanPuzzleExamples: number, globalBatchSize: number): number {
  if (!(globalBatchSize > 0)) throw new RangeError(`Expected a positive global_batch_size but received ${globalBatchSize}`);
  return Math.trunc((epochs * totalGroups * meanPuzzleExamples) / globalBatchSize);
}
