// The one schema of the training config: every key with its type, default and meaning. It
// validates a composed, resolved tree into a typed PretrainConfig and feeds the README tables
// (docs.ts). Arch keys depend on `arch.name`; evaluator keys on the evaluator's `name`.

import { ConfigError } from './errors';
import { Field, Fields, TypeSpec, parseFields, t, typeError } from './spec';
import { closest } from '../util/suggest';
import { isDict } from './tree';
import {
  ARCH_NAMES,
  ArcEvaluatorConfig,
  ArchCommonConfig,
  ArchConfig,
  ArchName,
  EvaluatorConfig,
  FORWARD_DTYPES,
  HrmArchConfig,
  LOSS_TYPES,
  LossConfig,
  POS_ENCODINGS,
  PretrainConfig,
  TransformersBaselineArchConfig,
  TrmArchConfig,
} from './types';

// ---------------------------------------------------------------- loss

export const lossFields: Fields<LossConfig> = {
  name: { type: t.oneOf(['losses@ACTLossHead'] as const), doc: 'Loss head, as `module@Class`: `losses@ACTLossHead` (token loss plus the halting Q-head losses).' },
  loss_type: { type: t.oneOf(LOSS_TYPES), doc: 'Token loss: `stablemax_cross_entropy` (the paper\'s) or `softmax_cross_entropy`.' },
};

const lossSpec: TypeSpec<LossConfig> = {
  label: 'mapping with name and loss_type',
  parse: (value, key) => parseFields(lossFields, value, key),
};

// ---------------------------------------------------------------- arch

const positive = t.int({ min: 1 });
const nonNegative = t.int({ min: 0 });

const archCommonFields: Omit<Fields<ArchCommonConfig>, 'name'> = {
  loss: { type: lossSpec, doc: 'Loss head settings (`loss.name`, `loss.loss_type`).' },
  halt_exploration_prob: {
    type: t.float({ min: 0, max: 1 }),
    doc: 'Training only: probability that an example is given a random minimum number of ACT steps, so the halting Q-head explores.',
  },
  halt_max_steps: { type: positive, doc: 'Maximum ACT steps (deep-supervision steps) per example.' },
  H_cycles: {
    type: positive,
    doc: 'Outer cycles per ACT step. TRM: T, full recursions per step, all but the last without gradient. HRM: high-level updates. transformers_baseline: unused, kept for compatibility.',
  },
  H_layers: {
    type: nonNegative,
    doc: 'Layers of the high-level module. TRM: ignored (one tiny network). HRM: depth of the H module. transformers_baseline: depth of the transformer.',
  },
  hidden_size: { type: positive, doc: 'Width of the model (token, latent and puzzle-embedding vectors).' },
  num_heads: { type: positive, doc: 'Attention heads; head size is hidden_size / num_heads.' },
  expansion: { type: t.float({ min: 0 }), doc: 'SwiGLU MLP width as a multiple of hidden_size.' },
  puzzle_emb_ndim: {
    type: nonNegative,
    default: 0,
    doc: 'Width of the learned per-puzzle embedding; 0 disables it. The shipped configs tie it to `${.hidden_size}`.',
  },
  pos_encodings: { type: t.oneOf(POS_ENCODINGS), doc: 'Position encoding: `rope`, `learned`, or `none` (used with `mlp_t=True`).' },
  rms_norm_eps: { type: t.float({ min: 0 }), default: 1e-5, doc: 'Epsilon of the RMS norms.' },
  rope_theta: { type: t.float({ min: 0 }), default: 10000, doc: 'Base of the rotary position frequencies.' },
  forward_dtype: {
    type: t.oneOf(FORWARD_DTYPES),
    default: 'bfloat16',
    doc: 'Dtype of activations and of casted weights in the forward pass (`float32` gives exact, deterministic CPU runs).',
  },
};

const cyclesAndLayers = {
  L_cycles: { type: positive, doc: 'Inner cycles. TRM: n, latent updates per recursion. HRM: low-level updates per high-level update.' },
  L_layers: { type: positive, doc: 'Layers of the (low-level) network: TRM\'s single tiny network, HRM\'s L module.' },
  mlp_t: {
    type: t.bool(),
    default: false,
    doc: 'Mix positions with an MLP across the sequence instead of self-attention (the paper\'s choice for Sudoku).',
  },
} satisfies Partial<Fields<TrmArchConfig>>;

export const trmFields: Fields<TrmArchConfig> = {
  name: { type: t.oneOf([ARCH_NAMES.trm, ARCH_NAMES.trm_singlez, ARCH_NAMES.trm_hier6] as const), doc: '' },
  ...archCommonFields,
  ...cyclesAndLayers,
  puzzle_emb_len: {
    type: nonNegative,
    default: 16,
    doc: 'Sequence positions the puzzle embedding occupies; 0 means ceil(puzzle_emb_ndim / hidden_size).',
  },
  no_ACT_continue: {
    type: t.bool(),
    default: true,
    doc: 'Halting uses only the sigmoid of the halt logit, with no Q-learning "continue" target (the paper\'s simplification).',
  },
};

export const hrmFields: Fields<HrmArchConfig> = {
  name: { type: t.oneOf([ARCH_NAMES.hrm] as const), doc: '' },
  ...archCommonFields,
  ...cyclesAndLayers,
};

export const transformersBaselineFields: Fields<TransformersBaselineArchConfig> = {
  name: { type: t.oneOf([ARCH_NAMES.transformers_baseline] as const), doc: '' },
  ...archCommonFields,
  act_enabled: {
    type: t.bool(),
    default: true,
    doc: 'Halt early during training when the Q-head says so; false always runs halt_max_steps.',
  },
  act_inference: { type: t.bool(), default: false, doc: 'Also halt adaptively at evaluation (otherwise evaluation runs halt_max_steps).' },
};

/** The key table of each arch name. */
export const ARCH_FIELDS: Record<ArchName, Fields<ArchConfig>> = {
  [ARCH_NAMES.trm]: trmFields as Fields<ArchConfig>,
  [ARCH_NAMES.trm_singlez]: trmFields as Fields<ArchConfig>,
  [ARCH_NAMES.trm_hier6]: trmFields as Fields<ArchConfig>,
  [ARCH_NAMES.hrm]: hrmFields as Fields<ArchConfig>,
  [ARCH_NAMES.transformers_baseline]: transformersBaselineFields as Fields<ArchConfig>,
};

/** Model-config keys the trainer fills in from the data; setting them in `arch` is an error. */
export const TRAINER_SET_ARCH_KEYS: Record<string, string> = {
  batch_size: 'trm-train sets it to global_batch_size / world size.',
  seq_len: 'trm-train reads it from the dataset metadata.',
  vocab_size: 'trm-train reads it from the dataset metadata.',
  num_puzzle_identifiers: 'trm-train reads it from the dataset metadata.',
};

const archNameSpec = t.oneOf(Object.keys(ARCH_FIELDS) as ArchName[]);

const archSpec: TypeSpec<ArchConfig> = {
  label: 'arch mapping',
  parse(value, key) {
    if (!isDict(value)) throw typeError('mapping', key, value);
    if (!('name' in value)) {
      throw new ConfigError('missing', `Missing required key '${key}.name': choose an architecture with arch=<${Object.keys(ARCH_NAMES).join('|')}>.`, `${key}.name`);
    }
    const name = archNameSpec.parse(value['name'], `${key}.name`);
    return parseFields(ARCH_FIELDS[name], value, key, { reserved: TRAINER_SET_ARCH_KEYS, owner: `arch '${name}'` });
  },
};

// ---------------------------------------------------------------- evaluators

export const arcEvaluatorFields: Fields<ArcEvaluatorConfig> = {
  name: { type: t.oneOf(['arc@ARC'] as const), doc: 'ARC evaluator: pass@K over augmented test puzzles.' },
  submission_K: { type: positive, default: 2, doc: 'Attempts per test input kept for the submission (ARC allows 2).' },
  pass_Ks: { type: t.list(positive), default: [1, 2, 5, 10, 100, 1000], doc: 'K values for which `ARC/pass@K` is reported.' },
  aggregated_voting: { type: t.bool(), default: true, doc: 'Vote over the augmented versions of each puzzle to rank candidate answers.' },
};

const EVALUATOR_FIELDS = new Map<string, Fields<EvaluatorConfig>>([['arc@ARC', arcEvaluatorFields as Fields<EvaluatorConfig>]]);

/**
 * Make an evaluator name (`module@Class`) and its keys known to the schema (an evaluator module
 * calls this once). Returns a function that forgets it again.
 */
export function registerEvaluator<C extends EvaluatorConfig>(name: string, fields: Fields<C>): () => void {
  const previous = EVALUATOR_FIELDS.get(name);
  EVALUATOR_FIELDS.set(name, fields as unknown as Fields<EvaluatorConfig>);
  return () => {
    if (previous) EVALUATOR_FIELDS.set(name, previous);
    else EVALUATOR_FIELDS.delete(name);
  };
}

export function evaluatorFields(): ReadonlyMap<string, Fields<EvaluatorConfig>> {
  return EVALUATOR_FIELDS;
}

const evaluatorSpec: TypeSpec<EvaluatorConfig> = {
  label: 'evaluator mapping',
  parse(value, key) {
    if (!isDict(value)) throw typeError('mapping with a name', key, value);
    const name = value['name'];
    if (typeof name !== 'string') throw typeError('string', `${key}.name`, name ?? null);
    const fields = EVALUATOR_FIELDS.get(name);
    if (!fields) {
      const known = [...EVALUATOR_FIELDS.keys()];
      const near = closest(name, known);
      throw new ConfigError(
        'unknown_key',
        `Unknown evaluator '${name}' at ${key}.name.${near ? ` Did you mean '${near}'?` : ''} Known evaluators: ${known.join(', ')}.`,
        `${key}.name`,
      );
    }
    return parseFields(fields, value, key, { owner: `evaluator '${name}'` });
  },
};

// ---------------------------------------------------------------- top level

const nonNegativeFloat = t.float({ min: 0 });
const optionalStr = t.nullable(t.str());

export const pretrainFields: Fields<PretrainConfig> = {
  arch: { type: archSpec, doc: 'Model and loss head. Pick one with the config group `arch=<trm|trm_singlez|trm_hier6|hrm|transformers_baseline>`; change one key with `arch.<key>=<value>` (see the arch table).' },
  data_paths: {
    type: t.list(t.str()),
    doc: 'Dataset directories to train on (each made by a dataset builder, with `train/` and `test/` splits); several are trained on together and must agree on their metadata.',
  },
  data_paths_test: { type: t.list(t.str()), default: [], doc: 'Datasets to evaluate on; when empty, the `test` split of `data_paths` is used.' },
  evaluators: {
    type: t.list(evaluatorSpec),
    default: [],
    doc: 'Extra evaluators run at each evaluation, each `{name: module@Class, ...its keys}`; `arc@ARC` reports ARC pass@K. Use `evaluators=[]` for tasks other than ARC.',
  },
  global_batch_size: { type: positive, doc: 'Examples per optimizer step over all processes; each process takes global_batch_size / world size, which must divide evenly.' },
  epochs: { type: positive, doc: 'Passes over the training puzzles. Total steps = epochs × total_groups × mean_puzzle_examples / global_batch_size.' },
  lr: { type: nonNegativeFloat, doc: 'Peak learning rate of the model weights (AdamATan2).' },
  lr_min_ratio: { type: nonNegativeFloat, doc: 'After warmup the learning rate follows a cosine from lr down to lr × lr_min_ratio; 1.0 keeps it constant.' },
  lr_warmup_steps: { type: nonNegative, doc: 'Steps of linear warmup from 0 to the peak learning rates.' },
  weight_decay: { type: nonNegativeFloat, doc: 'Decoupled weight decay of the model weights: p ← p·(1 − lr·weight_decay) each step.' },
  beta1: { type: t.float({ min: 0, max: 1, maxExclusive: true }), doc: 'AdamATan2 decay of the first moment.' },
  beta2: { type: t.float({ min: 0, max: 1, maxExclusive: true }), doc: 'AdamATan2 decay of the second moment.' },
  puzzle_emb_lr: { type: nonNegativeFloat, doc: 'Learning rate of the per-puzzle embeddings (sign-SGD), on the same warmup and cosine schedule.' },
  puzzle_emb_weight_decay: { type: nonNegativeFloat, doc: 'Decoupled weight decay of the puzzle-embedding rows touched in a step.' },
  project_name: { type: optionalStr, default: null, doc: 'Project name for logs and the checkpoint folder; null derives `<DataDir>-ACT-torch` from the first data path.' },
  run_name: { type: optionalStr, default: null, doc: 'Run name; null derives `<ModelClass> <random two-word slug>`. Not in cfg_pretrain.yaml, so set it with `+run_name=…`.' },
  load_checkpoint: {
    type: optionalStr,
    default: null,
    doc: 'Model weights to start from (a `step_N` file written here or by the official code); puzzle embeddings of another shape are replaced by the mean embedding.',
  },
  checkpoint_path: { type: optionalStr, default: null, doc: 'Folder for checkpoints, metrics and `all_config.yaml`; null means `checkpoints/<project_name>/<run_name>`.' },
  resume: {
    type: optionalStr,
    default: null,
    doc: 'trm-train extension: a `step_N` checkpoint written by trm-train to continue exactly from (weights, optimizer and scheduler state, step, RNG state). Set with `+resume=…`.',
  },
  seed: { type: t.int(), default: 0, doc: 'Random seed; process r seeds with seed + r.' },
  checkpoint_every_eval: { type: t.bool(), default: false, doc: 'Save `checkpoint_path/step_N` after every evaluation, not only at the end.' },
  eval_interval: { type: t.nullable(positive), default: null, doc: 'Evaluate every this many epochs; must divide epochs. null evaluates once, at the end.' },
  min_eval_interval: {
    type: t.nullable(nonNegative),
    default: 0,
    doc: 'Skip evaluation until this many training iterations (of eval_interval epochs each) have run.',
  },
  eval_save_outputs: {
    type: t.list(t.str()),
    default: [],
    doc: 'Batch fields and model outputs (last ACT step) to save at each evaluation into `checkpoint_path/step_N_all_preds.<rank>`, e.g. `[inputs,labels,puzzle_identifiers,preds]`.',
  },
  ema: { type: t.bool(), default: false, doc: 'Keep an exponential moving average of the weights; evaluate and checkpoint with it.' },
  ema_rate: { type: t.float({ min: 0, max: 1 }), default: 0.999, doc: 'EMA decay per step: ema ← ema_rate·ema + (1 − ema_rate)·weights.' },
  freeze_weights: { type: t.bool(), default: false, doc: 'Train only the puzzle embeddings; the model weights stay fixed.' },
};

/** Validate a composed, resolved config tree. Throws ConfigError naming the first bad key. */
export function validatePretrainConfig(tree: unknown): PretrainConfig {
  const config = parseFields(pretrainFields, tree, '');
  if (config.eval_interval !== null && config.epochs % config.eval_interval !== 0) {
    throw new ConfigError(
      'invalid',
      `eval_interval (${config.eval_interval}) must divide epochs (${config.epochs}); e.g. eval_interval=${largestDivisorAtMost(config.epochs, config.eval_interval)}.`,
      'eval_interval',
    );
  }
  return config;
}

function largestDivisorAtMost(n: number, limit: number): number {
  for (let d = Math.min(limit, n); d >= 1; d--) if (n % d === 0) return d;
  return 1;
}

/** Every arch key known for any arch, for docs: key → field (the first table that has it). */
export function allArchFields(): Map<string, Field<unknown>> {
  const out = new Map<string, Field<unknown>>();
  for (const fields of [trmFields, hrmFields, transformersBaselineFields] as Fields<object>[]) {
    for (const [k, f] of Object.entries(fields)) if (!out.has(k)) out.set(k, f as Field<unknown>);
  }
  return out;
}

/** Schema keys allowed inside the mapping at `parentPath` (for override error messages). */
export function schemaKeysAt(parentPath: readonly string[]): readonly string[] | undefined {
  if (parentPath.length === 0) return Object.keys(pretrainFields);
  if (parentPath.length === 1 && parentPath[0] === 'arch') return [...allArchFields().keys()];
  if (parentPath.length === 2 && parentPath[0] === 'arch' && parentPath[1] === 'loss') return Object.keys(lossFields);
  return undefined;
}
