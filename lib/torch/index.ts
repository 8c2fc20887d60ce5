// `torch`: tensors, ops, autograd, scopes and runtime settings, as one namespace.
import './ops/math';
import './ops/reduce';
import './ops/shape';
import './ops/indexing';
import './ops/nn';

export { Tensor } from './tensor';
export type { BackwardOptions, NestedArray } from './tensor';
export { TorchError } from './errors';
export type { DType, TypedArray } from './dtype';
export { DTYPES, isFloatingDtype } from './dtype';
export * from './creation';
export * from './ops/math';
export * from './ops/reduce';
export * from './ops/shape';
export * from './ops/indexing';
export * from './ops/nn';
export * from './ops/fused';
export { noGrad, enableGrad, inferenceMode, isGradEnabled, setGradEnabled, isInferenceModeEnabled } from './autograd';
export { tidy, keep, dispose, memory } from './scope';
export { call, ops, Op } from './op';
export * from './runtime';
export { save, load } from './save';
export { mmapFile, gatherRows } from './mmap';
export type { RowGather } from './mmap';
