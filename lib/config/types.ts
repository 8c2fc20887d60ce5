// The validated training config as TypeScript sees it. Field meanings, defaults and checks live
// in schema.ts (the tables there must cover these types key by key; the compiler checks it).

export const ARCH_NAMES = {
  trm: 'recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1',
  trm_singlez: 'recursive_reasoning.trm_singlez@TinyRecursiveReasoningModel_ACTV1',
  trm_hier6: 'recursive_reasoning.trm_hier6@TinyRecursiveReasoningModel_ACTV1',
  hrm: 'recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1',
  transformers_baseline: 'recursive_reasoning.transformers_baseline@Model_ACTV2',
} as const;

export type TrmFamilyName = (typeof ARCH_NAMES)['trm' | 'trm_singlez' | 'trm_hier6'];
export type HrmName = (typeof ARCH_NAMES)['hrm'];
export type TransformersBaselineName = (typeof ARCH_NAMES)['transformers_baseline'];
export type ArchName = TrmFamilyName | HrmName | TransformersBaselineName;

export const LOSS_TYPES = ['stablemax_cross_entropy', 'softmax_cross_entropy'] as const;
export type LossType = (typeof LOSS_TYPES)[number];

export const POS_ENCODINGS = ['rope', 'learned', 'none'] as const;
export type PosEncodings = (typeof POS_ENCODINGS)[number];

export const FORWARD_DTYPES = ['bfloat16', 'float16', 'float32', 'float64'] as const;
export type ForwardDtype = (typeof FORWARD_DTYPES)[number];

export interface LossConfig {
  name: 'losses@ACTLossHead';
  loss_type: LossType;
}

/** Keys every architecture has. */
export interface ArchCommonConfig {
  name: ArchName;
  loss: LossConfig;
  halt_exploration_prob: number;
  halt_max_steps: number;
  H_cycles: number;
  H_layers: number;
  hidden_size: number;
  num_heads: number;
  expansion: number;
  puzzle_emb_ndim: number;
  pos_encodings: PosEncodings;
  rms_norm_eps: number;
  rope_theta: number;
  forward_dtype: ForwardDtype;
}

/** TRM and its variants (single latent z, six-level hierarchy): same keys. */
export interface TrmArchConfig extends ArchCommonConfig {
  name: TrmFamilyName;
  L_cycles: number;
  L_layers: number;
  mlp_t: boolean;
  puzzle_emb_len: number;
  no_ACT_continue: boolean;
}

export interface HrmArchConfig extends ArchCommonConfig {
  name: HrmName;
  L_cycles: number;
  L_layers: number;
  mlp_t: boolean;
}

export interface TransformersBaselineArchConfig extends ArchCommonConfig {
  name: TransformersBaselineName;
  act_enabled: boolean;
  act_inference: boolean;
}

/** Discriminated by `name`. */
export type ArchConfig = TrmArchConfig | HrmArchConfig | TransformersBaselineArchConfig;

/** An evaluator entry: `name` plus the evaluator's own keys (validated per name in schema.ts). */
export interface EvaluatorConfig {
  name: string;
  [key: string]: unknown;
}

export interface ArcEvaluatorConfig extends EvaluatorConfig {
  name: 'arc@ARC';
  submission_K: number;
  pass_Ks: number[];
  aggregated_voting: boolean;
}

export interface PretrainConfig {
  arch: ArchConfig;
  data_paths: string[];
  data_paths_test: string[];
  evaluators: EvaluatorConfig[];
  global_batch_size: number;
  epochs: number;
  lr: number;
  lr_min_ratio: number;
  lr_warmup_steps: number;
  weight_decay: number;
  beta1: number;
  beta2: number;
  puzzle_emb_lr: number;
  puzzle_emb_weight_decay: number;
  project_name: string | null;
  run_name: string | null;
  load_checkpoint: string | null;
  checkpoint_path: string | null;
  resume: string | null;
  seed: number;
  checkpoint_every_eval: boolean;
  eval_interval: number | null;
  min_eval_interval: number | null;
  eval_save_outputs: string[];
  ema: boolean;
  ema_rate: number;
  freeze_weights: boolean;
}
