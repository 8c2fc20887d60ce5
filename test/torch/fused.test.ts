// The fused kernels (native/kernels.cc, attention.cc, mlp.cc) against the composed ops they replace: gradients against
// finite differences in float64, forward and backward equal to the composed ops in float32, the
// same bfloat16 rounding, bad input, and the DISABLE_COMPILE=1 switch.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { torch, Tensor } from '../../lib';
import { applyRotaryPosEmb, RotaryEmbedding, SwiGLU } from '../../lib/nn';
import { native } from '../../lib/torch/native';
import { gradcheck } from '../helpers/torch';

/** What the fused kernels replace, written with the composed ops. */
const composed = {
  rmsNorm: (x: Tensor, r: Tensor | null, eps: number) => {
    const s = (r ? x.add(r) : x).to('float32');
    return s.mul(s.square().mean(-1, { keepdim: true }).add(eps).rsqrt()).to(x.dtype);
  },
  swiglu: (gu: Tensor) => {
    const [gate, up] = gu.chunk(2, -1);
    return gate.silu().mul(up);
  },
  /** qkv [B, S, H + 2·KV, D] → [B, S, H, D], as the attention kernel lays its output out for o_proj. */
  attention: (qkv: Tensor, H: number, KV: number, cs: [Tensor, Tensor] | null, dtype: 'float32' | 'float64' = 'float32') => {
    const [B, S, , D] = qkv.shape;
    let q = qkv.narrow(2, 0, H);
    let k = qkv.narrow(2, H, KV);
    const v = qkv.narrow(2, H + KV, KV);
    if (cs) [q, k] = applyRotaryPosEmb(q, k, cs[0], cs[1]);
    const expand = (x: Tensor) => x.unsqueeze(2).expand(B, KV, H / KV, S, D).reshape(B, H, S, D);
    const [query, key, value] = [q, k, v].map((t) => t.transpose(1, 2).to(dtype));
    return torch.scaledDotProductAttention(query, expand(key), expand(value)).transpose(1, 2);
  },
};

const maxDiff = (a: Tensor, b: Tensor) => torch.tidy(() => a.to('float64').sub(b.to('float64')).abs().max().item());

/** Gradients of sum(f · w) for each input, w fixed. */
function grads(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): Tensor[] {
  const leaves = inputs.map((x) => x.detach().requiresGrad_(true));
  const out = f(...leaves);
  out.mul(torch.linspace(0.5, 1.5, out.numel()).reshape(...out.shape).to(out.dtype)).sum().backward();
  return leaves.map((l) => torch.keep(l.grad!));
}

describe('fused kernels', () => {
  const rope = (D: number, S: number, dtype: 'float32' | 'float64' = 'float32'): [Tensor, Tensor] => {
    const r = new RotaryEmbedding(D, S, 10000);
    return [torch.keep(r.cos_cached.to(dtype)), torch.keep(r.sin_cached.to(dtype))];
  };

  it('are on by default where the CPU has AVX2 and FMA', () => {
    assert.strictEqual(torch.fusedKernels(), native.fusedKernelsSupported() && process.env.DISABLE_COMPILE !== '1');
  });

  describe('gradients against finite differences (float64)', () => {
    it('rmsNorm, with and without a residual', () =>
      torch.tidy(() => {
        const x = torch.randn([3, 5, 6], { dtype: 'float64' });
        const r = torch.randn([3, 5, 6], { dtype: 'float64' });
        gradcheck((a, b) => torch.fusedRmsNorm(a, b, 1e-5), [x, r]);
        gradcheck((a) => torch.fusedRmsNorm(a, null, 1e-5), [x]);
      }));

    it('swiglu', () =>
      torch.tidy(() => {
        gradcheck((gu) => torch.fusedSwiGLU(gu), [torch.randn([4, 3, 10], { dtype: 'float64' }).mul(3)]);
      }));

    it('attention with RoPE, without, and with fewer key/value heads', () =>
      torch.tidy(() => {
        const cs = rope(4, 5, 'float64');
        gradcheck((x) => torch.fusedAttention(x, 2, 2, cs, 0.7), [torch.randn([2, 5, 6, 4], { dtype: 'float64' })]);
        gradcheck((x) => torch.fusedAttention(x, 2, 2, null, 0.7), [torch.randn([2, 3, 6, 4], { dtype: 'float64' })]);
        gradcheck((x) => torch.fusedAttention(x, 4, 2, cs, 0.7), [torch.randn([1, 5, 8, 4], { dtype: 'float64' })]);
      }));
  });

  describe('equal to the composed ops', () => {
    it('float32: forward and gradients', () =>
      torch.tidy(() => {
        torch.manualSeed(7);
        const x = torch.randn([4, 9, 32]).mul(2);
        const r = torch.randn([4, 9, 32]);
        const gu = torch.randn([4, 9, 64]).mul(2);
        const qkv = torch.randn([4, 9, 12, 8]);
        const gqa = torch.randn([2, 9, 8, 8]);
        const cs = rope(8, 9);
        // longer rows: whole vectors and a masked tail, every register tile shape
        const long = torch.randn([2, 70, 6, 32]);
        const mid = torch.randn([2, 37, 6, 8]);
        const cases: Array<[string, (...xs: Tensor[]) => Tensor, (...xs: Tensor[]) => Tensor, Tensor[]]> = [
          ['rmsNorm', (a, b) => torch.fusedRmsNorm(a, b, 1e-5), (a, b) => composed.rmsNorm(a, b, 1e-5), [x, r]],
          ['swiglu', (a) => torch.fusedSwiGLU(a), (a) => composed.swiglu(a), [gu]],
          ['attention', (a) => torch.fusedAttention(a, 4, 4, cs, 1 / Math.sqrt(8)), (a) => composed.attention(a, 4, 4, cs), [qkv]],
          ['attention without RoPE', (a) => torch.fusedAttention(a, 4, 4, null, 1 / Math.sqrt(8)), (a) => composed.attention(a, 4, 4, null), [qkv]],
          ['attention, 2 key/value heads', (a) => torch.fusedAttention(a, 4, 2, cs, 1 / Math.sqrt(8)), (a) => composed.attention(a, 4, 2, cs), [gqa]],
          ['attention, 70 positions', (a) => torch.fusedAttention(a, 2, 2, rope(32, 70), 1 / Math.sqrt(32)), (a) => composed.attention(a, 2, 2, rope(32, 70)), [long]],
          ['attention, 37 positions', (a) => torch.fusedAttention(a, 2, 2, rope(8, 37), 1 / Math.sqrt(8)), (a) => composed.attention(a, 2, 2, rope(8, 37)), [mid]],
        ];
        for (const [name, fused, reference, inputs] of cases) {
          assert.ok(maxDiff(fused(...inputs), reference(...inputs)) < 2e-6, `${name} forward`);
          const [gf, gr] = [grads(fused, inputs), grads(reference, inputs)];
          gf.forEach((g, i) => assert.ok(maxDiff(g, gr[i]) < 1e-5, `${name} gradient ${i}: ${maxDiff(g, gr[i])}`));
        }
      }));

    it('bfloat16: the same rounding points, bit for bit (swiglu: float silu rounded once)', () =>
      torch.tidy(() => {
        torch.manualSeed(8);
        const x = torch.randn([4, 9, 32]).mul(3).to('bfloat16');
        const r = torch.randn([4, 9, 32]).to('bfloat16');
        assert.strictEqual(maxDiff(torch.fusedRmsNorm(x, r, 1e-5), composed.rmsNorm(x, r, 1e-5)), 0);
        // ATen's bfloat16 silu is less exact than float silu rounded once; the kernel does the latter.
        const gu = torch.randn([4, 9, 64]).mul(2).to('bfloat16');
        const [gate, up] = gu.to('float32').chunk(2, -1);
        const exact = gate.silu().to('bfloat16').to('float32').mul(up).to('bfloat16');
        assert.strictEqual(torch.fusedSwiGLU(gu).dtype, 'bfloat16');
        assert.strictEqual(maxDiff(torch.fusedSwiGLU(gu), exact), 0);
        // attention from bf16 qkv: RoPE rounded to bf16 as the composed ops round it, float32 math
        // against the composed ops, and the float32 result rounded once into the bf16 model
        const qkv = torch.randn([4, 9, 12, 8]).to('bfloat16').requiresGrad_(true);
        const cs = rope(8, 9);
        const out32 = torch.fusedAttention(qkv, 4, 4, cs, 1 / Math.sqrt(8), 'float32');
        assert.ok(maxDiff(out32, composed.attention(qkv, 4, 4, cs)) < 2e-6);
        const out = torch.fusedAttention(qkv, 4, 4, cs, 1 / Math.sqrt(8));
        assert.strictEqual(out.dtype, 'bfloat16');
        assert.strictEqual(maxDiff(out, out32.to('bfloat16')), 0);
        const [g16, g32] = [out, out32].map((o) => {
          o.to('float32').sum().backward();
          const g = torch.keep(qkv.grad!.clone());
          qkv.grad = null;
          return g;
        });
        assert.strictEqual(maxDiff(g16, g32), 0, 'the bf16 output passes its gradient through unchanged');
        // a head of 32 (whole AVX-512 vectors: RoPE and its gradient as explicit vectors)
        const wide = torch.randn([2, 70, 6, 32]).to('bfloat16');
        const [fused, reference] = [torch.fusedAttention(wide, 2, 2, rope(32, 70), 1 / Math.sqrt(32), 'float32'), composed.attention(wide, 2, 2, rope(32, 70))];
        assert.ok(maxDiff(fused, reference) < 2e-6, `head of 32: ${maxDiff(fused, reference)}`);
        const [gf, gr] = [
          grads((a) => torch.fusedAttention(a, 2, 2, rope(32, 70), 1 / Math.sqrt(32)).to('float32'), [wide]),
          grads((a) => composed.attention(a, 2, 2, rope(32, 70)).to('bfloat16').to('float32'), [wide]),
        ];
        const largest = torch.tidy(() => gr[0].abs().max().item());
        assert.ok(maxDiff(gf[0], gr[0]) <= 2 ** -7 * largest, `head of 32, gradient: ${maxDiff(gf[0], gr[0])} (one bf16 step at ${largest})`);
        // a head of 64 over 37 positions: on AMX, two tiles deep and a last block of tile rows part full
        const deep = torch.randn([2, 37, 6, 64]).to('bfloat16');
        const [f64, r64] = [torch.fusedAttention(deep, 2, 2, rope(64, 37), 1 / 8, 'float32'), composed.attention(deep, 2, 2, rope(64, 37))];
        assert.ok(maxDiff(f64, r64) < 2e-6, `head of 64: ${maxDiff(f64, r64)}`);
      }));
  });

  describe('the MLP on AMX tiles (fusedMlp: bfloat16)', function () {
    before(function () {
      if (!torch.amxSupported()) this.skip();
    });
    const composedMlp = (x: Tensor, wgu: Tensor, wd: Tensor) => torch.linear(torch.fusedSwiGLU(torch.linear(x, wgu)), wd);
    /** Within one bfloat16 step of the largest output, and at most 1% of the outputs not equal. */
    const assertClose = (a: Tensor, b: Tensor, what: string) =>
      torch.tidy(() => {
        const step = 2 ** -7 * b.to('float32').abs().max().item();
        const differing = a.to('float32').ne(b.to('float32')).to('float32').mean().item();
        assert.ok(maxDiff(a, b) <= step && differing <= 0.01, `${what}: max diff ${maxDiff(a, b)} (step ${step}), ${differing} differ`);
      });

    it('equals linear → swiglu → linear, rows in blocks of 32 and a part-full last block', () =>
      torch.noGrad(() =>
        torch.tidy(() => {
          torch.manualSeed(11);
          for (const [rows, H, I] of [[37, 64, 96], [2 * 41, 96, 64], [6208, 128, 512]]) {
            const x = torch.randn([rows, H]).to('bfloat16');
            const wgu = torch.randn([2 * I, H]).mul(1 / Math.sqrt(H)).to('bfloat16');
            const wd = torch.randn([H, I]).mul(1 / Math.sqrt(I)).to('bfloat16');
            const out = torch.fusedMlp(x, wgu, wd);
            assert.strictEqual(out.dtype, 'bfloat16');
            assertClose(out, composedMlp(x, wgu, wd), `${rows} rows, H ${H}, I ${I}`);
          }
        })));

    it('differentiates as linear → swiglu → linear: dx, d W_gate_up and d W_down', () =>
      torch.tidy(() => {
        torch.manualSeed(13);
        for (const [rows, H, I] of [[37, 64, 96], [6208, 128, 512]]) {
          const x = torch.randn([rows, H]).to('bfloat16');
          // float32 weights cast to bfloat16 at use, as CastedLinear keeps them
          const wgu = torch.randn([2 * I, H]).mul(1 / Math.sqrt(H));
          const wd = torch.randn([H, I]).mul(1 / Math.sqrt(I));
          const viaCast = (f: typeof composedMlp) => (a: Tensor, b: Tensor, c: Tensor) => f(a, b.to('bfloat16'), c.to('bfloat16'));
          const fused = grads(viaCast(torch.fusedMlp), [x, wgu, wd]);
          const reference = grads(viaCast(composedMlp), [x, wgu, wd]);
          ['dx', 'd W_gate_up', 'd W_down'].forEach((what, i) => assertClose(fused[i], reference[i], `${what}, ${rows} rows`));
        }
      }));

    it('differentiates only what requires grad, and records nothing under noGrad', () =>
      torch.tidy(() => {
        torch.manualSeed(14);
        const [x, wgu, wd] = [torch.randn([5, 32]), torch.randn([64, 32]), torch.randn([32, 32])].map((t) => t.mul(0.3).to('bfloat16'));
        const xg = x.detach().requiresGrad_(true);
        torch.fusedMlp(xg, wgu, wd).sum().backward();
        assert.ok(xg.grad && xg.grad.abs().sum().item() > 0);
        const [wg, dg] = [wgu.detach().requiresGrad_(true), wd.detach().requiresGrad_(true)];
        torch.fusedMlp(x, wg, dg).sum().backward();
        assert.ok(wg.grad && dg.grad, 'both weights get gradients when x does not require grad');
        // the down weight alone: its gradient dyᵀ·h, without the gate's backward
        const [fusedDown, composedDown] = [torch.fusedMlp, composedMlp].map((f) => {
          const d = wd.detach().requiresGrad_(true);
          f(x, wgu, d).sum().backward();
          return d.grad!;
        });
        assertClose(fusedDown, composedDown, 'd W_down alone');
        assert.strictEqual(torch.noGrad(() => torch.fusedMlp(xg, wgu, wd)).requiresGrad, false);
      }));

    it('is what a bfloat16 SwiGLU runs, with and without autograd', () =>
      torch.tidy(() => {
        torch.manualSeed(12);
        const mlp = new SwiGLU(64, 4);
        const x = torch.randn([3, 19, 64]).to('bfloat16');
        const composedOut = composedMlp(x, mlp.gate_up_proj.weight.to('bfloat16'), mlp.down_proj.weight.to('bfloat16'));
        const withGrad = mlp.forward(x);
        assert.ok(withGrad.requiresGrad);
        assertClose(withGrad.detach(), composedOut.detach(), 'SwiGLU(64, 4) with autograd');
        assertClose(torch.noGrad(() => mlp.forward(x)), composedOut.detach(), 'SwiGLU(64, 4) under noGrad');
      }));

    it('refuses bad input with a message naming it', () =>
      torch.tidy(() => {
        const [x, wgu, wd] = [torch.randn([5, 64]), torch.randn([192, 64]), torch.randn([64, 96])].map((t) => t.to('bfloat16'));
        assert.throws(() => torch.noGrad(() => torch.fusedMlp(x.to('float32'), wgu, wd)), /mlp: expected bfloat16 CPU tensors, got Tensor\[5, 64\] float32/);
        assert.throws(() => torch.noGrad(() => torch.fusedMlp(x, wgu.narrow(0, 0, 96), wd)), /mlp: expected x \[\.\.\., H\], gate_up weight \[2·I, H\]/);
        assert.throws(() => torch.noGrad(() => torch.fusedMlp(torch.randn([5, 48]).to('bfloat16'), torch.randn([192, 48]).to('bfloat16'), torch.randn([48, 96]).to('bfloat16'))), /H and I multiples of 32/);
      }));
  });

  it('attention under noGrad (no probabilities kept) gives the forward of the autograd path, bit for bit', () =>
    torch.tidy(() => {
      const qkv = torch.randn([3, 7, 8, 8]).requiresGrad_(true);
      const cs = rope(8, 7);
      const withGrad = torch.fusedAttention(qkv, 4, 2, cs, 0.35);
      assert.ok(withGrad.requiresGrad);
      const without = torch.noGrad(() => torch.fusedAttention(qkv, 4, 2, cs, 0.35));
      assert.ok(!without.requiresGrad);
      assert.strictEqual(maxDiff(withGrad, without), 0);
    }));

  it('refuse bad input with a message naming it', () =>
    torch.tidy(() => {
      const f32 = torch.randn([2, 3, 4]);
      assert.throws(() => torch.fusedRmsNorm(torch.ones([2, 4], { dtype: 'int64' }), null, 1e-5), /rmsNorm: expected a floating-point CPU tensor for x, got Tensor\[2, 4\] int64/);
      assert.throws(() => torch.fusedRmsNorm(f32, torch.randn([2, 3, 5]), 1e-5), /rmsNorm: residual Tensor\[2, 3, 5\] float32 does not match x/);
      assert.throws(() => torch.fusedSwiGLU(torch.randn([2, 5])), /swiglu: expected an even last dimension/);
      assert.throws(() => torch.fusedAttention(torch.randn([2, 3, 5, 4]), 2, 2, null, 0.5), /attention: expected qkv \[B, S, num_heads \+ 2·num_key_value_heads, D\].*got Tensor\[2, 3, 5, 4\] float32 for 2 and 2 heads/);
      assert.throws(() => torch.fusedAttention(torch.randn([2, 3, 7, 4]), 3, 2, null, 0.5), /num_heads a multiple of num_key_value_heads/);
      assert.throws(() => torch.fusedAttention(torch.randn([2, 3, 6, 4]), 2, 2, rope(4, 2), 0.5), /attention: expected cos and sin \[>= S, D\]/);
      assert.throws(() => torch.fusedAttention(torch.ones([2, 3, 6, 4], { dtype: 'int64' }), 2, 2, null, 0.5), /attention: expected a floating-point CPU tensor for qkv/);
      assert.throws(() => torch.fusedAttention(torch.randn([2, 3, 6, 4]), 2, 2, null, 0.5, 'int32'), /attention: output dtype must be float32, float64 or bfloat16/);
    }));

  // The same checks in a child process with a switch set: TRM_NO_AVX512 for CPUs without AVX-512,
  // TRM_NO_AMX for those without AMX tiles (the bfloat16 attention's products then run as float).
  for (const [name, flag] of [['without AVX-512', 'TRM_NO_AVX512'], ['without AMX', 'TRM_NO_AMX']]) {
    it(`the paths for CPUs ${name} (${flag}=1) pass the same checks`, function () {
      if (process.env.TRM_NO_AVX512 || process.env.TRM_NO_AMX) this.skip(); // already in such a child
      this.timeout(120000);
      const mocha = require.resolve('mocha/bin/mocha.js');
      const r = spawnSync(process.execPath, [mocha, '--no-config', '--require', 'dist/test/helpers/settle.js', '--grep', 'equal to the composed ops|finite differences', __filename], {
        env: { ...process.env, [flag]: '1' },
        encoding: 'utf8',
      });
      assert.strictEqual(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /5 passing/);
    });
  }

  it('DISABLE_COMPILE=1 turns them off: the blocks run the composed ops', () => {
    const script = "const { torch } = require('./dist/lib'); console.log(JSON.stringify(torch.fusedKernels()));";
    const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, DISABLE_COMPILE: '1' }, encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(JSON.parse(r.stdout.trim()), false);
  });
});
