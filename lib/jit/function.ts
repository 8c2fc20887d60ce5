// jit.compile: TorchScript source to callable functions. Arguments convert by each function's
// declared types (tensors, numbers, booleans, strings, null, arrays as lists or tuples, objects
// as dicts); autograd flows through the calls.
import { TorchError } from '../torch';
import { JitFunctionInfo, JitHandle, native } from '../torch/native';
import { toNative, wrapTensor } from './values';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFunction = (...args: any[]) => any;

/** A compiled TorchScript function (or a script module's method), callable from JS. */
export interface ScriptFunction<F extends AnyFunction = AnyFunction> {
  (...args: Parameters<F>): ReturnType<F>;
  /** Name, schema and argument types as TorchScript declares them. */
  readonly info: JitFunctionInfo;
  /** The same call on a worker thread (grad mode as the caller's); tensors come back on this thread. */
  callAsync(...args: Parameters<F>): Promise<ReturnType<F>>;
  /** Positional arguments plus keyword arguments by name. */
  callWithKwargs(args: unknown[], kwargs: Record<string, unknown>): ReturnType<F>;
}

/** The functions of compiled source, by name; `T` types them, e.g. `{ f(x: Tensor): Tensor }`. */
export type ScriptFunctions<T extends Record<string, AnyFunction>> = { [K in keyof T]: ScriptFunction<T[K]> };

/** @internal a callable for `name` on a compilation unit or module handle. */
export function scriptFunction<F extends AnyFunction>(handle: JitHandle, info: JitFunctionInfo): ScriptFunction<F> {
  const call = (...args: unknown[]) => native.jitCall(handle, info.name, args.map(toNative), undefined, wrapTensor);
  return Object.assign(call, {
    info,
    callAsync: (...args: unknown[]) => native.jitCallAsync(handle, info.name, args.map(toNative), undefined, wrapTensor),
    callWithKwargs: (args: unknown[], kwargs: Record<string, unknown>) =>
      native.jitCall(handle, info.name, args.map(toNative), toNative(kwargs) as Record<string, unknown>, wrapTensor),
  }) as unknown as ScriptFunction<F>;
}

/**
 * Compiles TorchScript source (only `torch.*` builtins resolve) and returns its functions by
 * name. A compile error throws a TorchError with TorchScript's message, line and caret.
 *
 *     const { scale } = jit.compile<{ scale(x: Tensor, k: number): Tensor }>(
 *       'def scale(x: Tensor, k: float) -> Tensor:\n    return x * k\n');
 */
export function compile<T extends Record<string, AnyFunction> = Record<string, AnyFunction>>(source: string): ScriptFunctions<T> {
  if (typeof source !== 'string') throw new TorchError(`Expected a string of TorchScript source but received ${typeof source}`, 'jit.compile');
  const { handle, functions } = native.jitCompile(source);
  const out: Record<string, ScriptFunction> = {};
  for (const info of functions) out[info.name] = scriptFunction(handle, info);
  return out as ScriptFunctions<T>;
}
