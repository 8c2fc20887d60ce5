// Shared by the optimizer tests: deterministic data, tensors from plain arrays, and the PyTorch
// reference (../shared/reference/trm_ref.py) run through Debian's python3.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Rng } from '../../lib/data/random';
import * as torch from '../../lib/torch';

export const PYTHON = '/usr/bin/python3';
/** dist/test/optim -> the repository root -> ../shared/reference */
export const REFERENCE_DIR = path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'reference');

let pythonOk: boolean | undefined;
/** True when python3 imports torch and the reference exists (checked once). */
export function hasReference(): boolean {
  if (pythonOk === undefined) {
    pythonOk =
      fs.existsSync(PYTHON) &&
      fs.existsSync(path.join(REFERENCE_DIR, 'trm_ref.py')) &&
      spawnSync(PYTHON, ['-c', 'import torch, numpy'], { env: pyEnv() }).status === 0;
  }
  return pythonOk;
}

function pyEnv(): NodeJS.ProcessEnv {
  // libgomp spin-waits by default and starves the other core (SPEC §11)
  return { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: '1', PYTHONPATH: REFERENCE_DIR };
}

/** Runs `code` with `args`; returns stdout, throws with stderr on a non-zero exit. */
export function runPython(code: string, ...args: string[]): string {
  const r = spawnSync(PYTHON, ['-c', code, ...args], { env: pyEnv(), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** Gaussian samples (Box–Muller) from a seeded generator. */
export function gaussian(rng: Rng, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - rng.random();
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.random());
  }
  return out;
}

export const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** A leaf tensor that requires grad, from float32 data cast to `dtype`. */
export function param(data: Float32Array | number[], shape: number[], dtype: torch.DType = 'float32'): torch.Tensor {
  return torch.tidy(() => torch.tensor(Float32Array.from(data)).reshape(shape).to(dtype).detach()).requiresGrad_(true);
}

/** Sets p.grad to `data` (cast to p's dtype); holds no JS handle to it afterwards. */
export function setGrad(p: torch.Tensor, data: Float32Array | number[]): void {
  const g = torch.tidy(() => torch.tensor(Float32Array.from(data)).reshape(p.shape).to(p.dtype).detach());
  p.grad = g;
  g.dispose();
}

export const values = (t: torch.Tensor): number[] => t.toArray();

/** Largest |a − b| over two equal-length arrays (NaN if either has a NaN where the other does not). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d;
  }
  return m;
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(require('os').tmpdir(), prefix));
}
