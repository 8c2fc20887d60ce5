// The recursive reasoning models (TRM, HRM and their baselines), their loss head and registry.
export { CastedSparseEmbedding } from './sparse_embedding';
export * from './registry';
export * from './losses';
export type { ReasoningModelConfig, PosEncodings, ForwardDtype, FieldSpec, FieldTable } from './recursive_reasoning/config';
export { parseConfig, puzzleEmbLen } from './recursive_reasoning/config';
export { ACTModel } from './recursive_reasoning/act';
export type { ACTCarry, ACTOutputs, ACTForwardOptions, ACTStep } from './recursive_reasoning/act';
export { ReasoningInner, Latents } from './recursive_reasoning/inner';
export type { Batch, InnerCarry, InnerOutput } from './recursive_reasoning/inner';
export { ReasoningBlock, ReasoningModule, makeLevel } from './recursive_reasoning/blocks';
export * as trm from './recursive_reasoning/trm';
export * as trm_singlez from './recursive_reasoning/trm_singlez';
export * as trm_hier6 from './recursive_reasoning/trm_hier6';
export * as hrm from './recursive_reasoning/hrm';
export * as transformers_baseline from './recursive_reasoning/transformers_baseline';
