// JS values on their way into native/jit.cc (tensors as handles, Maps as objects) and the
// factory that turns returned tensor handles into Tensors, wherever they sit in the result.
import { Tensor } from '../torch';

/** Tensors become handles (-1 once disposed: the native call reports it), recursively. */
export function toNative(v: unknown): unknown {
  if (v instanceof Tensor) return v.id;
  if (Array.isArray(v)) return v.map(toNative);
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of v) out[String(k)] = toNative(x);
    return out;
  }
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toNative(x);
    return out;
  }
  return v;
}

/** Each returned tensor is a new handle: a Tensor the current scope tracks. */
export const wrapTensor = (id: number): Tensor => new Tensor(id);
