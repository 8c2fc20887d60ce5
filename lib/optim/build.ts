// The training loop's optimizers as pretrain.py builds them: sign-SGD for the puzzle embedding,
// AdamATan2 for the weights (or only the embedding under freeze_weights), each with its base rate
// on the shared warmup + cosine schedule.
import { Tensor } from '../torch';
import { AdamATan2 } from './adam_atan2';
import { computeLr, LrScheduleConfig } from './lr_schedule';
import { OptimizerStateDict } from './optimizer';
import { CastedSparseEmbeddingSignSGD, SparseEmbeddingLike } from './sparse_sign_sgd';

/** The cfg_pretrain.yaml keys this reads. */
export interface OptimizerConfig extends LrScheduleConfig {
  lr: number;
  weight_decay: number;
  beta1: number;
  beta2: number;
  puzzle_emb_lr: number;
  puzzle_emb_weight_decay: number;
  freeze_weights?: boolean;
}

export interface OptimizerInputs {
  /** The model's parameters (the puzzle embedding table is a buffer, not among them). */
  parameters: Iterable<Tensor>;
  /** The sparse puzzle embedding, or null/undefined when the model has none (puzzle_emb_ndim 0). */
  puzzleEmb?: SparseEmbeddingLike | Tensor[] | null;
  /** All-gather across ranks for the embedding's grads and ids (see CastedSparseEmbeddingSignSGD). */
  allGather?: (t: Tensor) => Tensor;
  /** Passed to AdamATan2 (default: fused unless DISABLE_COMPILE=1). */
  fused?: boolean;
}

export type TrainOptimizer = AdamATan2 | CastedSparseEmbeddingSignSGD;

export interface TrainOptimizers {
  optimizers: TrainOptimizer[];
  /** Base rate of each optimizer, scaled by the schedule at every step. */
  baseLrs: number[];
}

/**
 * As pretrain.py's create_model: without a puzzle embedding, AdamATan2 over the parameters (even
 * under freeze_weights, as the official code); with freeze_weights, only the embedding's sign-SGD
 * (the weights get gradients but never move); otherwise both, the embedding first.
 */
export function createOptimizers(config: OptimizerConfig, inputs: OptimizerInputs): TrainOptimizers {
  const adam = () =>
    new AdamATan2(inputs.parameters, {
      lr: 0, // set by the schedule before every step
      weightDecay: config.weight_decay,
      betas: [config.beta1, config.beta2],
      fused: inputs.fused,
    });
  const signSgd = (emb: SparseEmbeddingLike | Tensor[]) =>
    new CastedSparseEmbeddingSignSGD(emb, { lr: 0, weightDecay: config.puzzle_emb_weight_decay, allGather: inputs.allGather });

  if (!inputs.puzzleEmb) return { optimizers: [adam()], baseLrs: [config.lr] };
  if (config.freeze_weights) return { optimizers: [signSgd(inputs.puzzleEmb)], baseLrs: [config.puzzle_emb_lr] };
  return { optimizers: [signSgd(inputs.puzzleEmb), adam()], baseLrs: [config.puzzle_emb_lr, config.lr] };
}

/**
 * One update as pretrain.py's train_batch does it, after backward: for each optimizer, set the
 * scheduled rate, step, clear the gradients. Returns the last optimizer's rate (logged as train/lr).
 */
export function stepOptimizers(t: TrainOptimizers, config: LrScheduleConfig, step: number, totalSteps: number): number {
  let lr = 0;
  t.optimizers.forEach((optim, i) => {
    lr = computeLr(t.baseLrs[i], config, step, totalSteps);
    optim.setLr(lr);
    optim.step();
    optim.zeroGrad();
  });
  return lr;
}

/** Every optimizer's state, in order (for a checkpoint that resumes exactly). */
export const optimizersStateDict = (t: TrainOptimizers): OptimizerStateDict[] => t.optimizers.map((o) => o.stateDict());

export function loadOptimizersStateDict(t: TrainOptimizers, sds: OptimizerStateDict[]): void {
  if (!Array.isArray(sds) || sds.length !== t.optimizers.length) {
    throw new RangeError(`Expected ${t.optimizers.length} optimizer state dicts but received ${Array.isArray(sds) ? sds.length : typeof sds}`);
  }
  t.optimizers.forEach((o, i) => o.loadStateDict(sds[i]));
}
