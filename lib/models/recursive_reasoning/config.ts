// The model config every recursive-reasoning architecture reads, with per-architecture key tables
// (required keys, defaults, ranges). Unknown keys are refused with a suggestion; `name`, `loss`
// and `causal` (which the trainer passes along, as the official pretrain.py does) are ignored.
import { didYouMean } from '../../util/suggest';

export type PosEncodings = 'rope' | 'learned' | 'none';
export type ForwardDtype = 'bfloat16' | 'float16' | 'float32';

export interface ReasoningModelConfig {
  /** Rows of the sparse puzzle-embedding gradient buffer: the per-rank training batch. */
  batch_size: number;
  seq_len: number;
  /** Width of the per-puzzle embedding; 0 turns it off. */
  puzzle_emb_ndim: number;
  num_puzzle_identifiers: number;
  vocab_size: number;
  /** TRM: T, full recursions per ACT step (all but the last without grad). HRM: high-level updates. */
  H_cycles: number;
  /** TRM: n, z_L updates per recursion. HRM: low-level updates per high-level one. */
  L_cycles: number;
  /** HRM/baseline: depth of H_level. TRM: ignored. */
  H_layers: number;
  L_layers: number;
  hidden_size: number;
  expansion: number;
  num_heads: number;
  pos_encodings: PosEncodings;
  rms_norm_eps: number;
  rope_theta: number;
  halt_max_steps: number;
  halt_exploration_prob: number;
  forward_dtype: ForwardDtype;
  /** An MLP across the sequence replaces self-attention. */
  mlp_t: boolean;
  /** Positions the puzzle embedding occupies; 0 means ceil(puzzle_emb_ndim / hidden_size). */
  puzzle_emb_len: number;
  /** Halt when q_halt > 0 (true) or when q_halt > q_continue, learning a continue target (false). */
  no_ACT_continue: boolean;
  /** transformers_baseline: adaptive halting in training. */
  act_enabled: boolean;
  /** transformers_baseline: adaptive halting in evaluation too. */
  act_inference: boolean;
}

type Key = keyof ReasoningModelConfig;

export interface FieldSpec {
  kind: 'int' | 'float' | 'bool' | 'enum';
  /** Absent: the key is required. */
  default?: number | boolean | string;
  min?: number;
  max?: number;
  values?: readonly string[];
}

export type FieldTable = Partial<Record<Key, FieldSpec>>;

const int = (min: number, def?: number): FieldSpec => ({ kind: 'int', min, ...(def === undefined ? {} : { default: def }) });
const float = (min: number, def?: number, max?: number): FieldSpec => ({ kind: 'float', min, max, ...(def === undefined ? {} : { default: def }) });
const bool = (def: boolean): FieldSpec => ({ kind: 'bool', default: def });

/** Keys every architecture has. */
export const COMMON_FIELDS: FieldTable = {
  batch_size: int(1),
  seq_len: int(1),
  puzzle_emb_ndim: int(0, 0),
  num_puzzle_identifiers: int(1),
  vocab_size: int(1),
  H_cycles: int(1),
  H_layers: int(0),
  hidden_size: int(1),
  expansion: float(0),
  num_heads: int(1),
  pos_encodings: { kind: 'enum', values: ['rope', 'learned', 'none'] },
  rms_norm_eps: float(0, 1e-5),
  rope_theta: float(0, 10000),
  halt_max_steps: int(1),
  halt_exploration_prob: float(0, undefined, 1),
  forward_dtype: { kind: 'enum', values: ['bfloat16', 'float16', 'float32'], default: 'bfloat16' },
};

/** Keys of the two-level models (TRM variants, HRM). */
export const CYCLES_FIELDS: FieldTable = {
  L_cycles: int(1),
  L_layers: int(1),
  mlp_t: bool(false),
};

/** Values of keys an architecture does not have (so every model reads one config shape). */
const NEUTRAL: Partial<ReasoningModelConfig> = {
  L_cycles: 1,
  L_layers: 0,
  mlp_t: false,
  puzzle_emb_len: 0,
  no_ACT_continue: false,
  act_enabled: true,
  act_inference: false,
};

const IGNORED = new Set(['name', 'loss', 'causal']);

/** Validates `dict` against `table`, fills defaults, and returns the full config. */
export function parseConfig(table: FieldTable, dict: Record<string, unknown>, owner: string): ReasoningModelConfig {
  if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) {
    throw new TypeError(`${owner}: expected a config object but received ${String(dict)}`);
  }
  const keys = Object.keys(table) as Key[];
  for (const k of Object.keys(dict)) {
    if (IGNORED.has(k) || (keys as string[]).includes(k)) continue;
    throw new TypeError(`${owner}: unknown config key '${k}'.${didYouMean(k, keys)}`);
  }
  if (dict.causal !== undefined && dict.causal !== false) throw new TypeError(`${owner}: only causal=false is supported (attention is bidirectional)`);
  const out: Record<string, unknown> = { ...NEUTRAL };
  for (const k of keys) {
    const spec = table[k]!;
    const v = dict[k] ?? spec.default;
    if (v === undefined) throw new TypeError(`${owner}: missing required config key '${k}'`);
    out[k] = checkValue(k, v, spec, owner);
  }
  return out as unknown as ReasoningModelConfig;
}

function checkValue(key: string, v: unknown, spec: FieldSpec, owner: string): unknown {
  const bad = (what: string) => new TypeError(`${owner}: expected ${what} for ${key} but received ${JSON.stringify(v)}`);
  switch (spec.kind) {
    case 'bool':
      if (typeof v !== 'boolean') throw bad('a boolean');
      return v;
    case 'enum':
      if (typeof v !== 'string' || !spec.values!.includes(v)) throw bad(`one of ${spec.values!.join(', ')}`);
      return v;
    case 'int':
    case 'float': {
      if (typeof v !== 'number' || !Number.isFinite(v) || (spec.kind === 'int' && !Number.isInteger(v))) throw bad(spec.kind === 'int' ? 'an integer' : 'a number');
      if (spec.min !== undefined && v < spec.min) throw bad(`a value >= ${spec.min}`);
      if (spec.max !== undefined && v > spec.max) throw bad(`a value <= ${spec.max}`);
      return v;
    }
  }
}

/** Sequence positions taken by the puzzle embedding. */
export function puzzleEmbLen(c: ReasoningModelConfig): number {
  return c.puzzle_emb_len === 0 ? Math.ceil(c.puzzle_emb_ndim / c.hidden_size) : c.puzzle_emb_len;
}
