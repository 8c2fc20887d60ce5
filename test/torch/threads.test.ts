// The thread default: every core the process may use, OMP_NUM_THREADS when set, and
// OPENBLAS_NUM_THREADS choosing only OpenBLAS's count.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as os from 'os';

function threadsWith(env: NodeJS.ProcessEnv): number {
  const clean = { ...process.env };
  delete clean.OMP_NUM_THREADS;
  delete clean.OPENBLAS_NUM_THREADS;
  const r = spawnSync(process.execPath, ['-e', "console.log(require('./dist/lib').torch.getNumThreads())"], { env: { ...clean, ...env }, encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

describe('threads', () => {
  it('default to every core, follow OMP_NUM_THREADS, and are not pinned by OPENBLAS_NUM_THREADS', () => {
    assert.strictEqual(threadsWith({}), os.availableParallelism());
    assert.strictEqual(threadsWith({ OMP_NUM_THREADS: '1' }), 1);
    assert.strictEqual(threadsWith({ OPENBLAS_NUM_THREADS: '1' }), os.availableParallelism());
  });
});
