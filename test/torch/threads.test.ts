// The thread defaults: every core the process may use, OMP_NUM_THREADS when set, and
// OPENBLAS_NUM_THREADS choosing only OpenBLAS's count; how OpenMP's threads wait, as libgomp
// itself reports it (OMP_DISPLAY_ENV), for us and for the reference the bench runs.
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

/** What libgomp reports it runs with, in a child that loads the package with `env` (OpenMP's
 *  wait settings cleared first), and the environment the bench would give the reference. */
function waitWith(env: NodeJS.ProcessEnv): { policy?: string; spin?: string; reference: NodeJS.ProcessEnv } {
  const clean: NodeJS.ProcessEnv = { ...process.env, OMP_DISPLAY_ENV: 'VERBOSE' };
  delete clean.OMP_WAIT_POLICY;
  delete clean.GOMP_SPINCOUNT;
  const code = "require('./dist/lib'); console.log(JSON.stringify(require('./dist/lib/bench/python').referenceEnv()))";
  const r = spawnSync(process.execPath, ['-e', code], { env: { ...clean, ...env }, encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  const shown = (name: string) => new RegExp(`${name} = '([^']*)'`).exec(r.stdout + r.stderr)?.[1];
  return { policy: shown('OMP_WAIT_POLICY'), spin: shown('GOMP_SPINCOUNT'), reference: JSON.parse(r.stdout.trim().split('\n').pop()!) };
}

describe('threads', () => {
  it('wait passively after a short spin unless OMP_WAIT_POLICY is set; the reference keeps its own', () => {
    const unset = waitWith({});
    assert.deepStrictEqual([unset.policy, unset.spin], ['PASSIVE', '30000']);
    assert.deepStrictEqual([unset.reference.OMP_WAIT_POLICY, unset.reference.GOMP_SPINCOUNT], ['PASSIVE', undefined]);
    const active = waitWith({ OMP_WAIT_POLICY: 'ACTIVE' });
    assert.deepStrictEqual([active.policy, active.spin], ['ACTIVE', '30000000000']); // libgomp's own for ACTIVE
    assert.strictEqual(active.reference.OMP_WAIT_POLICY, 'ACTIVE');
    const spin = waitWith({ GOMP_SPINCOUNT: '5' });
    assert.deepStrictEqual([spin.policy, spin.spin, spin.reference.GOMP_SPINCOUNT], ['PASSIVE', '5', '5']);
  });

  it('default to every core, follow OMP_NUM_THREADS, and are not pinned by OPENBLAS_NUM_THREADS', () => {
    assert.strictEqual(threadsWith({}), os.availableParallelism());
    assert.strictEqual(threadsWith({ OMP_NUM_THREADS: '1' }), 1);
    assert.strictEqual(threadsWith({ OPENBLAS_NUM_THREADS: '1' }), os.availableParallelism());
  });
});
