// The benchmark's model configurations: A–E from the performance issue, and the scaling sweeps.
// Each is one training setup both sides build the same way (the reference's `bench` defaults:
// vocab 11, 16 puzzle positions, one puzzle id, expansion 4, RoPE, stablemax loss).

export type BenchArch = 'trm' | 'hrm';
export type BenchDtype = 'float32' | 'bfloat16';

export interface BenchConfig {
  id: string;
  label: string;
  arch: BenchArch;
  hidden: number;
  heads: number;
  /** Layers per level (L_layers; HRM's H_layers too). */
  layers: number;
  H_cycles: number;
  L_cycles: number;
  /** Tokens per example (81 for Sudoku, 900 for ARC), before the puzzle positions. */
  seq: number;
  puzzleEmbLen: number;
  batch: number;
  dtype: BenchDtype;
  mlpT: boolean;
  vocab: number;
  expansion: number;
}

const A: BenchConfig = {
  id: 'A', label: 'TRM h128 fp32', arch: 'trm', hidden: 128, heads: 4, layers: 2, H_cycles: 3, L_cycles: 6,
  seq: 81, puzzleEmbLen: 16, batch: 64, dtype: 'float32', mlpT: false, vocab: 11, expansion: 4,
};

export const CONFIGS: Record<string, BenchConfig> = {
  A,
  B: { ...A, id: 'B', label: 'TRM h128 bf16', dtype: 'bfloat16' },
  C: { ...A, id: 'C', label: 'TRM h256 b128 bf16', hidden: 256, heads: 8, batch: 128, dtype: 'bfloat16' },
  D: { ...A, id: 'D', label: 'TRM mlp_t fp32', mlpT: true },
  // HRM has no puzzle_emb_len: its puzzle embedding takes ceil(ndim / hidden) = 1 position.
  E: { ...A, id: 'E', label: 'HRM h128 fp32', arch: 'hrm', puzzleEmbLen: 1 },
};

/** One knob varied from config A at a time (heads keep a head size of 32). */
export const SCALING: Record<'batch' | 'hidden' | 'seq', BenchConfig[]> = {
  batch: [32, 64, 128, 256, 512].map((batch) => ({ ...A, id: `batch ${batch}`, batch })),
  hidden: [64, 128, 256, 512].map((hidden) => ({ ...A, id: `hidden ${hidden}`, hidden, heads: hidden / 32 })),
  seq: [81, 900].map((seq) => ({ ...A, id: `seq ${seq}`, seq })),
};

/** The model config our registry takes for a bench config. */
export function archConfig(c: BenchConfig): Record<string, unknown> {
  const common = {
    batch_size: c.batch, seq_len: c.seq, vocab_size: c.vocab, num_puzzle_identifiers: 1,
    puzzle_emb_ndim: c.hidden, hidden_size: c.hidden, num_heads: c.heads, expansion: c.expansion,
    H_cycles: c.H_cycles, L_cycles: c.L_cycles, L_layers: c.layers, pos_encodings: 'rope', rope_theta: 10000,
    rms_norm_eps: 1e-5, mlp_t: c.mlpT, halt_max_steps: 16, halt_exploration_prob: 0.1, forward_dtype: c.dtype,
  };
  if (c.arch === 'hrm') return { ...common, H_layers: c.layers };
  return { ...common, H_layers: 0, puzzle_emb_len: c.puzzleEmbLen, no_ACT_continue: true };
}

export const MODEL_NAMES: Record<BenchArch, string> = {
  trm: 'recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1',
  hrm: 'recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1',
};
