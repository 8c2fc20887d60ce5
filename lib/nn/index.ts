// torch.nn for @trm/core: Module and the layers the recursive reasoning models are built from.
export { Module, ModuleList, StateDictError } from './module';
export type { BufferOptions, LoadStateDictOptions, LoadStateDictResult, ShapeMismatch } from './module';
export { truncNormal_, truncNormal, truncatedNormalScale } from './init';
export { CastedLinear } from './linear';
export { CastedEmbedding } from './embedding';
export { RotaryEmbedding, applyRotaryPosEmb, apply_rotary_pos_emb, rotateHalf } from './rotary';
export type { CosSin } from './rotary';
export { Attention } from './attention';
export { SwiGLU, LinearSwish, swigluIntermediateSize } from './mlp';
export { rmsNorm, rms_norm, addRmsNorm } from './norm';
export { newFull, newZeros } from './like';
export { stateDictToRecords, recordsToStateDict, tensorToRecord, recordToTensor } from './records';
