// exportModel: a trained checkpoint (with the all_config.yaml its run wrote beside it) to a
// TorchScript module of its inference that Python's torch.jit.load and our jit.load both run:
// forward(inputs [B, seq_len], puzzle_identifiers [B]) -> (predictions, logits, q_halt_logits).
import * as fs from 'fs';
import * as path from 'path';
import * as torch from '../torch';
import { native } from '../torch/native';
import { parseConfigYaml } from '../config';
import type { PretrainConfig } from '../config';
import { readMetadata } from '../data/metadata';
import { Module } from '../nn/module';
import { createModel } from '../models/registry';
import type { ACTModel } from '../models/recursive_reasoning/act';
import { puzzleEmbLen } from '../models/recursive_reasoning/config';
import { COMPILED_PREFIX, loadModelCheckpoint } from '../train/checkpoint';
import { modelConfig } from '../train/train_state';
import { generateInference } from './inference_source';
import { ScriptModule } from './module';
import { Recursion, RECURSIONS } from './recursions';

/** The architectures (config `arch.name`) export writes. */
export const EXPORTABLE = Object.keys(RECURSIONS);

/** What made an export fail, stable enough to branch on. */
export type ExportErrorCode =
  | 'not_found' // the checkpoint or its config does not exist
  | 'unsupported_arch' // an architecture export does not know (or a re-registered model under a known name)
  | 'metadata'; // the dataset's vocab_size / seq_len / num_puzzle_identifiers could not be found

/** A checkpoint export cannot write; bad option values are TypeErrors. */
export class ExportError extends Error {
  override readonly name = 'ExportError';

  constructor(readonly code: ExportErrorCode, message: string) {
    super(message);
  }
}

/** The recursion of `arch` (a config's arch.name), or an ExportError naming what export supports. */
export function recursionOf(arch: string): Recursion {
  const recursion = Object.prototype.hasOwnProperty.call(RECURSIONS, arch) ? RECURSIONS[arch] : undefined;
  if (!recursion) throw new ExportError('unsupported_arch', `export supports ${EXPORTABLE.join(', ')}; this checkpoint is ${arch}`);
  return recursion;
}

/** What the export needs from the dataset (its dataset.json), when not found beside the config. */
export interface ExportMetadata {
  vocab_size: number;
  seq_len: number;
  num_puzzle_identifiers: number;
}

export interface ExportOptions {
  /** The .pt file to write. */
  out: string;
  /** The run's config; default: all_config.yaml beside the checkpoint. */
  config?: string;
  /** Overrides the dataset metadata (default: dataset.json under the config's first data path, else inferred from the weights where it can be). */
  metadata?: Partial<ExportMetadata>;
  /** ACT steps the exported forward runs (default: the config's halt_max_steps). */
  haltMaxSteps?: number;
  log?: (msg: string) => void;
}

export interface ExportResult {
  out: string;
  /** The config the model was built from (arch keys plus the dataset's). */
  modelConfig: Record<string, unknown>;
  module: ScriptModule;
}

/** Holds the model under `model.` so the checkpoint's `model.inner.…` keys load as they are. */
class Holder extends Module {
  constructor(readonly model: ACTModel) {
    super();
    this.registerModule('model', model);
  }
}

/** Builds the model the checkpoint was trained as, with its weights loaded. */
export function loadTrainedModel(checkpoint: string, options: Omit<ExportOptions, 'out'> = {}): { model: ACTModel; config: PretrainConfig; modelConfig: Record<string, unknown> } {
  if (!fs.existsSync(checkpoint)) throw new ExportError('not_found', `checkpoint '${checkpoint}' does not exist`);
  const configFile = options.config ?? path.join(path.dirname(checkpoint), 'all_config.yaml');
  if (!fs.existsSync(configFile)) throw new ExportError('not_found', `no config for '${checkpoint}': expected ${configFile} (the run writes all_config.yaml beside its checkpoints; pass --config)`);
  const config = parseConfigYaml(fs.readFileSync(configFile, 'utf8'), configFile);
  const recursion = recursionOf(config.arch.name);
  const metadata = { ...findMetadata(config, checkpoint, recursion), ...options.metadata };
  for (const key of ['vocab_size', 'seq_len', 'num_puzzle_identifiers'] as const) {
    if (!Number.isInteger(metadata[key]) || metadata[key]! < 1) {
      throw new ExportError('metadata', `the dataset's ${key} is unknown: no dataset.json under ${config.data_paths[0] ?? '(no data path)'}; pass --${key.replace(/_/g, '-')}`);
    }
  }
  const mc = modelConfig(config, metadata as never, 1);
  const model = createModel(config.arch.name, mc);
  loadModelCheckpoint(new Holder(model), checkpoint, options.log);
  model.eval();
  return { model, config, modelConfig: mc };
}

/** dataset.json of the run's first data path; else what the checkpoint's shapes tell. */
function findMetadata(config: PretrainConfig, checkpoint: string, recursion: Recursion): Partial<ExportMetadata> {
  for (const dir of config.data_paths) {
    for (const split of ['train', 'test']) {
      const file = path.join(dir, split, 'dataset.json');
      if (fs.existsSync(file)) {
        const m = readMetadata(file);
        return { vocab_size: m.vocab_size, seq_len: m.seq_len, num_puzzle_identifiers: m.num_puzzle_identifiers };
      }
    }
  }
  const sd = torch.load(checkpoint) as Map<string, torch.Tensor>;
  try {
    const shape = (key: string) => (sd.get(COMPILED_PREFIX + key) ?? sd.get(key))?.shape;
    const out: Partial<ExportMetadata> = { vocab_size: shape('model.inner.embed_tokens.embedding_weight')?.[0], num_puzzle_identifiers: shape('model.inner.puzzle_emb.weights')?.[0] ?? 1 };
    const mlp_t = recursion.levels.map((level) => shape(`model.inner.${level}.layers.0.mlp_t.gate_up_proj.weight`)?.[1]);
    const positions = shape('model.inner.embed_pos.embedding_weight')?.[0] ?? mlp_t.find((n) => n !== undefined);
    if (positions !== undefined) {
      const arch = config.arch as unknown as Record<string, number>;
      const puzzle_emb_len = arch.puzzle_emb_len ?? (recursion.fields.puzzle_emb_len?.default as number | undefined) ?? 0;
      out.seq_len = positions - puzzleEmbLen({ puzzle_emb_len, puzzle_emb_ndim: arch.puzzle_emb_ndim ?? 0, hidden_size: arch.hidden_size } as never);
    }
    return out;
  } finally {
    torch.dispose(sd);
  }
}

/**
 * Writes `options.out`: a TorchScript module whose forward(inputs, puzzle_identifiers) runs the
 * whole ACT loop as evaluation does (every row halt_max_steps steps; a transformers_baseline with
 * act_inference keeps each row's outputs from the step its Q head halts it at) and returns
 * (predictions int64 [B, seq_len], logits [B, seq_len, vocab], q_halt_logits float32 [B]).
 * `run(inputs, puzzle_identifiers, steps)` takes another step count. The module's attributes
 * hold seq_len, vocab_size, num_puzzle_identifiers, halt_max_steps, arch and model_config (JSON).
 */
export function exportModel(checkpoint: string, options: ExportOptions): ExportResult {
  if (!options || typeof options.out !== 'string' || !options.out) throw new TypeError('exportModel: expected options.out, the .pt file to write');
  if (options.haltMaxSteps !== undefined && !(Number.isInteger(options.haltMaxSteps) && options.haltMaxSteps >= 1)) {
    throw new TypeError(`Expected positive integer for haltMaxSteps but received ${options.haltMaxSteps}`);
  }
  const { model, config, modelConfig: mc } = loadTrainedModel(checkpoint, options);
  const halt = options.haltMaxSteps ?? (mc.halt_max_steps as number);
  const inner = model.inner;
  const recursion = recursionOf(config.arch.name);
  if (inner.constructor !== recursion.inner) {
    throw new ExportError('unsupported_arch', `export writes the built-in ${config.arch.name}, but the model registered under that name has another inner module (${inner.constructor.name})`);
  }
  const gen = generateInference(inner, recursion);
  const attributes = {
    arch: config.arch.name,
    model_config: JSON.stringify(mc),
    seq_len: mc.seq_len as number,
    vocab_size: mc.vocab_size as number,
    num_puzzle_identifiers: mc.num_puzzle_identifiers as number,
    puzzle_emb_len: inner.puzzle_emb_len,
    halt_max_steps: halt,
  };
  // Detached: an inference module whose parameters do not require grad.
  const params = gen.parameters.map(([k, t]): [string, torch.Tensor] => [k, t.detach()]);
  let handle;
  try {
    handle = native.jitBuildModule(
      `__torch__.${config.arch.name.replace('@', '.')}`, // e.g. __torch__.recursive_reasoning.hrm.HierarchicalReasoningModel_ACTV1
      params.map(([k, t]) => [k, t.id]),
      gen.buffers.map(([k, t]) => [k, t.id]),
      attributes,
      gen.source
    );
  } finally {
    torch.dispose(params.map(([, t]) => t));
  }
  const module = new ScriptModule(handle);
  fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
  module.save(options.out);
  return { out: options.out, modelConfig: mc, module };
}
