// Lifetime: JS's collector does not see native memory, so tensors are freed explicitly —
// dispose(), or a scope (tidy) that frees every tensor made inside except what it returns or keeps.
// A FinalizationRegistry is only a backstop for tensors that live outside any scope.
import { native } from './native';

/** What the scope machinery needs of a tensor. */
export interface Handle {
  id: number;
  /** @internal registered with the finalizer backstop */
  registered: boolean;
  /** @internal exempt from scopes (keep()) */
  kept: boolean;
}

export const TENSOR = Symbol.for('@trm/core.Tensor');

const scopes: Handle[][] = [];
const backstop = new FinalizationRegistry<number>((id) => {
  try {
    native.dispose(id);
  } catch {
    // Already freed (e.g. the native table was torn down): nothing to do.
  }
});

/** Called by every new tensor: the innermost scope owns it, or the finalizer backstop does. */
export function track(t: Handle): void {
  const top = scopes.length ? scopes[scopes.length - 1] : undefined;
  if (top) top.push(t);
  else register(t);
}

function register(t: Handle): void {
  if (t.registered) return;
  backstop.register(t, t.id, t);
  t.registered = true;
}

/** Frees the handle now. Idempotent; using the tensor afterwards throws a TorchError. */
export function release(t: Handle): void {
  if (t.id < 0) return;
  const id = t.id;
  t.id = -1;
  if (t.registered) backstop.unregister(t);
  native.dispose(id);
}

function collect(value: unknown, out: Set<Handle>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if ((value as Record<symbol, unknown>)[TENSOR]) {
    out.add(value as Handle);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out, seen);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out, seen);
}

function close(scope: Handle[], result: unknown): void {
  const keep = new Set<Handle>();
  collect(result, keep);
  const parent = scopes.length ? scopes[scopes.length - 1] : undefined;
  for (const t of scope) {
    if (t.id < 0 || t.kept) continue;
    if (keep.has(t)) {
      if (parent) parent.push(t);
      else register(t);
    } else {
      release(t);
    }
  }
}

/**
 * Runs `fn` and frees every tensor created inside it except those it returns (also inside arrays,
 * Maps and plain objects) and those passed to `keep()`. Like tf.tidy; `fn` must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Handle[] = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    close(scope, undefined);
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    close(scope, undefined);
    throw new TypeError('tidy(fn): fn must be synchronous (it returned a Promise); dispose tensors by hand across awaits');
  }
  close(scope, result);
  return result;
}

/**
 * Exempts a tensor (or every tensor in arrays / Maps / plain objects of them, e.g. an ACT carry)
 * from every enclosing scope; it then lives until dispose() (or the backstop).
 */
export function keep<T>(value: T): T {
  const found = new Set<Handle>();
  collect(value, found);
  for (const t of found) {
    t.kept = true;
    register(t);
  }
  return value;
}

/** Frees every tensor found in `value` (a tensor, or arrays / Maps / plain objects of them). */
export function dispose(value: unknown): void {
  const found = new Set<Handle>();
  collect(value, found);
  for (const t of found) release(t);
}

/** Live tensor handles and the bytes of the distinct storages they hold. */
export function memory(): { tensors: number; bytes: number } {
  return native.memory();
}
