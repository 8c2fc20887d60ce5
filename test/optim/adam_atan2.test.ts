import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Rng } from '../../lib/data/random';
import { AdamATan2, computeLr } from '../../lib/optim';
import * as torch from '../../lib/torch';
import { native } from '../../lib/torch/native';
import { gaussian, hasReference, maxAbsDiff, numel, param, runPython, setGrad, tmpDir, values } from './helpers';

/** The update in float64, element by element, straight from SPEC §6. */
function adamByHand(p: number[], g: number[], m: number[], v: number[], t: number, lr: number, b1: number, b2: number, wd: number): void {
  for (let i = 0; i < p.length; i++) {
    p[i] *= 1 - lr * wd;
    m[i] = m[i] + (1 - b1) * (g[i] - m[i]);
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    p[i] -= lr * Math.atan2(m[i] / (1 - b1 ** t), Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t));
  }
}

const stateOf = (opt: AdamATan2, i: number) => opt.stateDict().state[i];

describe('AdamATan2', () => {
  for (const [dtype, tol] of [['float32', 2e-6], ['float64', 1e-13]] as const) {
    it(`follows the formula in float64 by hand for 4 steps (${dtype} parameters${dtype === 'float64' ? ', ATen path' : ', fused kernel'})`, () => {
      const rng = new Rng(1);
      const p0 = Array.from(gaussian(rng, 21, 0.5));
      const p = param(p0, [3, 7], dtype);
      const opt = new AdamATan2([p], { lr: 0.01, betas: [0.9, 0.95], weightDecay: 0.1 });
      const ref = { p: values(p), m: p0.map(() => 0), v: p0.map(() => 0) };
      for (let t = 1; t <= 4; t++) {
        const g = Array.from(gaussian(rng, 21, t === 2 ? 1e-3 : 1)).map((x, i) => (i === 5 ? 0 : x));
        setGrad(p, g);
        adamByHand(ref.p, g.map((x) => Math.fround(x)), ref.m, ref.v, t, 0.01, 0.9, 0.95, 0.1);
        opt.step();
        opt.zeroGrad();
      }
      assert.ok(maxAbsDiff(values(p), ref.p) < tol, `params differ by ${maxAbsDiff(values(p), ref.p)}`);
      assert.ok(maxAbsDiff(values(stateOf(opt, 0).exp_avg as torch.Tensor), ref.m) < tol);
      assert.ok(maxAbsDiff(values(stateOf(opt, 0).exp_avg_sq as torch.Tensor), ref.v) < tol);
      assert.equal(stateOf(opt, 0).step, 4);
      // the untouched element (grad always 0 at index 5 after step 1 mixes) still moved by decay only when m = 0
      opt.dispose();
    });
  }

  it('first step is lr·atan2(g, |g|) = ±lr·π/4 on top of the decay, 0 where g = 0', () => {
    const p = param([1, 1, 1], [3]);
    setGrad(p, [2, -3, 0]);
    const opt = new AdamATan2([p], { lr: 0.1, betas: [0.9, 0.99], weightDecay: 0 });
    opt.step();
    const got = values(p);
    assert.ok(Math.abs(got[0] - (1 - 0.1 * Math.PI / 4)) < 1e-6);
    assert.ok(Math.abs(got[1] - (1 + 0.1 * Math.PI / 4)) < 1e-6);
    assert.equal(got[2], 1);
  });

  it('gives every element the same bits in the vector body, the scalar tail and across threads', () => {
    // 8-lane body + 3-element tail with repeated inputs, and a large tensor split across threads.
    const rng = new Rng(7);
    const base = Array.from(gaussian(rng, 8));
    const grads = Array.from(gaussian(rng, 8, 0.1));
    const small = param([...base, ...base.slice(0, 3)], [11]);
    const big = param(Array.from({ length: 70_000 }, (_, i) => base[i % 8]), [70_000]);
    for (const dtype of ['float32', 'bfloat16'] as const) {
      const a = param(values(small), [11], dtype);
      const b = param(values(big), [70_000], dtype);
      const opt = new AdamATan2([a, b], { lr: 0.01, betas: [0.9, 0.95], weightDecay: 0.1 });
      for (let t = 0; t < 3; t++) {
        setGrad(a, [...grads, ...grads.slice(0, 3)]);
        setGrad(b, Array.from({ length: 70_000 }, (_, i) => grads[i % 8]));
        opt.step();
      }
      const va = values(a);
      const vb = values(b);
      for (let i = 0; i < 11; i++) assert.equal(va[i], va[i % 8], `${dtype} tail element ${i}`);
      for (let i = 0; i < 70_000; i += 997) assert.equal(vb[i], va[i % 8], `${dtype} element ${i} of the large tensor`);
      opt.dispose();
    }
  });

  it('fused kernel and eager ATen ops agree (float32 within an ulp or so, bfloat16 within its rounding)', () => {
    const rng = new Rng(3);
    const p0 = gaussian(rng, 300, 0.05);
    for (const [dtype, tol] of [['float32', 1e-6], ['bfloat16', 6e-3]] as const) {
      const pf = param(p0, [300], dtype);
      const pe = param(p0, [300], dtype);
      const fused = new AdamATan2([pf], { lr: 1e-2, betas: [0.9, 0.95], weightDecay: 0.1, fused: true });
      const eager = new AdamATan2([pe], { lr: 1e-2, betas: [0.9, 0.95], weightDecay: 0.1, fused: false });
      for (let t = 0; t < 10; t++) {
        const g = gaussian(rng, 300);
        setGrad(pf, g);
        setGrad(pe, g);
        fused.step();
        eager.step();
      }
      const d = maxAbsDiff(values(pf), values(pe));
      assert.ok(d < tol, `${dtype}: fused and eager differ by ${d}`);
      assert.ok(maxAbsDiff(values(pf), p0) > 0.05, 'parameters moved');
    }
  });

  it('keeps states in the parameter dtype by default, float32 on request', () => {
    const p = param([1, 2, 3], [3], 'bfloat16');
    setGrad(p, [1, 1, 1]);
    const a = new AdamATan2([p], { lr: 0.01 });
    a.step();
    assert.equal((stateOf(a, 0).exp_avg as torch.Tensor).dtype, 'bfloat16');
    const q = param([1, 2, 3], [3], 'bfloat16');
    setGrad(q, [1, 1, 1]);
    const b = new AdamATan2([q], { lr: 0.01, stateDtype: 'float32' });
    b.step();
    assert.equal((stateOf(b, 0).exp_avg_sq as torch.Tensor).dtype, 'float32');
    assert.deepEqual(values(p), values(q));
  });

  it('skips parameters without a gradient and counts steps per parameter', () => {
    const a = param([1, 2], [2]);
    const b = param([3, 4], [2]);
    const opt = new AdamATan2([a, b], { lr: 0.1, weightDecay: 0.5 });
    setGrad(a, [1, -1]);
    opt.step();
    assert.deepEqual(values(b), [3, 4]);
    setGrad(a, [1, -1]);
    setGrad(b, [1, 1]);
    opt.step();
    assert.equal(stateOf(opt, 0).step, 2);
    assert.equal(stateOf(opt, 1).step, 1);
    assert.ok(Math.abs(values(b)[0] - (3 * 0.95 - 0.1 * Math.PI / 4)) < 1e-6, 'b took its first step (t = 1 bias correction)');
    opt.zeroGrad();
    assert.equal(a.grad, null);
  });

  it('propagates NaN gradients into the parameters', () => {
    const p = param([1, 2], [2]);
    setGrad(p, [NaN, 1]);
    new AdamATan2([p], { lr: 0.1 }).step();
    const v = values(p);
    assert.ok(Number.isNaN(v[0]));
    assert.ok(Number.isFinite(v[1]));
  });

  it('bumps version counters: a graph that saved a parameter refuses to backward after a step', () => {
    const p = param([1, 2, 3], [3]);
    const y = torch.sum(torch.mul(p, p));
    setGrad(p, [1, 1, 1]);
    new AdamATan2([p], { lr: 0.1 }).step();
    assert.throws(() => y.backward(), /modified by an inplace operation/);
  });

  it('rejects bad hyperparameters and bad kernel inputs with clear errors, changing nothing', () => {
    const p = param([1, 2, 3], [3]);
    assert.throws(() => new AdamATan2([p], { lr: -1 }), /lr of group 0/);
    assert.throws(() => new AdamATan2([p], { betas: [0.9, 1] }), /betas\[1\]/);
    assert.throws(() => new AdamATan2([p], { weightDecay: NaN }), /weightDecay/);
    assert.throws(() => new AdamATan2([p, p]), /more than one place/);
    assert.throws(() => new AdamATan2([]), /non-empty/);
    const g = torch.ones([3]);
    const m = torch.zeros([3]);
    const v = torch.zeros([3]);
    const kernel = native.adamAtan2 as (...a: unknown[]) => void;
    assert.throws(() => kernel([p.handle], [g.handle], [m.handle], [], 1, 0.1, 0.9, 0.95, 0), /equal list lengths/);
    assert.throws(() => kernel([p.handle], [torch.ones([4]).handle], [m.handle], [v.handle], 1, 0.1, 0.9, 0.95, 0), /grads\[0\] is Tensor\[4\]/);
    assert.throws(() => kernel([p.handle], [g.handle], [m.handle], [v.handle], 0, 0.1, 0.9, 0.95, 0), /step >= 1/);
    assert.throws(() => kernel([p.handle], [g.handle], [p.handle], [v.handle], 1, 0.1, 0.9, 0.95, 0), /appears twice/);
    assert.throws(() => kernel([p.handle], [g.handle], [torch.zeros([3], { dtype: 'int64' }).handle], [v.handle], 1, 0.1, 0.9, 0.95, 0), /states of params\[0\]/);
    assert.throws(() => kernel([p.handle], [g.handle], [m.handle], [-1], 1, 0.1, 0.9, 0.95, 0), /after dispose/);
    const wide = param(new Float32Array(12), [3, 4]);
    const strided = torch.transpose(wide, 0, 1);
    const z = torch.zeros([4, 3]);
    assert.throws(() => kernel([strided.handle], [z.handle], [torch.zeros([4, 3]).handle], [torch.zeros([4, 3]).handle], 1, 0.1, 0.9, 0.95, 0), /must be contiguous/);
    // A bad entry anywhere in the list leaves the good ones untouched.
    assert.throws(() => kernel([p.handle, wide.handle], [g.handle, g.handle], [m.handle, m.handle], [v.handle, v.handle], 1, 0.1, 0.9, 0.95, 0), torch.TorchError);
    assert.deepEqual(values(p), [1, 2, 3]);
    assert.deepEqual(values(m), [0, 0, 0]);
  });

  it('state dict round trip: a restored optimizer continues with identical updates', () => {
    const rng = new Rng(11);
    const shapes = [[4, 5], [9]];
    const grads = Array.from({ length: 10 }, () => shapes.map((s) => gaussian(rng, numel(s))));
    const ps = shapes.map((s) => param(gaussian(rng, numel(s), 0.3), s));
    const opt = new AdamATan2(ps, { lr: 3e-3, betas: [0.9, 0.95], weightDecay: 0.1 });
    const run = (o: AdamATan2, params: torch.Tensor[], from: number, to: number) => {
      for (let t = from; t < to; t++) {
        params.forEach((p, i) => (i === 1 && t === 2 ? undefined : setGrad(p, grads[t][i])));
        o.setLr(3e-3 * (1 + t));
        o.step();
        o.zeroGrad();
      }
    };
    run(opt, ps, 0, 5);
    // Snapshot (clones, as a checkpoint writer would), then a fresh optimizer over copied params.
    const sd = opt.stateDict();
    const saved = {
      state: Object.fromEntries(Object.entries(sd.state).map(([k, s]) => [k, Object.fromEntries(Object.entries(s).map(([n, v]) => [n, typeof v === 'number' ? v : torch.clone(v)]))])),
      paramGroups: JSON.parse(JSON.stringify(sd.paramGroups)),
    };
    assert.deepEqual(Object.keys(saved.state[0]).sort(), ['exp_avg', 'exp_avg_sq', 'step']);
    assert.equal(saved.state[1].step, 4);
    const copies = ps.map((p) => torch.clone(p).detach().requiresGrad_(true));
    const resumed = new AdamATan2(copies, { lr: 1, betas: [0.5, 0.5], weightDecay: 0 });
    resumed.loadStateDict(saved);
    torch.dispose(saved.state);
    assert.deepEqual(resumed.paramGroups[0].betas, [0.9, 0.95]);
    run(opt, ps, 5, 10);
    run(resumed, copies, 5, 10);
    ps.forEach((p, i) => assert.deepEqual(values(copies[i]), values(p)));
    assert.throws(() => resumed.loadStateDict({ state: {}, paramGroups: [] }), /1 parameter groups|0 parameter groups/);
    assert.throws(
      () => resumed.loadStateDict({ state: { 0: { step: 1, exp_avg: torch.zeros([3]), exp_avg_sq: torch.zeros([3]) } }, paramGroups: [{ ...sd.paramGroups[0] }] }),
      /shape \[3\]/
    );
  });

  it('steps without leaking tensor handles (fused and eager)', () => {
    for (const fused of [true, false]) {
      const ps = [param([1, 2, 3], [3]), param([4, 5], [2], 'bfloat16')];
      const opt = new AdamATan2(ps, { lr: 0.1, fused });
      ps.forEach((p) => setGrad(p, p.shape[0] === 3 ? [1, 2, 3] : [1, 1]));
      opt.step(); // creates the state
      const before = torch.memory().tensors;
      for (let i = 0; i < 10; i++) {
        ps.forEach((p) => setGrad(p, p.shape[0] === 3 ? [1, 2, 3] : [1, 1]));
        opt.step();
        opt.zeroGrad();
      }
      assert.equal(torch.memory().tensors, before, fused ? 'fused' : 'eager');
      opt.dispose();
    }
  });

  it('creates its state outside the caller\'s tidy scope and frees it on dispose()', () => {
    const p = param([1, 2, 3], [3]);
    const opt = new AdamATan2([p], { lr: 0.1 });
    const before = torch.memory().tensors;
    torch.tidy(() => {
      setGrad(p, [1, 2, 3]);
      opt.step();
    });
    assert.equal(torch.memory().tensors, before + 2, 'exp_avg and exp_avg_sq live on');
    assert.equal((stateOf(opt, 0).exp_avg as torch.Tensor).isDisposed, false);
    opt.dispose();
    assert.equal(torch.memory().tensors, before);
  });
});

describe('AdamATan2 against the PyTorch reference (trm_ref.py), 100 steps', function () {
  this.timeout(60_000);
  const shapes = [[16, 24], [24], [3, 5, 7], [1], [1000]];
  const steps = 100;
  const cfg = { lr_warmup_steps: 10, lr_min_ratio: 0.1 };

  /** Params, per-step grads (some tiny, some zero, one parameter without a grad every 7th step). */
  function problem() {
    const rng = new Rng(2024);
    const n = shapes.reduce((a, s) => a + numel(s), 0);
    const p0 = gaussian(rng, n, 0.05);
    const grads = new Float32Array(steps * n);
    for (let t = 0; t < steps; t++) {
      const scale = t % 10 === 4 ? 1e-20 : t % 10 === 9 ? 0 : 10 ** ((t % 5) - 2);
      grads.set(gaussian(rng, n, scale), t * n);
    }
    const lrs = Array.from({ length: steps }, (_, t) => computeLr(2e-2, cfg, t + 1, steps));
    const skip = Array.from({ length: steps }, (_, t) => (t % 7 === 3 ? [1] : []));
    return { n, p0, grads, lrs, skip };
  }

  function runOurs(dtype: torch.DType, fused: boolean): Float32Array {
    const { n, p0, grads, lrs, skip } = problem();
    let off = 0;
    const ps = shapes.map((s) => {
      const p = param(p0.subarray(off, off + numel(s)), s, dtype);
      off += numel(s);
      return p;
    });
    const opt = new AdamATan2(ps, { lr: 0, betas: [0.9, 0.95], weightDecay: 0.1, fused });
    for (let t = 0; t < steps; t++) {
      let o = 0;
      ps.forEach((p, i) => {
        if (!skip[t].includes(i)) setGrad(p, grads.subarray(t * n + o, t * n + o + p.numel()));
        o += p.numel();
      });
      opt.setLr(lrs[t]);
      opt.step();
      opt.zeroGrad();
    }
    const sd = opt.stateDict();
    const flat = (k: 'exp_avg' | 'exp_avg_sq') => ps.flatMap((_, i) => values(sd.state[i][k] as torch.Tensor));
    const out = Float32Array.from([...ps.flatMap(values), ...flat('exp_avg'), ...flat('exp_avg_sq')]);
    opt.dispose();
    return out;
  }

  const SCRIPT = `
import json, sys, numpy as np, torch
from trm_ref import AdamATan2
d = sys.argv[1]
meta = json.load(open(d + '/meta.json'))
dtype = getattr(torch, meta['dtype'])
p0 = torch.from_numpy(np.fromfile(d + '/p0.bin', dtype=np.float32))
n = p0.numel()
grads = torch.from_numpy(np.fromfile(d + '/grads.bin', dtype=np.float32)).view(meta['steps'], n)
params, off = [], 0
for s in meta['shapes']:
    k = int(np.prod(s))
    params.append(p0[off:off + k].view(s).clone().to(dtype).requires_grad_())
    off += k
class FusedSemantics(AdamATan2):
    """The official CUDA kernel's semantics: fp32 math, states in the parameter dtype, one rounding per stored value."""
    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g['params']:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                p32, m32, v32 = p.float(), st['m'].float(), st['v'].float()
                shadow = AdamATan2([p32], lr=g['lr'], betas=g['betas'], weight_decay=g['weight_decay'])
                shadow.state[p32] = dict(t=st['t'], m=m32, v=v32)
                p32.grad = p.grad.float()
                shadow.step()
                st['t'] += 1
                p.copy_(p32); st['m'].copy_(m32); st['v'].copy_(v32)

opt = (FusedSemantics if meta['semantics'] == 'fused' else AdamATan2)(params, lr=0.0, betas=tuple(meta['betas']), weight_decay=meta['wd'])
for t in range(meta['steps']):
    off = 0
    for i, p in enumerate(params):
        k = p.numel()
        p.grad = None if i in meta['skip'][t] else grads[t, off:off + k].view(p.shape).to(dtype)
        off += k
    for g in opt.param_groups:
        g['lr'] = meta['lrs'][t]
    opt.step()
st = [opt.state[p] for p in params]
out = torch.cat([p.detach().float().flatten() for p in params] + [s['m'].float().flatten() for s in st] + [s['v'].float().flatten() for s in st])
out.numpy().astype(np.float32).tofile(d + '/out.bin')
`;

  function runReference(dtype: torch.DType, semantics: 'ops' | 'fused' = 'ops'): Float32Array {
    const { p0, grads, lrs, skip } = problem();
    const dir = tmpDir('trm-adam-');
    try {
      fs.writeFileSync(path.join(dir, 'p0.bin'), Buffer.from(p0.buffer, p0.byteOffset, p0.byteLength));
      fs.writeFileSync(path.join(dir, 'grads.bin'), Buffer.from(grads.buffer, grads.byteOffset, grads.byteLength));
      fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ shapes, dtype, steps, lrs, skip, betas: [0.9, 0.95], wd: 0.1, semantics }));
      runPython(SCRIPT, dir);
      const buf = fs.readFileSync(path.join(dir, 'out.bin'));
      return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  const cache = new Map<string, Float32Array>();
  const reference = (dtype: torch.DType, semantics: 'ops' | 'fused' = 'ops') => {
    const key = `${dtype}/${semantics}`;
    if (!cache.has(key)) cache.set(key, runReference(dtype, semantics));
    return cache.get(key)!;
  };

  before(function () {
    if (!hasReference()) this.skip();
  });

  /** Split [params | exp_avg | exp_avg_sq] (the first `count` parts) and compare each part. */
  function compare(ours: Float32Array, ref: Float32Array, tol: { p: number; m: number; v: number }, label: string, count = 3) {
    assert.equal(ours.length, ref.length);
    const n = ours.length / count;
    const parts = (['p', 'm', 'v'] as const).slice(0, count);
    parts.forEach((k, i) => {
      const d = maxAbsDiff(ours.subarray(i * n, (i + 1) * n), ref.subarray(i * n, (i + 1) * n));
      assert.ok(d <= tol[k], `${label}: ${k} differs by ${d} (tolerance ${tol[k]})`);
    });
  }

  it('float32, fused kernel: params within 2e-7 of the reference (states equal to rounding)', () => {
    const ours = runOurs('float32', true);
    const ref = reference('float32');
    compare(ours, ref, { p: 2e-7, m: 1e-9, v: 1e-9 }, 'float32 fused');
    // The run is not trivial: parameters moved by far more than the tolerance.
    assert.ok(maxAbsDiff(ours.subarray(0, ours.length / 3), problem().p0) > 0.1);
  });

  it('float32, eager ops: bit-identical to the reference', () => {
    compare(runOurs('float32', false), reference('float32'), { p: 0, m: 0, v: 0 }, 'float32 eager');
  });

  it('bfloat16, eager ops: bit-identical to the reference', () => {
    compare(runOurs('bfloat16', false), reference('bfloat16'), { p: 0, m: 0, v: 0 }, 'bfloat16 eager');
  });

  it('bfloat16, fused kernel: equal to the reference optimizer run in fp32 math with bf16 storage (the official kernel\'s semantics)', () => {
    const ours = runOurs('bfloat16', true);
    const ref = reference('bfloat16', 'fused');
    let same = 0;
    for (let i = 0; i < ours.length; i++) if (ours[i] === ref[i]) same++;
    // Our atan2 is a polynomial, LibTorch's is Sleef's: an fp32 ulp apart at most, which can flip
    // a bfloat16 rounding now and then. Here every element agrees; allow that rare flip.
    assert.ok(same / ours.length >= 0.999, `only ${same} of ${ours.length} values are equal`);
    compare(ours, ref, { p: 4e-3, m: 0.05, v: 0.05 }, 'bfloat16 fused vs fp32-math reference');
  });

  it('bfloat16, fused kernel: close to the reference\'s op-by-op bf16 rounding (2 ulps on average after 100 steps)', () => {
    const ours = runOurs('bfloat16', true);
    const ops = reference('bfloat16');
    const p0 = problem().p0;
    const n = ours.length / 3;
    let sum = 0;
    let moved = 0;
    for (let i = 0; i < n; i++) {
      sum += Math.abs(ours[i] - ops[i]);
      moved = Math.max(moved, Math.abs(ops[i] - p0[i]));
    }
    assert.ok(moved > 0.3, `the reference moved by ${moved}`);
    assert.ok(sum / n < 0.012, `mean |difference| ${sum / n}`);
    compare(ours.subarray(0, n), ops.subarray(0, n), { p: 0.06, m: 0, v: 0 }, 'bfloat16 fused vs op-by-op reference', 1);
    // States: against the scale of each (they span 1e-40 to 1e3; m cancels, so not per element).
    for (const part of [1, 2]) {
      const a = ours.subarray(part * n, (part + 1) * n);
      const b = ops.subarray(part * n, (part + 1) * n);
      const scale = b.reduce((mx, x) => Math.max(mx, Math.abs(x)), 0);
      assert.ok(maxAbsDiff(a, b) <= 0.03 * scale, `${part === 1 ? 'exp_avg' : 'exp_avg_sq'} differs by ${maxAbsDiff(a, b)} at scale ${scale}`);
    }
  });
});
