// Float32 GEMM routing (native/gemm.cc): LibTorch's float32 matrix products go to oneDNN, in
// every layout ATen hands to BLAS, with BLAS's beta = 0 contract; TRM_GEMM=blas keeps the system BLAS.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { torch, Tensor } from '../../lib';
import { native } from '../../lib/torch/native';

/** The largest |a − b| relative to b's largest magnitude, with b computed in float64. */
function relErr(a: Tensor, exact: Tensor): number {
  return torch.tidy(() => a.to('float64').sub(exact).abs().max().item() / exact.abs().max().item());
}

/** Products in each layout ATen passes to sgemm_ (plain, transposed operands, batched, beta/alpha). */
function products(): Array<[string, () => [Tensor, Tensor]]> {
  const a = torch.randn([67, 45]);
  const b = torch.randn([45, 33]);
  const c = torch.randn([67, 33]);
  const x = torch.randn([5, 19, 8]);
  const y = torch.randn([5, 8, 23]);
  const d = (t: Tensor) => t.to('float64');
  return [
    ['mm', () => [a.matmul(b), d(a).matmul(d(b))]],
    ['mm, transposed left', () => [a.transpose(0, 1).contiguous().transpose(0, 1).matmul(b), d(a).matmul(d(b))]],
    ['mm, both transposed', () => [b.transpose(0, 1).matmul(a.transpose(0, 1)), d(b).transpose(0, 1).matmul(d(a).transpose(0, 1))]],
    ['bmm', () => [x.bmm(y), d(x).bmm(d(y))]],
    ['addmm beta 0.5 alpha 2', () => [
      torch.ops.aten.addmm(c, a, b, { beta: 0.5, alpha: 2 }) as Tensor,
      torch.ops.aten.addmm(d(c), d(a), d(b), { beta: 0.5, alpha: 2 }) as Tensor,
    ]],
  ];
}

describe('float32 GEMM routing', () => {
  it('sends LibTorch float32 matmuls to oneDNN, each layout matching float64', () =>
    torch.tidy(() => {
      torch.manualSeed(3);
      const before = native.buildInfo().float32GemmCalls;
      for (const [name, run] of products()) {
        const [got, exact] = run();
        assert.ok(relErr(got, exact) < 1e-5, `${name}: relative error ${relErr(got, exact)}`);
      }
      const info = native.buildInfo();
      assert.strictEqual(info.float32Gemm, 'onednn', "Debian's LibTorch links oneDNN, so it should be used");
      assert.ok(info.float32GemmCalls > before, 'LibTorch still calls the system BLAS directly: the routing is not in effect');
    }));

  it('never reads the output when beta is 0 (NaN in an out= tensor does not leak)', () =>
    torch.tidy(() => {
      const a = torch.randn([40, 30]);
      const b = torch.randn([30, 20]);
      const out = torch.full([40, 20], NaN);
      torch.call('aten::mm.out', a, b, { out });
      assert.ok(relErr(out, a.to('float64').matmul(b.to('float64'))) < 1e-5);
    }));

  it('TRM_GEMM=blas keeps the system BLAS, with the same results', () => {
    const script = `
      const { torch } = require('./dist/lib');
      const { native } = require('./dist/lib/torch/native');
      torch.manualSeed(3);
      const a = torch.randn([67, 45]), b = torch.randn([45, 33]);
      const got = a.matmul(b), exact = a.to('float64').matmul(b.to('float64'));
      const err = got.to('float64').sub(exact).abs().max().item() / exact.abs().max().item();
      console.log(JSON.stringify({ gemm: native.buildInfo().float32Gemm, err }));`;
    const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, TRM_GEMM: 'blas' }, encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    const { gemm, err } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.strictEqual(gemm, 'blas');
    assert.ok(err < 1e-5, `relative error ${err}`);
  });
});
