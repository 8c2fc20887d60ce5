// Autograd: backward, .grad, leaf/grad_fn bookkeeping, grad-mode scopes, and the gradients of
// many ops checked against central finite differences in float64.
import * as assert from 'assert';
import { torch, Tensor } from '../../lib';
import { assertClose, gradcheck } from '../helpers/torch';

const f64 = (data: Parameters<typeof torch.tensor>[0], requiresGrad = false): Tensor =>
  torch.tensor(data, { dtype: 'float64', requiresGrad });
const randn = (...shape: number[]): Tensor => torch.randn(shape, { dtype: 'float64' });
/** Positive values away from 0 (for log, sqrt, pow bases). */
const positive = (...shape: number[]): Tensor => torch.rand(shape, { dtype: 'float64' }).add(0.5);
/** Values at least 0.1 away from 0 (for relu, abs, sign-sensitive ops). */
const awayFromZero = (...shape: number[]): Tensor => {
  const x = randn(...shape);
  return torch.where(x.ge(0), x.add(0.1), x.sub(0.1));
};

describe('torch autograd', () => {
  let live = 0;
  beforeEach(() => {
    live = torch.memory().tensors;
    torch.manualSeed(7);
  });
  afterEach(() => assert.strictEqual(torch.memory().tensors, live, 'a test leaked tensors'));

  describe('backward and .grad', () => {
    it('backward() of a scalar fills .grad of the leaves', () =>
      torch.tidy(() => {
        const x = f64([1, 2, 3], true);
        const w = f64([4, 5, 6]);
        assert.strictEqual(x.grad, null);
        x.mul(w).sum().backward();
        assert.deepStrictEqual(x.grad!.toArray(), [4, 5, 6]);
        assert.strictEqual(w.grad, null, 'a tensor that does not require grad gets none');
        // A second backward accumulates.
        x.square().sum().backward();
        assert.deepStrictEqual(x.grad!.toArray(), [6, 9, 12]);
        // Clearing it.
        x.grad = null;
        assert.strictEqual(x.grad, null);
        x.sum().backward();
        assert.deepStrictEqual(x.grad!.toArray(), [1, 1, 1]);
        // Setting it.
        x.grad = f64([7, 7, 7]);
        assert.deepStrictEqual(x.grad!.toArray(), [7, 7, 7]);
      }));

    it('backward(gradient) of a non-scalar weights each output', () =>
      torch.tidy(() => {
        const x = f64([[1, 2], [3, 4]], true);
        const y = x.mul(x);
        y.backward(f64([[1, 0], [0.5, -1]]));
        assert.deepStrictEqual(x.grad!.tolist(), [[2, 0], [3, -8]]);
      }));

    it('retainGraph allows a second backward; createGraph gives a differentiable gradient', () =>
      torch.tidy(() => {
        const x = f64([2], true);
        const y = x.pow(3).sum();
        y.backward(undefined, { retainGraph: true });
        y.backward();
        assert.deepStrictEqual(x.grad!.toArray(), [24]);
        x.grad = null;
        x.pow(3).sum().backward(undefined, { createGraph: true });
        const g = x.grad!;
        assert.deepStrictEqual(g.toArray(), [12]);
        assert.ok(g.requiresGrad, 'with createGraph the gradient has history');
        x.grad = null;
        g.sum().backward();
        assert.deepStrictEqual(x.grad!.toArray(), [12], 'd²(x³)/dx² = 6x');
      }));

    it('requiresGrad_, isLeaf, gradFn, detach and retainGrad', () =>
      torch.tidy(() => {
        const x = f64([1, 2]);
        assert.strictEqual(x.requiresGrad, false);
        assert.strictEqual(x.isLeaf, true);
        assert.strictEqual(x.requiresGrad_(), x, 'requiresGrad_ returns this');
        assert.strictEqual(x.requiresGrad, true);
        assert.strictEqual(x.gradFn, null);
        const y = x.mul(x);
        const z = y.add(1);
        assert.strictEqual(y.isLeaf, false);
        assert.strictEqual(y.requiresGrad, true);
        assert.strictEqual(y.gradFn, 'MulBackward0');
        assert.strictEqual(z.gradFn, 'AddBackward1');
        assert.strictEqual(z.sum().gradFn, 'SumBackward0');
        assert.strictEqual(x.transpose(0, 0).gradFn, 'TransposeBackward0');
        assert.strictEqual(y.retainGrad(), y);
        z.sum().backward();
        assert.deepStrictEqual(y.grad!.toArray(), [1, 1], 'retainGrad keeps a non-leaf gradient');
        assert.strictEqual(z.grad, null, 'a non-leaf without retainGrad has no .grad');
        assert.deepStrictEqual(x.grad!.toArray(), [2, 4]);
        const d = y.detach();
        assert.strictEqual(d.requiresGrad, false);
        assert.strictEqual(d.isLeaf, true);
        assert.strictEqual(d.gradFn, null);
        assert.ok(d.sharesStorageWith(y), 'detach shares storage');
        x.requiresGrad_(false);
        assert.strictEqual(x.requiresGrad, false);
        assert.strictEqual(x.mul(2).requiresGrad, false);
        // A gradient does not flow through a detached branch.
        const a = f64([3], true);
        a.mul(a.detach()).sum().backward();
        assert.deepStrictEqual(a.grad!.toArray(), [3]);
        const b = f64([1, 2], true);
        b.detach_();
        assert.strictEqual(b.requiresGrad, false);
      }));
  });

  describe('grad-mode scopes', () => {
    it('noGrad records nothing, nests with enableGrad, and restores the mode', () =>
      torch.tidy(() => {
        const x = f64([1, 2], true);
        assert.strictEqual(torch.isGradEnabled(), true);
        const y = torch.noGrad(() => {
          assert.strictEqual(torch.isGradEnabled(), false);
          const inner = torch.enableGrad(() => {
            assert.strictEqual(torch.isGradEnabled(), true);
            return x.mul(2);
          });
          assert.strictEqual(torch.isGradEnabled(), false, 'restored after the inner scope');
          assert.strictEqual(inner.requiresGrad, true);
          return [x.mul(2), torch.noGrad(() => x.add(1))];
        });
        assert.strictEqual(torch.isGradEnabled(), true);
        assert.strictEqual(y[0].requiresGrad, false);
        assert.strictEqual(y[0].gradFn, null);
        assert.strictEqual(y[1].requiresGrad, false);
        // In-place on a leaf that requires grad is allowed under noGrad (an optimizer step).
        torch.noGrad(() => x.sub_(f64([1, 1])));
        assert.deepStrictEqual(x.toArray(), [0, 1]);
        assert.strictEqual(x.isLeaf, true);
      }));

    it('modes are restored after the callback throws', () => {
      assert.throws(() => torch.noGrad(() => { throw new Error('boom'); }), /boom/);
      assert.strictEqual(torch.isGradEnabled(), true);
      torch.noGrad(() => {
        assert.throws(() => torch.enableGrad(() => { throw new Error('inner'); }), /inner/);
        assert.strictEqual(torch.isGradEnabled(), false);
      });
      assert.throws(() => torch.inferenceMode(() => { throw new Error('inf'); }), /inf/);
      assert.strictEqual(torch.isInferenceModeEnabled(), false);
      assert.strictEqual(torch.isGradEnabled(), true);
      torch.setGradEnabled(false);
      assert.strictEqual(torch.isGradEnabled(), false);
      torch.setGradEnabled(true);
    });

    it('inferenceMode: no history, nests, and its tensors cannot join autograd later', () =>
      torch.tidy(() => {
        const x = f64([1, 2], true);
        const y = torch.inferenceMode(() => {
          assert.strictEqual(torch.isInferenceModeEnabled(), true);
          assert.strictEqual(torch.isGradEnabled(), false);
          const inner = torch.inferenceMode(() => torch.isInferenceModeEnabled(), false);
          assert.strictEqual(inner, false, 'inferenceMode(fn, false) turns it off inside');
          assert.strictEqual(torch.isInferenceModeEnabled(), true, 'and restores it');
          return x.mul(3);
        });
        assert.strictEqual(torch.isInferenceModeEnabled(), false);
        assert.strictEqual(y.requiresGrad, false);
        assert.deepStrictEqual(y.toArray(), [3, 6]);
        // An inference tensor saved for backward is refused with a TorchError, not a crash.
        assert.throws(() => x.mul(y), (e: Error) => e instanceof torch.TorchError && /[Ii]nference tensor/.test(e.message));
      }));
  });

  describe('gradients against central finite differences (float64)', () => {
    // [name, f, inputs, which inputs to differentiate (default all)]
    type Case = [string, (...xs: Tensor[]) => Tensor, () => Tensor[], number[]?];
    const cases: Case[] = [
      ['add (broadcast)', (a, b) => a.add(b), () => [randn(2, 3), randn(3)]],
      ['sub with alpha', (a, b) => a.sub(b, 2.5), () => [randn(2, 3), randn(2, 3)]],
      ['mul', (a, b) => a.mul(b), () => [randn(2, 3), randn(2, 1)]],
      ['div', (a, b) => a.div(b), () => [randn(2, 3), positive(2, 3)]],
      ['pow (tensor exponent)', (a, b) => a.pow(b), () => [positive(4), randn(4)]],
      ['pow (scalar exponent)', (a) => a.pow(2.5), () => [positive(5)]],
      ['exp', (a) => a.exp(), () => [randn(5)]],
      ['log', (a) => a.log(), () => [positive(5)]],
      ['sqrt', (a) => a.sqrt(), () => [positive(5)]],
      ['rsqrt', (a) => a.rsqrt(), () => [positive(5)]],
      ['tanh', (a) => a.tanh(), () => [randn(5)]],
      ['sigmoid', (a) => a.sigmoid(), () => [randn(5)]],
      ['silu', (a) => a.silu(), () => [randn(5)]],
      ['relu (away from 0)', (a) => a.relu(), () => [awayFromZero(6)]],
      ['gelu', (a) => a.gelu(), () => [randn(5)]],
      ['softmax', (a) => a.softmax(1), () => [randn(2, 4)]],
      ['logSoftmax', (a) => a.logSoftmax(-1), () => [randn(2, 4)]],
      ['matmul', (a, b) => a.matmul(b), () => [randn(2, 3), randn(3, 4)]],
      ['bmm', (a, b) => a.bmm(b), () => [randn(2, 2, 3), randn(2, 3, 2)]],
      ['sum over a dim', (a) => a.sum(1), () => [randn(3, 4)]],
      ['mean', (a) => a.mean([0, 2], { keepdim: true }), () => [randn(2, 3, 2)]],
      ['amax (distinct values)', (a) => a.amax(1), () => [f64([[0.1, 0.9, -0.3], [2.0, -1.0, 0.5]])]],
      ['var', (a) => a.var(1), () => [randn(2, 5)]],
      ['std', (a) => a.std(null, { correction: 0 }), () => [randn(6)]],
      ['prod', (a) => a.prod(1), () => [awayFromZero(2, 3)]],
      ['gather', (a) => a.gather(1, torch.tensor([[2, 0, 2], [1, 1, 0]])), () => [randn(2, 3)]],
      ['indexSelect', (a) => a.indexSelect(0, torch.tensor([2, 0, 2])), () => [randn(3, 2)]],
      ['index (advanced)', (a) => a.index([torch.tensor([0, 2, 2]), torch.tensor([1, 0, 1])]), () => [randn(3, 2)]],
      ['scatterAdd (src)', (a, s) => a.scatterAdd(1, torch.tensor([[0, 0, 2], [1, 2, 1]]), s), () => [randn(2, 3), randn(2, 3)]],
      ['cat', (a, b) => torch.cat([a, b], 1), () => [randn(2, 2), randn(2, 3)]],
      ['stack', (a, b) => torch.stack([a, b], 1), () => [randn(2, 3), randn(2, 3)]],
      ['transpose + reshape', (a) => a.transpose(0, 1).reshape(-1).mul(torch.arange(6, undefined, 1, { dtype: 'float64' })), () => [randn(2, 3)]],
      ['permute + narrow + select', (a) => a.permute(2, 0, 1).narrow(1, 1, 1).select(0, 1), () => [randn(2, 3, 2)]],
      ['where', (a, b) => torch.where(torch.tensor([true, false, true, false]), a, b), () => [randn(4), randn(4)]],
      ['maskedFill', (a) => a.maskedFill(torch.tensor([false, true, false]), 3), () => [randn(3)]],
      ['linear', (x, w, b) => torch.linear(x, w, b), () => [randn(2, 3), randn(4, 3), randn(4)]],
      ['embedding (weights)', (w) => torch.embedding(torch.tensor([[2, 0], [2, 1]]), w), () => [randn(3, 2)]],
      ['crossEntropy', (x) => torch.crossEntropy(x, torch.tensor([1, 0, 3])), () => [randn(3, 4)]],
      ['crossEntropy with label smoothing', (x) => torch.crossEntropy(x, torch.tensor([1, 0]), { labelSmoothing: 0.1 }), () => [randn(2, 3)]],
      ['binaryCrossEntropyWithLogits', (x, y) => torch.binaryCrossEntropyWithLogits(x, y), () => [randn(2, 3), torch.rand([2, 3], { dtype: 'float64' })], [0]],
      ['mseLoss', (x, y) => torch.mseLoss(x, y), () => [randn(2, 3), randn(2, 3)]],
      ['atan2', (a, b) => a.atan2(b), () => [randn(4), positive(4)]],
      ['square', (a) => a.square(), () => [randn(5)]],
      ['clamp (away from the bounds)', (a) => a.clamp(-0.5, 0.5), () => [f64([-1.2, -0.3, 0.1, 0.45, 0.9])]],
      ['lerp', (a, b, w) => a.lerp(b, w), () => [randn(4), randn(4), torch.rand([4], { dtype: 'float64' })]],
      ['norm', (a) => a.norm(), () => [randn(5)]],
      ['norm over a dim', (a) => a.norm(2, 1), () => [randn(2, 3)]],
      ['cumsum', (a) => a.cumsum(1), () => [randn(2, 4)]],
      ['logsumexp', (a) => a.logsumexp(1), () => [randn(2, 4)]],
      ['layerNorm', (x, w, b) => torch.layerNorm(x, [4], w, b), () => [randn(3, 4), randn(4), randn(4)]],
      ['addcmul', (a, b, c) => a.addcmul(b, c, 0.5), () => [randn(3), randn(3), randn(3)]],
      ['abs (away from 0)', (a) => a.abs(), () => [awayFromZero(5)]],
    ];

    for (const [name, fn, make, wrt] of cases) {
      it(name, () =>
        torch.tidy(() => {
          const inputs = make();
          gradcheck(fn, inputs, { wrt });
        }));
    }

    it('the gradient check itself fails on a wrong gradient', () =>
      torch.tidy(() => {
        // x.detach() in the forward drops a term: analytic 1·x, numeric 2·x.
        const fn = (x: Tensor) => x.mul(x.detach());
        assert.throws(() => gradcheck(fn, [f64([1, 2])]), /gradient of input 0/);
      }));

    it(`covers at least 25 distinct ops (${cases.length} cases)`, () => assert.ok(cases.length >= 25));
  });

  it('gradients of a small MLP step match a hand computation', () =>
    torch.tidy(() => {
      // loss = sum(relu(x·w1ᵀ)·w2ᵀ); with these values every unit is active.
      const x = f64([[1, 2]]);
      const w1 = f64([[0.5, 0.25], [1, 1]], true);
      const w2 = f64([[2, -1]], true);
      const h = torch.linear(x, w1).relu();
      torch.linear(h, w2).sum().backward();
      assertClose(w2.grad!.toArray(), [1, 3]);
      assertClose(w1.grad!.toArray(), [2, 4, -1, -2]);
    }));
});
