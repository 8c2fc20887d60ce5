// The train state of the official loop: the model wrapped in its loss head, the optimizers with
// their base learning rates (sign-SGD for the puzzle embedding, AdamATan2 for the weights), the
// persistent ACT carry, the step and the total steps the schedule runs over, all on one device.
import type { PretrainConfig } from '../config';
import type { PuzzleDatasetMetadata } from '../data/metadata';
import type { ACTLossHead } from '../models/losses';
import type { ACTCarry } from '../models/recursive_reasoning/act';
import { createLossHead, createModel } from '../models/registry';
import { createOptimizers, stepOptimizers, TrainOptimizers } from '../optim/build';
import { EMAHelper } from '../optim/ema';
import type { Tensor } from '../torch';
import type { Comm } from './types';

export interface TrainState {
  config: PretrainConfig;
  /** Where the model, its optimizer state, the carry and the batches live ('cpu', 'cuda:0', ...). */
  device: string;
  model: ACTLossHead;
  optim: TrainOptimizers;
  carry: ACTCarry | null;
  step: number;
  totalSteps: number;
  ema: EMAHelper | null;
}

/** The model's constructor config: the arch keys plus what the data decides (as create_model). */
export function modelConfig(config: PretrainConfig, metadata: PuzzleDatasetMetadata, worldSize: number): Record<string, unknown> {
  const { name: _name, loss: _loss, ...arch } = config.arch as unknown as Record<string, unknown>;
  return {
    ...arch,
    batch_size: config.global_batch_size / worldSize,
    vocab_size: metadata.vocab_size,
    seq_len: metadata.seq_len,
    num_puzzle_identifiers: metadata.num_puzzle_identifiers,
    causal: false,
  };
}

export interface TrainStateOptions {
  /** A device string as selectDevice returns it (default 'cpu'). */
  device?: string;
  /** The sparse embedding's all-gather (default: the Comm's allGatherTensor on several ranks). */
  allGather?: (t: Tensor) => Tensor;
}

export function createTrainState(config: PretrainConfig, metadata: PuzzleDatasetMetadata, comm: Comm, options: TrainStateOptions = {}): TrainState {
  const { device = 'cpu', allGather } = options;
  const totalSteps = Math.floor((config.epochs * metadata.total_groups * metadata.mean_puzzle_examples) / config.global_batch_size);
  const inner = createModel(config.arch.name, modelConfig(config, metadata, comm.worldSize));
  const { name: lossName, ...lossOptions } = config.arch.loss as unknown as Record<string, unknown>;
  const model = createLossHead(String(lossName), inner, lossOptions);
  // Built (and initialised, by the seeded CPU generator) on the CPU, then moved in place: the
  // optimizers and the EMA below see the tensors on their device.
  if (device !== 'cpu') model.to(device);
  const emb = inner.puzzle_emb;
  // Several ranks: the sparse embedding's grads and ids are all-gathered (blocking) through the
  // Comm's allGatherTensor when it has one (distributed/ProcessGroupComm does).
  const commGather = (comm as Partial<{ allGatherTensor(t: Tensor): Tensor }>).allGatherTensor;
  const gather = allGather ?? (comm.worldSize > 1 && commGather ? (t: Tensor) => commGather.call(comm, t) : undefined);
  const optim = createOptimizers(config, {
    parameters: model.parameters(),
    puzzleEmb: emb ? [emb.weights, emb.local_weights, emb.local_ids] : null,
    allGather: gather,
  });
  let ema: EMAHelper | null = null;
  if (config.ema) {
    ema = new EMAHelper(config.ema_rate);
    ema.register(model.namedParameters());
  }
  return { config, device, model, optim, carry: null, step: 0, totalSteps, ema };
}

/** Sets this step's scheduled rates, steps every optimizer and clears the grads; the rate logged. */
export function applyOptimizers(state: TrainState): number {
  return stepOptimizers(state.optim, state.config, state.step, state.totalSteps);
}
