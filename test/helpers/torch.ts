// Helpers for the tensor tests: Debian's Python PyTorch as an oracle, value comparison, and a
// central-finite-difference gradient check in float64.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { torch, Tensor } from '../../lib';

export const PYTHON = '/usr/bin/python3';

let torchOk: boolean | undefined;
/** True when /usr/bin/python3 imports torch (checked once; tests that need it skip otherwise). */
export function pythonHasTorch(): boolean {
  if (torchOk === undefined) {
    torchOk = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { env: pyEnv() }).status === 0;
  }
  return torchOk;
}

function pyEnv(): NodeJS.ProcessEnv {
  // OpenMP spin-waiting starves the other core (SPEC §11).
  return { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: '1' };
}

/** Runs `code` (torch imported) and returns its stdout; throws with stderr on failure. */
export function runTorchPython(code: string): string {
  const r = spawnSync(PYTHON, ['-c', `import torch, json, sys\n${code}`], { env: pyEnv(), encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** Asserts elementwise |a - b| <= atol + rtol·|b| and equal lengths. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-6, rtol = 1e-5, what = ''): void {
  assert.strictEqual(actual.length, expected.length, `${what} length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what} element ${i}: ${a} != ${e} (atol ${atol}, rtol ${rtol})`);
    }
  }
}

/** Values of a tensor as numbers, asserting its shape first. */
export function values(t: Tensor, shape?: number[]): number[] {
  if (shape) assert.deepStrictEqual(t.shape, shape);
  return t.toArray();
}

/**
 * Checks d(sum(f(inputs) · w))/d(input) from backward() against central differences, in float64.
 * `w` is a fixed random weight so every output element matters. Returns the largest error seen.
 */
export function gradcheck(
  f: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  { eps = 1e-6, atol = 1e-5, rtol = 1e-4, wrt }: { eps?: number; atol?: number; rtol?: number; wrt?: number[] } = {}
): number {
  return torch.tidy(() => {
    const which = wrt ?? inputs.map((_, i) => i);
    for (const i of which) assert.strictEqual(inputs[i].dtype, 'float64', `gradcheck input ${i} must be float64`);
    const leaves = inputs.map((x, i) => (which.includes(i) ? x.detach().requiresGrad_(true) : x));
    const out = f(...leaves);
    const weight = torch.linspace(0.5, 1.5, out.numel(), { dtype: 'float64' }).reshape(...out.shape);
    const objective = (o: Tensor): number => o.mul(weight).sum().item();
    out.mul(weight).sum().backward();
    let worst = 0;
    for (const i of which) {
      const grad = leaves[i].grad;
      assert.ok(grad, `input ${i} got no gradient`);
      const analytic = grad.toArray();
      const base = inputs[i].detach().contiguous().toTypedArray() as Float64Array;
      const numeric: number[] = [];
      for (let k = 0; k < base.length; k++) {
        const at = (delta: number): number =>
          torch.tidy(() => {
            const data = Float64Array.from(base);
            data[k] += delta;
            const moved = torch.fromTypedArray(data, inputs[i].shape);
            const args = inputs.map((x, j) => (j === i ? moved : x.detach()));
            return torch.noGrad(() => objective(f(...args)));
          });
        numeric.push((at(eps) - at(-eps)) / (2 * eps));
      }
      assertClose(analytic, numeric, atol, rtol, `gradient of input ${i}`);
      for (let k = 0; k < numeric.length; k++) worst = Math.max(worst, Math.abs(analytic[k] - numeric[k]));
    }
    return worst;
  });
}
