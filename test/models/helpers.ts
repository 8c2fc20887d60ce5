// Small configurations and batches for the model tests (fast on 2 CPU cores).
import * as torch from '../../lib/torch';
import { ACTModel, createModel } from '../../lib/models';
import { ARCH_NAMES } from '../../lib/config/types';

type Tensor = torch.Tensor;

/** The official `name:` of each architecture, as the config knows them. */
export const NAMES = ARCH_NAMES;
export type Arch = keyof typeof NAMES;

const COMMON = {
  batch_size: 4, seq_len: 5, vocab_size: 6, num_puzzle_identifiers: 3, puzzle_emb_ndim: 8, hidden_size: 8, num_heads: 2,
  expansion: 1, pos_encodings: 'rope', halt_max_steps: 3, halt_exploration_prob: 0, forward_dtype: 'float32',
};

/** A tiny config of `arch`: 1 layer, 1 cycle unless overridden. */
export function tinyConfig(arch: Arch, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const perArch: Record<Arch, Record<string, unknown>> = {
    trm: { H_cycles: 1, L_cycles: 1, L_layers: 1, puzzle_emb_len: 1 },
    trm_singlez: { H_cycles: 1, L_cycles: 1, L_layers: 1, puzzle_emb_len: 1 },
    trm_hier6: { H_cycles: 1, L_cycles: 1, L_layers: 1, puzzle_emb_len: 1 },
    hrm: { H_cycles: 1, L_cycles: 1, H_layers: 1, L_layers: 1 },
    transformers_baseline: { H_layers: 1 },
  };
  return { ...COMMON, ...perArch[arch], ...overrides };
}

export function build(arch: Arch, overrides: Record<string, unknown> = {}, seed = 0): ACTModel {
  torch.manualSeed(seed);
  const model = createModel(NAMES[arch], tinyConfig(arch, overrides));
  // Live q head and puzzle embeddings (their official init is constant).
  torch.noGrad(() =>
    torch.tidy(() => {
      const inner = model.inner;
      inner.q_head.weight.copy_(torch.randn(inner.q_head.weight.shape));
      if (inner.puzzle_emb) inner.puzzle_emb.weights.copy_(torch.randn(inner.puzzle_emb.weights.shape));
    }),
  );
  return model;
}

export function tinyBatch(seed: number, B = 4, S = 5, V = 6): Record<string, Tensor> {
  torch.manualSeed(seed);
  return torch.tidy(() => ({
    inputs: torch.randint(0, V, [B, S], { dtype: 'int32' }),
    labels: torch.randint(0, V, [B, S], { dtype: 'int32' }),
    puzzle_identifiers: torch.randint(0, 3, [B], { dtype: 'int32' }),
  }));
}

export function maxAbsDiff(a: Tensor, b: Tensor): number {
  return torch.tidy(() => a.to('float64').sub(b.to('float64')).abs().max().item());
}
