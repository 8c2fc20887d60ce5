import { strict as assert } from 'assert';
import { EMAHelper } from '../../lib/optim';
import * as torch from '../../lib/torch';
import { param, values } from './helpers';

function model() {
  return new Map<string, torch.Tensor>([
    ['inner.w', param([1, 2, 3, 4], [2, 2])],
    ['inner.b', param([0.5], [1])],
    ['inner.frozen', torch.tensor([7, 7])], // no grad: not tracked, as the official helper
  ]);
}

/** p ← p + delta, in place, outside autograd (a stand-in for an optimizer step). */
const nudge = (p: torch.Tensor, delta: number) => torch.noGrad(() => torch.add_(p, delta));

describe('EMAHelper', () => {
  it('registers copies of the trainable parameters only', () => {
    const m = model();
    const ema = new EMAHelper(0.9);
    ema.register(m);
    assert.deepEqual([...ema.shadow.keys()], ['inner.w', 'inner.b']);
    nudge(m.get('inner.w')!, 1);
    assert.deepEqual(values(ema.shadow.get('inner.w')!), [1, 2, 3, 4], 'a copy, not a view');
    ema.dispose();
  });

  it('update: shadow = (1 − mu)·param + mu·shadow, in float32 as torch computes it', () => {
    const m = model();
    const mu = 0.999;
    const ema = new EMAHelper(mu);
    ema.register(m);
    let shadow = values(m.get('inner.w')!);
    for (let step = 0; step < 3; step++) {
      nudge(m.get('inner.w')!, 0.25);
      const p = values(m.get('inner.w')!);
      shadow = shadow.map((s, i) => Math.fround(Math.fround(p[i] * Math.fround(1 - mu)) + Math.fround(s * Math.fround(mu))));
      ema.update(m);
    }
    assert.deepEqual(values(ema.shadow.get('inner.w')!), shadow);
    assert.ok(shadow[0] > 1 && shadow[0] < 1.01);
  });

  it('swapIn puts the averages into the parameters and restore() puts the trained values back', () => {
    const m = model();
    const ema = new EMAHelper(0.5);
    ema.register(m);
    nudge(m.get('inner.w')!, 2);
    ema.update(m); // shadow = p0 + 1
    const swap = ema.swapIn(m);
    assert.deepEqual(values(m.get('inner.w')!), [2, 3, 4, 5]);
    assert.ok(m.get('inner.w')!.requiresGrad, 'still a trainable leaf');
    swap.restore();
    swap.restore(); // idempotent
    assert.deepEqual(values(m.get('inner.w')!), [3, 4, 5, 6]);
    const during = ema.withEma(m, () => values(m.get('inner.b')!));
    assert.deepEqual(during, [0.5 * 0.5 + 0.5 * 0.5]);
    assert.throws(() => ema.withEma(m, () => { throw new Error('eval failed'); }), /eval failed/);
    assert.deepEqual(values(m.get('inner.w')!), [3, 4, 5, 6], 'restored after a throw too');
  });

  it('withEma restores after an async evaluation', async () => {
    const m = model();
    const ema = new EMAHelper(0);
    ema.register(m);
    nudge(m.get('inner.w')!, 1);
    const seen = await ema.withEma(m, async () => {
      await new Promise((r) => setImmediate(r));
      return values(m.get('inner.w')!);
    });
    assert.deepEqual(seen, [1, 2, 3, 4]);
    assert.deepEqual(values(m.get('inner.w')!), [2, 3, 4, 5]);
  });

  it('state dict round trip, and the errors of a mismatched model', () => {
    const m = model();
    const ema = new EMAHelper(0.9);
    ema.register(m);
    nudge(m.get('inner.w')!, 1);
    ema.update(m);
    const saved = Object.fromEntries(Object.entries(ema.stateDict()).map(([k, v]) => [k, torch.clone(v)]));
    const other = new EMAHelper(0.9);
    other.loadStateDict(saved);
    torch.dispose(saved);
    nudge(m.get('inner.w')!, 1);
    ema.update(m);
    other.update(m);
    assert.deepEqual(values(other.shadow.get('inner.w')!), values(ema.shadow.get('inner.w')!));
    const extra = new Map([...m, ['inner.new', param([1], [1])]]);
    assert.throws(() => ema.update(extra), /'inner.new' was not registered/);
    const reshaped = new Map([...m, ['inner.w', param([1, 2], [2])]]);
    assert.throws(() => ema.swapIn(reshaped), /has shape \[2\] but its shadow has \[2,2\]/);
    assert.throws(() => new EMAHelper(1.5), /mu/);
  });

  it('update and swaps do not leak tensors', () => {
    const m = model();
    const ema = new EMAHelper(0.99);
    ema.register(m);
    const before = torch.memory().tensors;
    for (let i = 0; i < 20; i++) ema.update(m);
    ema.swapIn(m).restore();
    ema.withEma(m, () => undefined);
    assert.equal(torch.memory().tensors, before);
    ema.dispose();
    assert.equal(torch.memory().tensors, before - 2);
  });
});
