// Architectures and loss heads by their official `name:` strings (`module@Class`), so a config's
// `arch.name` picks the model. Users register their own with registerModel / registerLossHead.
import { didYouMean } from '../util/suggest';
import type { ACTModel } from './recursive_reasoning/act';
import { ACTLossHead, LossType } from './losses';
import { HierarchicalReasoningModel_ACTV1 } from './recursive_reasoning/hrm';
import { Model_ACTV2 } from './recursive_reasoning/transformers_baseline';
import { TinyRecursiveReasoningModel_ACTV1 as TRM } from './recursive_reasoning/trm';
import { TinyRecursiveReasoningModel_ACTV1 as TRMHier6 } from './recursive_reasoning/trm_hier6';
import { TinyRecursiveReasoningModel_ACTV1 as TRMSingleZ } from './recursive_reasoning/trm_singlez';

/** Builds a model from its config dict (the arch keys plus batch_size, seq_len, vocab_size, num_puzzle_identifiers). */
export type ModelFactory = (config: Record<string, unknown>) => ACTModel;
export type LossHeadFactory = (model: ACTModel, options: Record<string, unknown>) => ACTLossHead;

const models = new Map<string, ModelFactory>();
const lossHeads = new Map<string, LossHeadFactory>();

/** Registers (or, with replace, overrides) an architecture under a `module@Class` name. */
export function registerModel(name: string, factory: ModelFactory, options: { replace?: boolean } = {}): void {
  if (typeof name !== 'string' || !/^[\w.]+@\w+$/.test(name)) throw new TypeError(`Expected a model name like 'module.path@ClassName' but received ${JSON.stringify(name)}`);
  if (typeof factory !== 'function') throw new TypeError(`Expected a factory function for '${name}'`);
  if (models.has(name) && !options.replace) throw new TypeError(`model '${name}' is already registered (pass { replace: true } to override it)`);
  models.set(name, factory);
}

export function registerLossHead(name: string, factory: LossHeadFactory, options: { replace?: boolean } = {}): void {
  if (lossHeads.has(name) && !options.replace) throw new TypeError(`loss head '${name}' is already registered (pass { replace: true } to override it)`);
  lossHeads.set(name, factory);
}

export function modelNames(): string[] {
  return [...models.keys()];
}

export function lossHeadNames(): string[] {
  return [...lossHeads.keys()];
}

/** The model registered as `name`, built from `config`. */
export function createModel(name: string, config: Record<string, unknown>): ACTModel {
  const factory = models.get(name);
  if (!factory) throw new TypeError(`unknown model '${name}'.${didYouMean(name, models.keys())} Registered: ${modelNames().join(', ')}`);
  return factory(config);
}

/** A loss head (e.g. `losses@ACTLossHead` with `{ loss_type }`) around `model`. */
export function createLossHead(name: string, model: ACTModel, options: Record<string, unknown>): ACTLossHead {
  const factory = lossHeads.get(name);
  if (!factory) throw new TypeError(`unknown loss head '${name}'.${didYouMean(name, lossHeads.keys())} Registered: ${lossHeadNames().join(', ')}`);
  return factory(model, options);
}

registerModel('recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1', (c) => new TRM(c));
registerModel('recursive_reasoning.trm_singlez@TinyRecursiveReasoningModel_ACTV1', (c) => new TRMSingleZ(c));
registerModel('recursive_reasoning.trm_hier6@TinyRecursiveReasoningModel_ACTV1', (c) => new TRMHier6(c));
registerModel('recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1', (c) => new HierarchicalReasoningModel_ACTV1(c));
registerModel('recursive_reasoning.transformers_baseline@Model_ACTV2', (c) => new Model_ACTV2(c));
registerLossHead('losses@ACTLossHead', (model, o) => {
  const extra = Object.keys(o).filter((k) => k !== 'loss_type' && k !== 'name');
  if (extra.length) throw new TypeError(`losses@ACTLossHead: unknown option '${extra[0]}'.${didYouMean(extra[0], ['loss_type'])}`);
  return new ACTLossHead(model, (o.loss_type ?? 'stablemax_cross_entropy') as LossType);
});
