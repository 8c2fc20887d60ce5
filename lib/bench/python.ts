// Runs a Python snippet with Debian's PyTorch (/usr/bin/python3) for side-by-side figures.
import { spawnSync } from 'child_process';

export const PYTHON = process.env.TRM_PYTHON ?? '/usr/bin/python3';

/** Runs `code` and returns its stdout, or null (with the reason) when Python or torch is missing. */
export function runPython(code: string, timeoutMs = 600_000): { out: string | null; error?: string } {
  const r = spawnSync(PYTHON, ['-c', code], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' },
  });
  if (r.error) return { out: null, error: r.error.message };
  if (r.status !== 0) return { out: null, error: r.stderr.trim().split('\n').pop() };
  return { out: r.stdout };
}
