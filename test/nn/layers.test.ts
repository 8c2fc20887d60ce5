// The official layers against plain-JS computations of the same formulas, and their init.
import * as assert from 'assert';
import * as torch from '../../lib/torch';
import {
  Attention, CastedEmbedding, CastedLinear, LinearSwish, RotaryEmbedding, SwiGLU, applyRotaryPosEmb, rmsNorm,
  swigluIntermediateSize, truncNormal, truncatedNormalScale,
} from '../../lib/nn';
import { erf } from '../../lib/nn/init';
import { CastedSparseEmbedding } from '../../lib/models/sparse_embedding';

type Tensor = torch.Tensor;
type Mat = number[][];

const rows = (t: Tensor): Mat => t.to('float32').tolist() as Mat;
const matmulT = (x: Mat, w: Mat): Mat => x.map((r) => w.map((wr) => wr.reduce((s, v, i) => s + v * r[i], 0)));
const silu = (v: number) => v / (1 + Math.exp(-v));

function assertClose(actual: Tensor | number[], expected: number[], tol: number, what = ''): void {
  const a = Array.isArray(actual) ? actual : actual.toArray();
  assert.strictEqual(a.length, expected.length, `${what} length`);
  const worst = Math.max(0, ...a.map((v, i) => Math.abs(v - expected[i])));
  assert.ok(worst <= tol, `${what} max abs diff ${worst} > ${tol}`);
}

describe('nn init', () => {
  it('erf matches known values', () => {
    assertClose([erf(0), erf(0.5), erf(Math.SQRT2), erf(-2), erf(3.5)], [0, 0.5204998778130465, 0.9544997361036416, -0.9953222650189527, 0.9999992569016276], 1e-15);
  });

  it('the truncated normal has the requested std and stays within ±2 corrected σ', () => {
    assert.ok(Math.abs(truncatedNormalScale(1) - 1.1368472343385565) < 1e-12);
    torch.manualSeed(0);
    const t = truncNormal([200, 200], 0.5);
    const v = t.toArray();
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    assert.ok(Math.abs(std - 0.5) < 0.005, `std ${std}`);
    assert.ok(Math.abs(mean) < 0.005, `mean ${mean}`);
    const bound = 2 * truncatedNormalScale(0.5);
    assert.ok(Math.max(...v.map(Math.abs)) <= bound + 1e-6);
    assert.ok(Math.max(...v.map(Math.abs)) > 0.95 * bound, 'the tails reach the bound');
    assert.deepStrictEqual(truncNormal([3], 0).toArray(), [0, 0, 0]);
    t.dispose();
  });
});

describe('nn layers', () => {
  before(() => torch.manualSeed(1));

  it('CastedLinear: x·Wᵀ + b with fp32 weights cast to the input dtype', () => {
    const lin = new CastedLinear(3, 2, true);
    torch.noGrad(() => lin.bias!.copy_(torch.tensor([0.5, -1])));
    assert.strictEqual(lin.weight.dtype, 'float32');
    const x = torch.randn([4, 3]);
    const expected = matmulT(rows(x), rows(lin.weight)).map((r) => [r[0] + 0.5, r[1] - 1]);
    assertClose(lin.forward(x), expected.flat(), 1e-6);
    const y16 = lin.forward(x.bfloat16());
    assert.strictEqual(y16.dtype, 'bfloat16');
    assertClose(y16, expected.flat(), 0.05);
    assert.strictEqual(lin.weight.dtype, 'float32');
    lin.dispose();
  });

  it('CastedEmbedding looks rows up in cast_to', () => {
    const emb = new CastedEmbedding(5, 3, 1, 'bfloat16');
    const out = emb.forward(torch.tensor([[4, 0]], { dtype: 'int32' }));
    assert.deepStrictEqual(out.shape, [1, 2, 3]);
    assert.strictEqual(out.dtype, 'bfloat16');
    const w = rows(emb.embedding_weight);
    assertClose(out, [...w[4], ...w[0]], 0.02);
    emb.dispose();
  });

  it('RotaryEmbedding tables and apply_rotary_pos_emb (rotate-half layout, fp32 math)', () => {
    const rope = new RotaryEmbedding(4, 3, 100);
    const [cos, sin] = rope.forward();
    const inv = [1, 100 ** -0.5];
    const angles = [0, 1, 2].map((p) => [p * inv[0], p * inv[1], p * inv[0], p * inv[1]]);
    assertClose(cos, angles.flat().map(Math.cos), 1e-6);
    assertClose(sin, angles.flat().map(Math.sin), 1e-6);
    const sd = rope.stateDict();
    assert.strictEqual(sd.size, 0, 'cos/sin are not persistent');
    const q = torch.randn([1, 3, 2, 4]); // [B, S, heads, D]
    const k = torch.randn([1, 3, 2, 4]);
    const [qr] = applyRotaryPosEmb(q, k, cos, sin);
    const qv = q.tolist() as number[][][][];
    const expected: number[] = [];
    for (let s = 0; s < 3; s++) {
      for (let h = 0; h < 2; h++) {
        const [x1, x2, x3, x4] = qv[0][s][h];
        const c = angles[s].map(Math.cos);
        const sn = angles[s].map(Math.sin);
        expected.push(x1 * c[0] - x3 * sn[0], x2 * c[1] - x4 * sn[1], x3 * c[2] + x1 * sn[2], x4 * c[3] + x2 * sn[3]);
      }
    }
    assertClose(qr, expected, 1e-6);
    const [qb] = applyRotaryPosEmb(q.bfloat16(), k.bfloat16(), cos, sin);
    assert.strictEqual(qb.dtype, 'bfloat16');
    rope.dispose();
  });

  it('Attention: fused qkv [q heads | k heads | v heads], non-causal softmax attention, o_proj', () => {
    const att = new Attention(4, 2, 2, 2);
    const x = torch.randn([1, 3, 4]);
    const qkv = matmulT(rows(x.select(0, 0)), rows(att.qkv_proj.weight)); // [S, 12]
    const head = (r: number[], part: number, h: number) => r.slice(part * 4 + h * 2, part * 4 + h * 2 + 2);
    const merged: Mat = [0, 1, 2].map(() => []);
    for (let h = 0; h < 2; h++) {
      for (let i = 0; i < 3; i++) {
        const q = head(qkv[i], 0, h);
        const scores = qkv.map((r) => (q[0] * head(r, 1, h)[0] + q[1] * head(r, 1, h)[1]) / Math.SQRT2);
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        const out = [0, 1].map((d) => qkv.reduce((acc, r, j) => acc + (e[j] / z) * head(r, 2, h)[d], 0));
        merged[i].push(...out);
      }
    }
    const expected = matmulT(merged, rows(att.o_proj.weight));
    assertClose(att.forward(null, x), expected.flat(), 1e-5);
    att.dispose();
  });

  it('SwiGLU: intermediate size rule and down(silu(gate)·up)', () => {
    assert.strictEqual(swigluIntermediateSize(512, 4), 1536);
    assert.strictEqual(swigluIntermediateSize(16, 2), 256);
    assert.strictEqual(swigluIntermediateSize(97, 4), 512); // mlp_t on Sudoku: 81 + 16 positions
    assert.strictEqual(swigluIntermediateSize(384, 4), 1024);
    const mlp = new SwiGLU(3, 1);
    assert.deepStrictEqual(mlp.gate_up_proj.weight.shape, [512, 3]);
    assert.deepStrictEqual(mlp.down_proj.weight.shape, [3, 256]);
    const x = torch.randn([2, 3]);
    const gu = matmulT(rows(x), rows(mlp.gate_up_proj.weight));
    const hidden = gu.map((r) => r.slice(0, 256).map((g, i) => silu(g) * r[256 + i]));
    assertClose(mlp.forward(x), matmulT(hidden, rows(mlp.down_proj.weight)).flat(), 1e-5);
    mlp.dispose();
  });

  it('LinearSwish in both orders', () => {
    const a = new LinearSwish(3);
    const b = new LinearSwish(3, true);
    torch.noGrad(() => b.linear.weight.copy_(a.linear.weight));
    const x = torch.randn([2, 3]);
    const w = rows(a.linear.weight);
    assertClose(a.forward(x), matmulT(rows(x).map((r) => r.map(silu)), w).flat(), 1e-6);
    assertClose(b.forward(x), matmulT(rows(x), w).flat().map(silu), 1e-6);
    a.dispose();
    b.dispose();
  });

  it('rms_norm: x / sqrt(mean(x²) + eps), computed in fp32, returned in the input dtype', () => {
    const x = torch.tensor([[1, 2, 3, 4], [0, 0, 0, 0.5]]);
    const expected = rows(x).flatMap((r) => {
      const ms = r.reduce((a, v) => a + v * v, 0) / r.length;
      return r.map((v) => v / Math.sqrt(ms + 1e-5));
    });
    assertClose(rmsNorm(x, 1e-5), expected, 1e-6);
    const b = rmsNorm(x.bfloat16(), 1e-5);
    assert.strictEqual(b.dtype, 'bfloat16');
    assertClose(b, expected, 0.01);
  });

  it('CastedSparseEmbedding: rows in eval; local_weights/local_ids with grad in training', () => {
    const emb = new CastedSparseEmbedding(6, 2, 3, 0, 'float32');
    torch.noGrad(() => emb.weights.copy_(torch.arange(12, undefined, 1, { dtype: 'float32' }).view(6, 2)));
    assert.deepStrictEqual([...emb.stateDict().keys()], ['weights']);
    assert.deepStrictEqual(emb.namedBuffers().map(([k]) => k), ['weights', 'local_weights', 'local_ids']);
    const ids = torch.tensor([5, 1, 5], { dtype: 'int32' });
    emb.eval();
    const e = emb.forward(ids);
    assert.deepStrictEqual(e.toArray(), [10, 11, 2, 3, 10, 11]);
    assert.strictEqual(e.requiresGrad, false);
    emb.train();
    const t = emb.forward(ids);
    assert.deepStrictEqual(emb.local_ids.toArray(), [5, 1, 5]);
    assert.deepStrictEqual(emb.local_weights.toArray(), [10, 11, 2, 3, 10, 11]);
    t.mul(torch.tensor([[1, 2], [3, 4], [5, 6]])).sum().backward();
    assert.deepStrictEqual(emb.local_weights.grad!.toArray(), [1, 2, 3, 4, 5, 6]);
    assert.strictEqual(emb.weights.grad, null, 'the table itself has no gradient');
    assert.throws(() => emb.forward(torch.tensor([1, 2], { dtype: 'int32' })), /batch_size=3/);
    emb.zeroGrad();
    assert.strictEqual(emb.local_weights.grad, null);
    emb.dispose();
  });
});
