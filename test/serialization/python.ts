// Runs Debian's python3 (with PyTorch 1.13) for interop tests; tests skip when it is missing.
import { spawnSync } from 'child_process';
import * as fs from 'fs';

export const PYTHON = '/usr/bin/python3';

let torchOk: boolean | undefined;
/** True when /usr/bin/python3 can import torch (checked once). */
export function hasTorch(): boolean {
  if (torchOk === undefined) {
    torchOk = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { env: pyEnv() }).status === 0;
  }
  return torchOk;
}

function pyEnv(): NodeJS.ProcessEnv {
  // libgomp spin-waits by default and starves the other core (SPEC §11)
  return { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: '1' };
}

/** Run `code` with `args`; returns stdout, throws with stderr on a non-zero exit. */
export function runPython(code: string, ...args: string[]): string {
  const r = spawnSync(PYTHON, ['-c', code, ...args], { env: pyEnv(), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}
