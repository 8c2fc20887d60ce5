// Runs a Python snippet with Debian's PyTorch (/usr/bin/python3) for side-by-side figures.
import { spawnSync } from 'child_process';
import { callerThreadWait } from '../torch/native';

export const PYTHON = process.env.TRM_PYTHON ?? '/usr/bin/python3';

/** The reference's best thread settings, unless the caller set them: OpenMP's passive wait with
 *  no spinning (OpenMP's default spinning starved its OpenBLAS threads, SPEC §11; our short spin
 *  measured the same as none there), whatever this process set for its own (threadWaitDefaults). */
export function referenceEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: callerThreadWait.OMP_WAIT_POLICY ?? 'PASSIVE' };
  if (callerThreadWait.GOMP_SPINCOUNT === undefined) delete env.GOMP_SPINCOUNT;
  return env;
}

/** Runs `code` and returns its stdout, or null (with the reason) when Python or torch is missing. */
export function runPython(code: string, timeoutMs = 600_000): { out: string | null; error?: string } {
  const r = spawnSync(PYTHON, ['-c', code], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: referenceEnv(),
  });
  if (r.error) return { out: null, error: r.error.message };
  if (r.status !== 0) return { out: null, error: r.stderr.trim().split('\n').pop() };
  return { out: r.stdout };
}
