// Token losses and the ACT loss head on a hand-worked example (stub model with fixed outputs).
import * as assert from 'assert';
import * as torch from '../../lib/torch';
import { Module } from '../../lib/nn';
import { ACTLossHead, ACTModel, softmaxCrossEntropy, stablemaxCrossEntropy } from '../../lib/models';
import type { ACTCarry, ACTOutputs } from '../../lib/models';
import { build, tinyBatch } from './helpers';

type Tensor = torch.Tensor;

const close = (a: number, b: number, tol = 1e-6, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
const softplus = (x: number) => Math.log1p(Math.exp(x));

/** An ACT model stand-in whose step returns fixed outputs and a fixed carry. */
class Stub extends Module {
  constructor(private readonly carry: () => ACTCarry, private readonly outputs: () => ACTOutputs) {
    super();
  }
  initialCarry(): ACTCarry {
    return this.carry();
  }
  forward(): { carry: ACTCarry; outputs: ACTOutputs } {
    return { carry: this.carry(), outputs: this.outputs() };
  }
}

describe('losses', () => {
  it('stablemax_cross_entropy: −log(s(x_y) / Σ s(x)) in float64, 0 at ignored labels', () => {
    const logits = torch.tensor([[[1, -1, 0.5], [2, 0, -3]]], { dtype: 'float32' });
    const labels = torch.tensor([[0, -100]], { dtype: 'int32' });
    const l = stablemaxCrossEntropy(logits, labels);
    assert.strictEqual(l.dtype, 'float64');
    const [a, b] = l.toArray();
    close(a, -Math.log(2 / (2 + 0.5 + 1.5)), 1e-12);
    assert.ok(b === 0);
    const withMask = stablemaxCrossEntropy(logits, torch.tensor([[2, 2]], { dtype: 'int32' }), -100, torch.tensor([[false, true]]));
    assert.ok(withMask.toArray()[0] === 0);
    close(withMask.toArray()[1], -Math.log((1 / 4) / (3 + 1 + 1 / 4)), 1e-12);
  });

  it('stablemax_cross_entropy: a finite gradient at a logit of exactly 1 (frequent in bfloat16)', () => {
    // s(x) for x ≥ 0 is x + 1; the unused branch 1 / (1 − x + ε) must stay finite at x = 1, or
    // where()'s zero gradient times its infinite one makes NaN.
    const logits = torch.tensor([[1, 0.5, -2]], { dtype: 'bfloat16', requiresGrad: true });
    stablemaxCrossEntropy(logits, torch.tensor([1], { dtype: 'int32' })).sum().backward();
    const g = logits.grad!.toArray();
    // d/dx_j of −log s(x_1) + log Σ s: s'(x_j) / Σ s − [j = 1] s'(x_1) / s(x_1); Σ s = 2 + 1.5 + 1/3.
    const sum = 2 + 1.5 + 1 / 3;
    const expected = [1 / sum, 1 / sum - 1 / 1.5, 1 / 9 / sum];
    g.forEach((v, i) => close(v, expected[i], 1e-2, `grad ${i}`));
  });

  it('softmax_cross_entropy: ordinary cross-entropy in float32, 0 at ignored labels', () => {
    const l = softmaxCrossEntropy(torch.tensor([[[1, 2, 3], [0, 0, 0]]], { dtype: 'float32' }), torch.tensor([[2, -100]])).toArray();
    close(l[0], -Math.log(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3))));
    assert.ok(l[1] === 0);
  });

  describe('ACTLossHead', () => {
    const carry = (): ACTCarry => ({
      inner_carry: {},
      steps: torch.tensor([2, 3, 1], { dtype: 'int32' }),
      halted: torch.tensor([true, true, true]),
      current_data: { labels: torch.tensor([[0, 1], [2, -100], [-100, -100]], { dtype: 'int32' }) },
    });
    const logits = torch.keep(torch.tensor([[[5, 0, 0], [0, 5, 0]], [[5, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0]]], { dtype: 'float32' }).requiresGrad_());
    const outputs = (target?: number[]): ACTOutputs => ({
      logits: logits.mul(1),
      q_halt_logits: torch.tensor([1, 0.5, -1]),
      q_continue_logits: torch.tensor([0, 0, 2], { dtype: 'float32' }),
      ...(target ? { target_q_continue: torch.tensor(target) } : {}),
    });
    const lmExpected = -Math.log(6 / 8) + -Math.log(1 / 8); // row 0: (2 tokens at 6/8) / 2; row 1: 1 token at 1/8
    const qHaltExpected = softplus(-1) + softplus(0.5) + softplus(1); // targets: seq correct [1, 0, 1]

    it('computes lm_loss, q_halt_loss, the loss and the official metrics', () => {
      const head = new ACTLossHead(new Stub(carry, () => outputs()) as unknown as ACTModel, 'stablemax_cross_entropy');
      const r = head.forward(head.initialCarry({}), {}, { return_keys: ['preds', 'logits', 'nonexistent'] });
      const m = Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, v.item()]));
      assert.deepStrictEqual({ count: m.count, exact_accuracy: m.exact_accuracy, q_halt_accuracy: m.q_halt_accuracy, steps: m.steps }, { count: 2, exact_accuracy: 1, q_halt_accuracy: 1, steps: 5 });
      close(m.accuracy, 1);
      close(m.lm_loss, lmExpected, 1e-9, 'lm_loss');
      close(m.q_halt_loss, qHaltExpected, 1e-6, 'q_halt_loss');
      assert.strictEqual(m.q_continue_loss, undefined);
      close(r.loss.item(), lmExpected + 0.5 * qHaltExpected, 1e-6, 'loss');
      assert.deepStrictEqual(Object.keys(r.outputs), ['preds', 'logits']);
      assert.deepStrictEqual(r.outputs.preds!.tolist(), [[0, 1], [0, 0], [0, 0]]);
      assert.strictEqual(r.all_halted.item(), 1);
      r.loss.backward();
      assert.ok(logits.grad!.abs().sum().item() > 0, 'the loss reaches the logits');
      logits.grad = null;
    });

    it('adds the q_continue BCE when the model returns target_q_continue', () => {
      const head = new ACTLossHead(new Stub(carry, () => outputs([0.2, 0.9, 0.5])) as unknown as ACTModel, 'softmax_cross_entropy');
      const r = head.forward(head.initialCarry({}), {});
      const bce = (x: number, y: number) => y * softplus(-x) + (1 - y) * softplus(x);
      const qc = bce(0, 0.2) + bce(0, 0.9) + bce(2, 0.5);
      close(r.metrics.q_continue_loss!.item(), qc, 1e-6, 'q_continue_loss');
      close(r.loss.item(), r.metrics.lm_loss.item() + 0.5 * (qHaltExpected + qc), 1e-5, 'loss');
    });

    it('only counts halted rows in the metrics', () => {
      const notHalted = (): ACTCarry => ({ ...carry(), halted: torch.tensor([false, true, true]) });
      const head = new ACTLossHead(new Stub(notHalted, () => outputs()) as unknown as ACTModel, 'stablemax_cross_entropy');
      const r = head.forward(head.initialCarry({}), {});
      assert.deepStrictEqual([r.metrics.count.item(), r.metrics.exact_accuracy.item(), r.metrics.steps.item(), r.all_halted.item()], [1, 0, 3, 0]);
      close(r.metrics.lm_loss.item(), lmExpected, 1e-9, 'lm_loss still sums every row');
    });

    it('refuses an unknown loss type', () => {
      assert.throws(() => new ACTLossHead(new Stub(carry, () => outputs()) as unknown as ACTModel, 'l2' as never), /stablemax_cross_entropy, softmax_cross_entropy/);
    });

    it('state-dict keys of a model in the head carry the official `model.` prefix', () => {
      const m = build('trm');
      const head = new ACTLossHead(m, 'stablemax_cross_entropy');
      const sd = head.stateDict();
      assert.ok([...sd.keys()].every((k) => k.startsWith('model.inner.')));
      assert.ok(sd.has('model.inner.L_level.layers.0.self_attn.qkv_proj.weight'));
      torch.dispose([sd, tinyBatch(0)]);
      head.dispose();
    });
  });
});

export type { Tensor };
