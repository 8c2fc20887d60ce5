// Checkpoints as the official run writes them: `checkpoint_path/step_N` holds the loss head's
// state dict with keys `_orig_mod.model.inner.…` (what a torch.compile'd model saves), so the
// official code loads ours and ours loads theirs. Everything else a run needs to resume exactly
// (optimizers, schedule step, RNG, ACT carry, data position) goes beside it in `step_N.resume`.
import * as fs from 'fs';
import * as path from 'path';
import * as torch from '../torch';
import type { Module } from '../nn/module';
import { TrainingError } from './errors';

type Tensor = torch.Tensor;

/** The prefix torch.compile adds to every key of the compiled module's state dict. */
export const COMPILED_PREFIX = '_orig_mod.';
const PUZZLE_EMB_KEY = 'model.inner.puzzle_emb.weights';

export function checkpointFile(checkpointPath: string, step: number): string {
  return path.join(checkpointPath, `step_${step}`);
}

/** Writes the model's state dict (official key layout) atomically; returns the file. */
export function saveModelCheckpoint(model: Module, checkpointPath: string, step: number): string {
  fs.mkdirSync(checkpointPath, { recursive: true });
  const sd = model.stateDict(COMPILED_PREFIX.slice(0, -1));
  try {
    const file = checkpointFile(checkpointPath, step);
    torch.save(sd, file);
    return file;
  } finally {
    torch.dispose(sd);
  }
}

/**
 * Loads a checkpoint written by us or by the official code (with or without `_orig_mod.`). As the
 * official `load_checkpoint`: a puzzle-embedding table of another shape is replaced by the mean of
 * the saved rows, so a model can be fine-tuned on a dataset with other puzzles.
 */
export function loadModelCheckpoint(model: Module, file: string, log: (msg: string) => void = () => {}): void {
  if (!fs.existsSync(file)) throw new TrainingError(`checkpoint '${file}' does not exist`);
  let loaded: unknown;
  try {
    loaded = torch.load(file);
  } catch (e) {
    throw new TrainingError(`cannot read checkpoint '${file}': ${(e as Error).message}`);
  }
  if (!(loaded instanceof Map)) {
    torch.dispose(loaded);
    throw new TrainingError(`checkpoint '${file}' does not hold a state dict (found ${typeof loaded})`);
  }
  const sd = new Map<string, Tensor>();
  for (const [k, v] of loaded as Map<string, unknown>) {
    if (!(v instanceof torch.Tensor)) {
      torch.dispose(loaded);
      throw new TrainingError(`checkpoint '${file}': entry '${k}' is not a tensor`);
    }
    sd.set(String(k).startsWith(COMPILED_PREFIX) ? String(k).slice(COMPILED_PREFIX.length) : String(k), v);
  }
  try {
    const own = model.stateDict();
    const expected = own.get(PUZZLE_EMB_KEY)?.shape;
    torch.dispose(own);
    const saved = sd.get(PUZZLE_EMB_KEY);
    // Only the number of rows may differ (another dataset's puzzles); a table of another width
    // belongs to another model, which loadStateDict reports with every mismatching key.
    if (expected && saved && saved.shape.join() !== expected.join() && saved.shape.length === 2 && saved.shape[1] === expected[1]) {
      log(`Resetting puzzle embedding as shape is different. Found [${saved.shape}], Expected [${expected}]`);
      sd.set(PUZZLE_EMB_KEY, torch.tidy(() => saved.mean(0, { keepdim: true }).expand(expected).contiguous()));
      saved.dispose();
    }
    try {
      model.loadStateDict(sd);
    } catch (e) {
      throw new TrainingError(`checkpoint '${file}' does not fit this model: ${oneLine((e as Error).message)}`);
    }
  } finally {
    torch.dispose(sd);
  }
}

/** PyTorch's multi-line load_state_dict report as one line: the first three findings and a count. */
function oneLine(message: string): string {
  const [head, ...details] = message.split('\n').map((l) => l.trim()).filter(Boolean);
  const shown = details.slice(0, 3).join(' ');
  const more = details.length > 3 ? ` (and ${details.length - 3} more)` : '';
  return `${head}${shown ? ` ${shown}` : ''}${more}`;
}

/** The newest `step_N` in a folder, or null. */
export function latestCheckpoint(checkpointPath: string): string | null {
  if (!fs.existsSync(checkpointPath)) return null;
  const steps = fs
    .readdirSync(checkpointPath)
    .map((f) => /^step_(\d+)$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  return steps.length ? checkpointFile(checkpointPath, steps[0]) : null;
}
