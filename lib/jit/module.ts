// ScriptModule: a TorchScript module loaded from a file (Python's torch.jit.save, ours) or built
// by export: methods by name, parameters and buffers, train/eval, dtype/device moves, save.
import * as fs from 'fs';
import { Tensor, TorchError } from '../torch';
import type { DType } from '../torch';
import { JitFunctionInfo, JitHandle, native } from '../torch/native';
import { scriptFunction } from './function';
import { toNative, wrapTensor } from './values';

export interface LoadOptions {
  /** Where to put the module's tensors ('cpu', 'cuda:0'); default: where they were saved. */
  device?: string;
}

export class ScriptModule {
  /** @internal use jit.load / jit.loadAsync */
  constructor(readonly handle: JitHandle) {}

  /** Every method (`self` left out of the argument lists). */
  get methods(): JitFunctionInfo[] {
    return native.jitFunctions(this.handle);
  }

  hasMethod(name: string): boolean {
    return this.methods.some((m) => m.name === name);
  }

  forward(...args: unknown[]): unknown {
    return this.call('forward', ...args);
  }

  /** Runs `forward` on a worker thread; the result's tensors are created back on this thread. */
  forwardAsync(...args: unknown[]): Promise<unknown> {
    return this.callAsync('forward', ...args);
  }

  /** Calls any method by name. */
  call(method: string, ...args: unknown[]): unknown {
    return native.jitCall(this.handle, checkName(method), args.map(toNative), undefined, wrapTensor);
  }

  callAsync(method: string, ...args: unknown[]): Promise<unknown> {
    return native.jitCallAsync(this.handle, checkName(method), args.map(toNative), undefined, wrapTensor);
  }

  /** A method as a callable with its signature (`module.method('forward').info.schema`). */
  method(name: string): ReturnType<typeof scriptFunction> {
    const info = this.methods.find((m) => m.name === name);
    if (!info) throw new TorchError(`the module has no method '${name}' (it has ${this.methods.map((m) => m.name).join(', ')})`, name);
    return scriptFunction(this.handle, info);
  }

  /** [name, tensor] pairs, dotted names as in Python's state_dict. New handles: the caller owns them. */
  namedParameters(recurse = true): [string, Tensor][] {
    return native.jitNamedTensors(this.handle, 'parameters', recurse, wrapTensor) as [string, Tensor][];
  }

  namedBuffers(recurse = true): [string, Tensor][] {
    return native.jitNamedTensors(this.handle, 'buffers', recurse, wrapTensor) as [string, Tensor][];
  }

  parameters(recurse = true): Tensor[] {
    return this.namedParameters(recurse).map(([, t]) => t);
  }

  /** An attribute the module holds (ints, floats, strings, tensors...); undefined when it has none. */
  attr(name: string): unknown {
    return native.jitAttr(this.handle, checkName(name), wrapTensor);
  }

  get training(): boolean {
    return native.jitTrain(this.handle);
  }

  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new TorchError(`Expected a boolean for mode but received ${String(mode)}`, 'jit.train');
    native.jitTrain(this.handle, mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Casts floating-point tensors to a dtype and/or moves everything to a device, in place. */
  to(target: DType | string | { dtype?: DType; device?: string }): this {
    const spec = typeof target === 'string' ? (target === 'cpu' || target.startsWith('cuda') ? { device: target } : { dtype: target as DType }) : target;
    native.jitTo(this.handle, spec.dtype ?? null, spec.device ?? null);
    return this;
  }

  /** Writes the module (code, parameters, buffers, attributes); Python's torch.jit.load reads it. */
  save(path: string): void {
    native.jitSave(this.handle, checkName(path, 'path'));
  }
}

function checkName(v: string, what = 'name'): string {
  if (typeof v !== 'string' || v === '') throw new TorchError(`Expected a non-empty string for ${what} but received ${JSON.stringify(v)}`, 'jit');
  return v;
}

function checkFile(path: string, op: string): string {
  checkName(path, 'path');
  if (!fs.existsSync(path)) throw new TorchError(`no such file '${path}'`, op);
  return path;
}

/** Loads a saved TorchScript module (Python's torch.jit.save or ScriptModule.save). */
export function load(path: string, options: LoadOptions = {}): ScriptModule {
  return new ScriptModule(native.jitLoad(checkFile(path, 'jit.load'), options.device));
}

/** load() with the file read and deserialized on a worker thread. */
export async function loadAsync(path: string, options: LoadOptions = {}): Promise<ScriptModule> {
  return new ScriptModule(await native.jitLoadAsync(checkFile(path, 'jit.loadAsync'), options.device));
}
