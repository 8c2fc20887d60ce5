// What `step_N` alone does not hold but an exact resume needs, in `step_N.resume` (PyTorch's zip
// format too): the step, each optimizer's state, the RNG state, the persistent ACT carry and the
// data position (iteration, batches consumed in it). Saved from any device, read back onto the
// run's (the RNG state is the CPU generator's: on a GPU the ACT exploration draws are not restored).
import * as fs from 'fs';
import * as torch from '../torch';
import type { ACTCarry } from '../models/recursive_reasoning/act';
import { loadOptimizersStateDict, optimizersStateDict } from '../optim/build';
import type { OptimizerStateDict } from '../optim/optimizer';
import { TrainingError } from './errors';
import type { TrainState } from './train_state';

export interface DataPosition {
  iter: number;
  batchesInIter: number;
}

export function saveResumeState(file: string, state: TrainState, position: DataPosition): void {
  const rng = torch.getRngState();
  try {
    torch.save(
      {
        version: 1,
        step: state.step,
        iter: position.iter,
        batches_in_iter: position.batchesInIter,
        optimizers: optimizersStateDict(state.optim),
        rng_state: rng,
        carry: state.carry,
        ema: state.ema ? state.ema.stateDict() : null,
      },
      file
    );
  } finally {
    rng.dispose();
  }
}

/** Restores the state saved beside `checkpoint` (`<checkpoint>.resume`), model weights included. */
export function loadResumeState(checkpoint: string, state: TrainState, loadModel: (file: string) => void): DataPosition {
  const file = checkpoint.endsWith('.resume') ? checkpoint : `${checkpoint}.resume`;
  const weights = file.slice(0, -'.resume'.length);
  if (!fs.existsSync(file)) throw new TrainingError(`cannot resume: '${file}' does not exist (resume takes a checkpoint written by trm-train, e.g. checkpoints/<project>/<run>/step_N)`);
  loadModel(weights);
  const saved = toPlain(torch.load(file)) as Record<string, unknown>;
  if (saved.version !== 1) throw new TrainingError(`cannot resume from '${file}': unknown format version ${String(saved.version)}`);
  loadOptimizersStateDict(state.optim, saved.optimizers as OptimizerStateDict[]);
  state.step = saved.step as number;
  torch.setRngState(saved.rng_state as torch.Tensor);
  (saved.rng_state as torch.Tensor).dispose();
  if (state.carry) torch.dispose(state.carry);
  state.carry = (onDevice(saved.carry, state.device) as ACTCarry | null) ?? null;
  if (state.ema && saved.ema) {
    const shadows = onDevice(saved.ema, state.device) as Record<string, torch.Tensor>;
    state.ema.loadStateDict(shadows);
    torch.dispose(shadows);
  }
  return { iter: saved.iter as number, batchesInIter: saved.batches_in_iter as number };
}

/** `v` with every tensor in it moved to `device` (the loaded host copies freed). */
function onDevice(v: unknown, device: string): unknown {
  if (v instanceof torch.Tensor) {
    const moved = v.to(device);
    if (moved !== v) v.dispose();
    return moved;
  }
  if (Array.isArray(v)) return v.map((x) => onDevice(x, device));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, onDevice(x, device)]));
  return v;
}

/** torch.load gives Maps for dicts; the state here is plain objects with string keys. */
function toPlain(v: unknown): unknown {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), toPlain(x)]));
  if (Array.isArray(v)) return v.map(toPlain);
  return v;
}
