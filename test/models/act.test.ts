// The ACT wrapper: halting in eval and training, exploration, Q targets, resets of halted rows,
// the halt_max_steps override, and tensor lifetime across steps.
import * as assert from 'assert';
import * as torch from '../../lib/torch';
import type { ACTCarry, ACTModel } from '../../lib/models';
import { build, maxAbsDiff, tinyBatch } from './helpers';

type Tensor = torch.Tensor;

function setQBias(m: ACTModel, halt: number, cont: number): void {
  torch.noGrad(() => {
    m.inner.q_head.weight.zero_();
    m.inner.q_head.bias!.copy_(torch.tensor([halt, cont]));
  });
}

/** Runs `n` steps, returning the halted flags and step counters after each. */
function run(m: ACTModel, n: number, options = {}): { halted: boolean[][]; steps: number[][] } {
  const batch = tinyBatch(3);
  let carry = m.initialCarry(batch);
  const halted: boolean[][] = [];
  const steps: number[][] = [];
  for (let i = 0; i < n; i++) {
    const r = m.forward(carry, batch, options);
    torch.dispose([carry, r.outputs]);
    carry = r.carry;
    halted.push(carry.halted.toArray().map(Boolean));
    steps.push(carry.steps.toArray());
  }
  torch.dispose([carry, batch]);
  return { halted, steps };
}

const all = (v: boolean) => [v, v, v, v];

describe('ACT wrapper', () => {
  let m: ACTModel;
  afterEach(() => m?.dispose());

  it('initialCarry: every row halted, zero steps, zeroed data of the batch shapes', () => {
    m = build('trm');
    const batch = tinyBatch(1);
    const c = m.initialCarry(batch);
    assert.deepStrictEqual(c.halted.toArray(), [1, 1, 1, 1]);
    assert.deepStrictEqual(c.steps.toArray(), [0, 0, 0, 0]);
    assert.strictEqual(c.steps.dtype, 'int32');
    assert.deepStrictEqual(Object.keys(c.current_data), ['inputs', 'labels', 'puzzle_identifiers']);
    assert.deepStrictEqual(c.inner_carry.z_H.shape, [4, 6, 8]);
    torch.dispose([c, batch]);
  });

  it('eval always runs halt_max_steps, whatever the Q head says', () => {
    m = build('trm');
    setQBias(m, 10, -10);
    m.eval();
    const r = run(m, 4);
    assert.deepStrictEqual(r.halted, [all(false), all(false), all(true), all(false)]);
    assert.deepStrictEqual(r.steps, [[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3], [1, 1, 1, 1]]);
  });

  it('halt_max_steps can be raised for a call (deeper recursion at test time)', () => {
    m = build('trm');
    m.eval();
    const r = run(m, 5, { halt_max_steps: 5 });
    assert.deepStrictEqual(r.halted.map((h) => h[0]), [false, false, false, false, true]);
    assert.throws(() => run(m, 1, { halt_max_steps: 0 }), /halt_max_steps/);
  });

  it('training: halts when q_halt > 0 (no_ACT_continue), else at halt_max_steps', () => {
    m = build('trm', { halt_max_steps: 4 });
    m.train();
    setQBias(m, 3, 100);
    assert.deepStrictEqual(run(m, 1).halted, [all(true)]);
    setQBias(m, -3, -100);
    assert.deepStrictEqual(run(m, 4).halted, [all(false), all(false), all(false), all(true)]);
  });

  it('training with no_ACT_continue=false: halts when q_halt > q_continue and returns target_q_continue', () => {
    m = build('trm', { no_ACT_continue: false, halt_max_steps: 4 });
    m.train();
    setQBias(m, -3, -5);
    assert.deepStrictEqual(run(m, 1).halted, [all(true)]);
    setQBias(m, -3, -1);
    assert.deepStrictEqual(run(m, 1).halted, [all(false)]);
    // target = sigmoid(max(next q_halt, next q_continue)) from one more step on the new carry
    torch.tidy(() => {
      torch.noGrad(() => m.inner.q_head.weight.copy_(torch.randn([2, 8])));
      const batch = tinyBatch(4);
      const r = m.forward(m.initialCarry(batch), batch);
      const next = torch.noGrad(() => m.inner.forward(r.carry.inner_carry, r.carry.current_data));
      const expected = next.q_halt_logits.maximum(next.q_continue_logits).sigmoid();
      assert.ok(r.outputs.target_q_continue, 'target present');
      assert.ok(maxAbsDiff(r.outputs.target_q_continue!, expected) < 1e-6);
      assert.strictEqual(r.outputs.target_q_continue!.requiresGrad, false);
      m.eval();
      assert.strictEqual(m.forward(m.initialCarry(batch), batch).outputs.target_q_continue, undefined, 'not in eval');
    });
  });

  it('exploration: with probability 1 no row halts before its random minimum (>= 2 steps)', () => {
    m = build('trm', { halt_exploration_prob: 1, halt_max_steps: 5 });
    m.train();
    setQBias(m, 10, 0);
    torch.manualSeed(5);
    const r = run(m, 5);
    assert.deepStrictEqual(r.halted[0], all(false));
    const firstHalt = [0, 1, 2, 3].map((row) => r.halted.findIndex((h) => h[row]) + 1);
    assert.ok(firstHalt.every((s) => s >= 2 && s <= 5), `first halts ${firstHalt}`);
  });

  it('a halted row restarts from the init latents on the new example; the others continue', () => {
    m = build('trm');
    m.eval();
    torch.tidy(() => {
      const b1 = tinyBatch(1);
      const b2 = tinyBatch(2);
      const s1 = m.forward(m.initialCarry(b1), b1).carry;
      const mixed: ACTCarry = { ...s1, halted: torch.tensor([true, false, true, false]) };
      const s2 = m.forward(mixed, b2);
      const pick = (t: Tensor, rows: number[]) => t.index([torch.tensor(rows)]);
      for (const k of ['inputs', 'labels', 'puzzle_identifiers']) {
        assert.deepStrictEqual(pick(s2.carry.current_data[k], [0, 2]).tolist(), pick(b2[k], [0, 2]).tolist(), `${k} of reset rows`);
        assert.deepStrictEqual(pick(s2.carry.current_data[k], [1, 3]).tolist(), pick(b1[k], [1, 3]).tolist(), `${k} of continuing rows`);
      }
      assert.deepStrictEqual(s2.carry.steps.toArray(), [1, 2, 1, 2]);
      // reset rows give exactly what a fresh start on b2 gives
      const fresh = m.forward(m.initialCarry(b2), b2);
      assert.ok(maxAbsDiff(pick(s2.outputs.logits, [0, 2]), pick(fresh.outputs.logits, [0, 2])) === 0);
      assert.ok(maxAbsDiff(pick(s2.outputs.logits, [1, 3]), pick(fresh.outputs.logits, [1, 3])) > 1e-4);
    });
  });

  it('hrm learns the continue target in training; halts on q_halt > q_continue', () => {
    m = build('hrm', { halt_max_steps: 4 });
    m.train();
    setQBias(m, -3, -5);
    assert.deepStrictEqual(run(m, 1).halted, [all(true)]);
    torch.tidy(() => {
      const batch = tinyBatch(4);
      assert.ok(m.forward(m.initialCarry(batch), batch).outputs.target_q_continue);
    });
  });

  it('transformers_baseline: act_enabled, act_inference (actual_steps) and compute_target_q', () => {
    m = build('transformers_baseline', { act_enabled: false, halt_max_steps: 3 });
    m.train();
    setQBias(m, 5, 0);
    assert.deepStrictEqual(run(m, 1).halted, [all(false)], 'act_enabled=false runs every step');
    m.dispose();
    m = build('transformers_baseline', { act_inference: true, halt_max_steps: 3 });
    setQBias(m, 5, 0);
    m.eval();
    assert.deepStrictEqual(run(m, 1).halted, [all(true)], 'act_inference halts in eval');
    torch.tidy(() => {
      const batch = tinyBatch(4);
      const r = m.forward(m.initialCarry(batch), batch);
      assert.deepStrictEqual(r.outputs.actual_steps!.toArray(), [1, 1, 1, 1]);
      m.train();
      assert.strictEqual(m.forward(m.initialCarry(batch), batch).outputs.target_q_continue, undefined);
      assert.ok(m.forward(m.initialCarry(batch), batch, { compute_target_q: true }).outputs.target_q_continue);
    });
  });

  it('never frees its inputs, and leaks nothing once old carries and outputs are disposed', () => {
    m = build('hrm', { H_cycles: 2, L_cycles: 2 });
    m.train();
    const batch = tinyBatch(2);
    let carry = m.initialCarry(batch);
    const before = torch.memory().tensors;
    for (let i = 0; i < 4; i++) {
      const r = m.forward(carry, batch);
      torch.tidy(() => r.outputs.logits.sum().backward());
      assert.ok(!carry.halted.isDisposed && !batch.inputs.isDisposed);
      torch.dispose([carry, r.outputs]);
      carry = r.carry;
      m.zeroGrad();
    }
    assert.strictEqual(torch.memory().tensors, before);
    torch.dispose([carry, batch]);
  });

  it('refuses a batch without a key the carry holds', () => {
    m = build('trm');
    const batch = tinyBatch(2);
    const carry = m.initialCarry(batch);
    assert.throws(() => m.forward(carry, { inputs: batch.inputs }), /batch is missing 'labels'/);
    const noIds = { inputs: batch.inputs, labels: batch.labels };
    const c2 = m.initialCarry(noIds);
    assert.throws(() => m.forward(c2, noIds), /batch is missing 'puzzle_identifiers'/);
    torch.dispose(c2);
    torch.dispose([carry, batch]);
  });
});
