// The pretraining loop, as the official pretrain.py: `epochs / eval_interval` iterations, each a
// pass of `eval_interval` epochs of training batches followed (from `min_eval_interval` on) by an
// evaluation and a checkpoint. One ACT step per batch; the carry persists across batches, so a
// sequence keeps thinking until it halts and then takes the next example. Each process trains on
// one device (its GPU, cuda:LOCAL_RANK, when LibTorch has CUDA): the model lives there, batches
// are moved there, and the metrics come back to the host once per step.
import * as fs from 'fs';
import * as path from 'path';
import * as torch from '../torch';
import type { PretrainConfig } from '../config';
import { configToYaml } from '../config';
import { selectDevice } from '../distributed/device';
import { checkpointFile, loadModelCheckpoint, saveModelCheckpoint } from './checkpoint';
import { evaluate } from './evaluate';
import { stackMetrics, trainMetrics } from './metrics';
import { MetricsLog } from './metrics_log';
import { withRunNames } from './naming';
import { Progress } from './progress';
import { DataPosition, loadResumeState, saveResumeState } from './resume';
import { applyOptimizers, createTrainState, TrainState } from './train_state';
import { EventWriter } from './tensorboard';
import { BatchSource, Comm, SINGLE_PROCESS } from './types';
import { openData } from './data';
import { TrainingError } from './errors';

export { TrainingError };

type Tensor = torch.Tensor;

export interface PretrainOptions {
  comm?: Comm;
  /**
   * 'cpu', 'cuda' (this process's GPU, cuda:LOCAL_RANK), 'cuda:N' or 'auto'. Default: TRM_DEVICE,
   * else auto: cuda:LOCAL_RANK when LibTorch sees a GPU, else the CPU. With several ranks the
   * comm's backend must take this device's tensors (NCCL for CUDA, gloo for the CPU).
   */
  device?: string;
  /** Messages for the user (rank 0 only prints). Default: console.error. */
  log?: (msg: string) => void;
  /** Progress output (rank 0). Default: process.stderr; null for none. */
  progressStream?: NodeJS.WritableStream | null;
  /** Called on rank 0 after every training step with the reduced metrics. */
  onTrainStep?: (step: number, metrics: Record<string, number>) => void;
  /** Stop after this step (saving a resumable checkpoint there), e.g. to hand over to another machine. */
  stopAtStep?: number;
  /** A signal that stops the run the same way (SIGINT/SIGTERM in the CLI). */
  signal?: AbortSignal;
}

export interface PretrainResult {
  config: PretrainConfig;
  step: number;
  totalSteps: number;
  /** The last evaluation's metrics (rank 0), or null. */
  evalMetrics: Record<string, unknown> | null;
  /** The last training step's metrics (rank 0). */
  trainMetrics: Record<string, number> | null;
  checkpointPath: string;
  stopped: boolean;
}

export async function pretrain(input: PretrainConfig, options: PretrainOptions = {}): Promise<PretrainResult> {
  const comm = options.comm ?? SINGLE_PROCESS;
  const rank = comm.rank;
  const userLog = rank === 0 ? options.log ?? ((m: string) => console.error(m)) : () => {};
  let logging: Logging | null = null;
  // Messages go on a line of their own, not after a progress bar drawn on a TTY.
  const log = (m: string) => {
    logging?.progress?.clearLine();
    userLog(m);
  };
  const config = withRunNames(input);
  const checkpointPath = config.checkpoint_path!;
  if (config.global_batch_size % comm.worldSize !== 0) {
    throw new TrainingError(`global_batch_size (${config.global_batch_size}) must be divisible by the world size (${comm.worldSize})`);
  }
  const epochsPerIter = config.eval_interval ?? config.epochs;
  if (config.epochs % epochsPerIter !== 0) {
    throw new TrainingError(`eval_interval (${epochsPerIter}) must divide epochs (${config.epochs})`);
  }
  const totalIters = config.epochs / epochsPerIter;
  const device = selectDevice({ override: options.device });
  if (device !== 'cpu') log(`Training on ${device}`);
  torch.manualSeed(config.seed + rank);

  const data = openData(config, rank, comm.worldSize, epochsPerIter, log, device);
  let state: TrainState | null = null;
  let lastTrain: Record<string, number> | null = null;
  let lastEval: Record<string, unknown> | null = null;
  let lastSaved: string | null = null;
  let stopped = false;

  try {
    state = createTrainState(config, data.train.metadata, comm, { device });
    const model = state.model;
    if (config.load_checkpoint) loadModelCheckpoint(model, config.load_checkpoint, log);
    await comm.broadcastTensors([...model.parameters(), ...model.buffers()]);

    let startIter = 0;
    let skipBatches = 0;
    if (config.resume) {
      const resumed = loadResumeState(config.resume, state, (file) => loadModelCheckpoint(model, file, log));
      startIter = resumed.iter;
      skipBatches = resumed.batchesInIter;
      lastSaved = config.resume.replace(/\.resume$/, '');
      log(`Resumed from ${config.resume} at step ${state.step}`);
    }

    logging = rank === 0 ? openLogs(config, checkpointPath, state, options) : null;
    // Only rank 0 writes; the others know the name, so a failure reads the same on every rank.
    const save = (position: DataPosition) => {
      lastSaved = rank === 0 ? saveCheckpoint(config, state!, position, log) : checkpointFile(checkpointPath, state!.step);
    };
    const stopRequested = () => options.signal?.aborted || (options.stopAtStep !== undefined && state!.step >= options.stopAtStep);

    for (let iter = startIter; iter < totalIters && !stopped; iter++) {
      model.train();
      let batchIndex = 0;
      for await (const item of data.train.iterate(iter)) {
        const batch = item.batch as unknown as Record<string, Tensor>;
        if (batchIndex++ < skipBatches) {
          torch.dispose(batch);
          continue;
        }
        let metrics: Record<string, number> | null;
        try {
          metrics = await trainBatch(state, batch, config.global_batch_size, comm);
        } catch (e) {
          if (e instanceof TrainingError && e.step !== undefined) {
            e.message += lastSaved ? ` The last good checkpoint, ${lastSaved}, is kept.` : ' No checkpoint had been saved yet.';
          }
          throw e;
        }
        if (metrics && rank === 0) {
          lastTrain = metrics;
          logging!.log(state.step, metrics);
          options.onTrainStep?.(state.step, metrics);
        }
        state.ema?.update(model.namedParameters());
        if (stopRequested()) {
          stopped = true;
          save({ iter, batchesInIter: batchIndex });
          break;
        }
      }
      skipBatches = 0;
      if (stopped || iter < (config.min_eval_interval ?? 0)) continue;

      // Evaluate (and checkpoint) the EMA weights when ema is on, as the official ema_copy.
      const swap = state.ema ? state.ema.swapIn(model.namedParameters()) : null;
      try {
        model.eval();
        if (data.eval) {
          log('EVALUATE');
          lastEval = await evaluate({
            model, data: data.eval, metadata: data.eval.metadata, evaluators: data.evaluators,
            saveOutputs: config.eval_save_outputs, checkpointPath, step: state.step, rank, comm, log,
          });
          if (lastEval && rank === 0) logging!.logEval(state.step, lastEval);
        }
        if (config.checkpoint_every_eval || iter === totalIters - 1) {
          save({ iter: iter + 1, batchesInIter: 0 });
        }
      } finally {
        swap?.restore();
      }
    }
  } finally {
    logging?.close();
    data.close();
    if (state?.carry) torch.dispose(state.carry);
  }
  return { config, step: state.step, totalSteps: state.totalSteps, evalMetrics: lastEval, trainMetrics: lastTrain, checkpointPath, stopped };
}

/**
 * One training step (official train_batch); the reduced metrics on rank 0. The metric sums are
 * summed on every rank, so a NaN or infinite loss on any rank stops all of them in this step with
 * the same TrainingError, before the optimizers touch the weights.
 */
async function trainBatch(state: TrainState, batch: Record<string, Tensor>, globalBatchSize: number, comm: Comm): Promise<Record<string, number> | null> {
  state.step += 1;
  if (state.step > state.totalSteps) {
    torch.dispose(batch);
    return null;
  }
  try {
    if (!state.carry) state.carry = torch.keep(state.model.initialCarry(batch));
    const { carry, loss, metrics } = state.model.forward(state.carry, batch, { return_keys: [] });
    torch.dispose(state.carry);
    state.carry = torch.keep(carry);
    torch.tidy(() => loss.mul(1 / globalBatchSize).backward());
    loss.dispose();
    await comm.allReduceGrads(state.model.parameters().map((p) => p.grad).filter((g): g is Tensor => g !== null));
    const { keys, values } = stackMetrics(metrics as unknown as Record<string, Tensor>);
    torch.dispose(metrics);
    const sums = values.toArray(); // the step's one copy to the host
    values.dispose();
    const out = trainMetrics(keys, await comm.allReduceSum(sums), globalBatchSize);
    const losses = Object.keys(out).filter((k) => k.endsWith('loss'));
    if (losses.some((k) => !Number.isFinite(out[k]))) {
      const shown = losses.map((k) => `${k.slice('train/'.length)} ${out[k]}`).join(', ');
      throw new TrainingError(`the loss became NaN or infinite at step ${state.step} (${shown}); stopping.`, state.step);
    }
    const lr = applyOptimizers(state);
    if (comm.rank !== 0) return null;
    out['train/lr'] = lr;
    return out;
  } finally {
    torch.dispose(batch);
  }
}


/** Writes step_N and step_N.resume; returns step_N. */
function saveCheckpoint(config: PretrainConfig, state: TrainState, position: DataPosition, log: (m: string) => void): string {
  const dir = config.checkpoint_path!;
  const file = saveModelCheckpoint(state.model, dir, state.step);
  saveResumeState(`${file}.resume`, state, position);
  log(`Saved checkpoint ${file}`);
  return file;
}

interface Logging {
  progress: Progress | null;
  log(step: number, metrics: Record<string, number>): void;
  logEval(step: number, metrics: Record<string, unknown>): void;
  close(): void;
}

function openLogs(config: PretrainConfig, dir: string, state: TrainState, options: PretrainOptions): Logging {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'all_config.yaml'), configToYaml(config));
  const jsonl = new MetricsLog(path.join(dir, 'metrics.jsonl'));
  const events = new EventWriter(dir);
  const stream = options.progressStream === undefined ? process.stderr : options.progressStream;
  const progress = stream ? new Progress({ total: state.totalSteps, stream: stream as NodeJS.WriteStream, startStep: state.step }) : null;
  const numParams = state.model.numParameters();
  jsonl.append(state.step, { num_params: numParams });
  return {
    progress,
    log(step, metrics) {
      jsonl.append(step, metrics);
      events.addScalars(metrics, step);
      progress?.update(step, { loss: metrics['train/lm_loss'], exactAccuracy: metrics['train/exact_accuracy'] });
    },
    logEval(step, metrics) {
      const flat: Record<string, number> = {};
      for (const [k, v] of Object.entries(metrics)) {
        if (typeof v === 'number') flat[k] = v;
        else if (v && typeof v === 'object') for (const [k2, v2] of Object.entries(v)) if (typeof v2 === 'number') flat[`${k}/${k2}`] = v2;
      }
      jsonl.append(step, flat);
      events.addScalars(flat, step);
      events.flush();
    },
    close() {
      progress?.finish();
      jsonl.close();
      events.close();
    },
  };
}
