// TorchScript from TypeScript: compile source to functions, load and save script modules, and
// export a trained model to a module Python's torch.jit.load runs.
export { compile } from './function';
export type { ScriptFunction, ScriptFunctions, AnyFunction } from './function';
export { ScriptModule, load, loadAsync } from './module';
export type { LoadOptions } from './module';
export { exportModel, loadTrainedModel, ExportError, EXPORTABLE } from './export';
export type { ExportOptions, ExportResult, ExportMetadata, ExportErrorCode } from './export';
