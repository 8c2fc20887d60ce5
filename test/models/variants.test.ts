// Each architecture's recursion checked against the same computation written out step by step
// from its building blocks (1 layer; 1 cycle, and the multi-cycle schedules), in float32 eval.
import * as assert from 'assert';
import * as torch from '../../lib/torch';
import type { ACTModel } from '../../lib/models';
import type { ReasoningModule } from '../../lib/models';
import { Arch, build, maxAbsDiff, tinyBatch } from './helpers';

type Tensor = torch.Tensor;

/** x = √D · [puzzle rows | token rows], written out from the weights. */
function embeddings(m: ACTModel, batch: Record<string, Tensor>): Tensor {
  const inner = m.inner;
  const tokens = inner.embed_tokens.embedding_weight.index([batch.inputs.long()]); // [B, S, D]
  const puzzle = inner.puzzle_emb!.weights.index([batch.puzzle_identifiers.long()]).unsqueeze(1); // [B, 1, D]
  return torch.cat([puzzle, tokens], 1).mul(Math.sqrt(8));
}

/** One pass through a 1-layer level: the block applied to hidden + injection. */
function level(lv: ReasoningModule, m: ACTModel, hidden: Tensor, injection?: Tensor): Tensor {
  const cos_sin = m.inner.rotary_emb!.forward();
  return lv.layers.at(0).forward(cos_sin, injection ? hidden.add(injection) : hidden);
}

function heads(m: ACTModel, z: Tensor): { logits: Tensor; q: Tensor } {
  const inner = m.inner;
  const logits = z.matmul(inner.lm_head.weight.transpose(0, 1)).narrow(1, 1, 5);
  const q = z.select(1, 0).matmul(inner.q_head.weight.transpose(0, 1)).add(inner.q_head.bias!);
  return { logits, q };
}

function firstStep(m: ACTModel, batch: Record<string, Tensor>): { logits: Tensor; q_halt: Tensor; q_continue: Tensor } {
  m.eval();
  const carry = m.initialCarry(batch);
  const { outputs } = m.forward(carry, batch);
  return { logits: outputs.logits, q_halt: outputs.q_halt_logits, q_continue: outputs.q_continue_logits };
}

function check(arch: Arch, overrides: Record<string, unknown>, expected: (m: ACTModel, x: Tensor, init: (n: string) => Tensor) => Tensor): void {
  torch.tidy(() => {
    const m = build(arch, overrides);
    try {
      const batch = tinyBatch(7);
      const got = firstStep(m, batch);
      torch.noGrad(() => {
        const x = embeddings(m, batch);
        const z = expected(m, x, (n) => m.inner.getBuffer(n)!);
        const { logits, q } = heads(m, z);
        assert.ok(maxAbsDiff(got.logits, logits) < 1e-5, `${arch} logits differ by ${maxAbsDiff(got.logits, logits)}`);
        assert.ok(maxAbsDiff(got.q_halt, q.select(1, 0)) < 1e-5, `${arch} q_halt`);
        assert.ok(maxAbsDiff(got.q_continue, q.select(1, 1)) < 1e-5, `${arch} q_continue`);
        // the checks can fail: the heads of a different latent do not match
        assert.ok(maxAbsDiff(got.logits, heads(m, x).logits) > 1e-3);
      });
    } finally {
      m.dispose();
    }
  });
}

describe('architectures, hand-derived (1 layer)', () => {
  it('trm, 1 cycle: z_L = L(L_init + H_init + x); z_H = L(H_init + z_L); heads read z_H', () => {
    check('trm', {}, (m, x, init) => {
      const L = m.inner.getSubmodule('L_level') as ReasoningModule;
      const z_L = level(L, m, init('L_init'), init('H_init').add(x));
      return level(L, m, init('H_init'), z_L);
    });
  });

  it('trm, H_cycles 2 × L_cycles 2', () => {
    check('trm', { H_cycles: 2, L_cycles: 2 }, (m, x, init) => {
      const L = m.inner.getSubmodule('L_level') as ReasoningModule;
      let z_H = init('H_init');
      let z_L = init('L_init');
      for (let h = 0; h < 2; h++) {
        for (let l = 0; l < 2; l++) z_L = level(L, m, z_L, z_H.add(x));
        z_H = level(L, m, z_H, z_L);
      }
      return z_H;
    });
  });

  it('trm_singlez: z_L = L(L_init + x); z_L = L(z_L); heads read z_L', () => {
    check('trm_singlez', {}, (m, x, init) => {
      const L = m.inner.getSubmodule('L_level') as ReasoningModule;
      return level(L, m, level(L, m, init('L_init').add(x)));
    });
  });

  it('trm_hier6, L_cycles 2: z_Li = L(Σ z_L, z_H + x) for i = 1, 2; z_H = L(z_H, Σ z_L)', () => {
    check('trm_hier6', { L_cycles: 2 }, (m, x, init) => {
      const L = m.inner.getSubmodule('L_level') as ReasoningModule;
      const z = [1, 2, 3, 4, 5, 6].map((i) => init(`L${i}_init`));
      const sum = () => z.slice(1).reduce((a, b) => a.add(b), z[0]);
      const z_H = init('H_init');
      for (let i = 0; i < 2; i++) z[i] = level(L, m, sum(), z_H.add(x));
      return level(L, m, z_H, sum());
    });
  });

  it('hrm, 1 cycle: z_L = L(L_init + H_init + x); z_H = H(H_init + z_L)', () => {
    check('hrm', {}, (m, x, init) => {
      const H = m.inner.getSubmodule('H_level') as ReasoningModule;
      const L = m.inner.getSubmodule('L_level') as ReasoningModule;
      const z_L = level(L, m, init('L_init'), init('H_init').add(x));
      return level(H, m, init('H_init'), z_L);
    });
  });

  it('hrm, H_cycles 2 × L_cycles 2: L L H L L H', () => {
    check('hrm', { H_cycles: 2, L_cycles: 2 }, (m, x, init) => {
      const H = m.inner.getSubmodule('H_level') as ReasoningModule;
      const L = m.inner.getSubmodule('L_level') as ReasoningModule;
      let z_H = init('H_init');
      let z_L = init('L_init');
      for (let h = 0; h < 2; h++) {
        for (let l = 0; l < 2; l++) z_L = level(L, m, z_L, z_H.add(x));
        z_H = level(H, m, z_H, z_L);
      }
      return z_H;
    });
  });

  it('transformers_baseline: z_H = H(H_init + x)', () => {
    check('transformers_baseline', {}, (m, x, init) => level(m.inner.getSubmodule('H_level') as ReasoningModule, m, init('H_init'), x));
  });

  it('hrm trains with the one-step gradient: only the last L and H updates are differentiated', () => {
    torch.tidy(() => {
      const m = build('hrm', { H_cycles: 2, L_cycles: 2 });
      const batch = tinyBatch(8);
      m.train();
      const { outputs } = m.forward(m.initialCarry(batch), batch);
      outputs.logits.sum().backward();
      const ours = new Map(m.namedParameters().map(([k, p]) => [k, p.grad ?? torch.zerosLike(p)]));
      m.zeroGrad();
      const H = m.inner.getSubmodule('H_level') as ReasoningModule;
      const L = m.inner.getSubmodule('L_level') as ReasoningModule;
      const init = (n: string) => m.inner.getBuffer(n)!;
      const x = m.inner.inputEmbeddings(batch.inputs, batch.puzzle_identifiers);
      let z_H = init('H_init');
      let z_L = init('L_init');
      torch.noGrad(() => {
        z_L = level(L, m, z_L, z_H.add(x));
        z_L = level(L, m, z_L, z_H.add(x));
        z_H = level(H, m, z_H, z_L);
        z_L = level(L, m, z_L, z_H.add(x));
      });
      z_L = level(L, m, z_L, z_H.add(x));
      z_H = level(H, m, z_H, z_L);
      heads(m, z_H).logits.sum().backward();
      for (const [k, p] of m.namedParameters()) {
        const g = p.grad ?? torch.zerosLike(p);
        assert.ok(maxAbsDiff(ours.get(k)!, g) <= 1e-5 * Math.max(1, g.abs().max().item()), `${k} gradient`);
      }
      assert.ok(ours.get('inner.H_level.layers.0.mlp.down_proj.weight')!.abs().max().item() > 0);
      m.dispose();
    });
  });
});
