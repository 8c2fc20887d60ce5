// The default forward dtype, bfloat16: runs, keeps weights in float32, and stays within bf16
// tolerance of the same model in float32.
import * as assert from 'assert';
import * as torch from '../../lib/torch';
import { build, maxAbsDiff, tinyBatch } from './helpers';

describe('bfloat16 forward', () => {
  for (const arch of ['trm', 'hrm'] as const) {
    it(`${arch}: eval logits and q logits within bf16 tolerance of float32, training backward runs`, () => {
      torch.tidy(() => {
        const overrides = { H_cycles: 2, L_cycles: 2, hidden_size: 32, num_heads: 4, puzzle_emb_ndim: 32 };
        const b16 = build(arch, { ...overrides, forward_dtype: 'bfloat16' });
        const f32 = build(arch, { ...overrides, forward_dtype: 'float32' }, 1);
        const sd = b16.stateDict();
        f32.loadStateDict(sd);
        const batch = tinyBatch(3);
        b16.eval();
        f32.eval();
        const a = b16.forward(b16.initialCarry(batch), batch);
        const b = f32.forward(f32.initialCarry(batch), batch);
        assert.strictEqual(a.outputs.logits.dtype, 'bfloat16');
        assert.strictEqual(a.carry.inner_carry.z_H.dtype, 'bfloat16');
        assert.strictEqual(a.outputs.q_halt_logits.dtype, 'float32');
        // bf16 keeps 8 bits of mantissa (relative step 2^-8); through the 6 block applications of
        // one ACT step the error grows to a few percent of the output scale (logits: 3% on average
        // over 12 random models, fused kernels or composed ops). The q logits read one position of
        // z_H and spread wider (up to 10% here).
        const within = (x: torch.Tensor, y: torch.Tensor, what: string, bound = 0.1) => {
          const scale = y.abs().max().item();
          const d = maxAbsDiff(x, y);
          assert.ok(d < bound * scale, `${what} differ by ${d} (max |y| ${scale})`);
          assert.ok(d > 1e-4 * scale, `${what}: bf16 really ran in bf16`);
        };
        within(a.outputs.logits, b.outputs.logits, 'logits');
        within(a.outputs.q_halt_logits, b.outputs.q_halt_logits, 'q_halt_logits', 0.15);
        within(a.outputs.q_continue_logits, b.outputs.q_continue_logits, 'q_continue_logits', 0.15);
        b16.train();
        const t = b16.forward(b16.initialCarry(batch), batch);
        t.outputs.logits.to('float32').sum().backward();
        const g = b16.inner.lm_head.weight.grad!;
        assert.strictEqual(g.dtype, 'float32');
        assert.ok(g.isfinite().all().item() === 1);
        b16.dispose();
        f32.dispose();
      });
    });
  }
});
