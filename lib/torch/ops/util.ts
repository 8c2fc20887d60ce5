// Shared by the op files: resolving ATen ops, calling them with handles, attaching methods.
import { native } from '../native';
import { Op } from '../op';
import { Tensor, wrap } from '../tensor';

export const A = (qualified: string): Op => new Op(`aten::${qualified}`);

/** Calls `op` and wraps the returned handle (an input given back stays that same object). */
export function run(op: Op, self: Tensor, ...args: unknown[]): Tensor {
  return wrap(native.call(op.handle, self.handle, ...args) as number, self);
}

/** Calls an in-place op and returns `self`. */
export function runInPlace(op: Op, self: Tensor, ...args: unknown[]): Tensor {
  native.call(op.handle, self.handle, ...args);
  return self;
}

export function wrapList(ids: unknown): Tensor[] {
  return (ids as number[]).map((id) => new Tensor(id));
}

export const handleOf = (t: Tensor): number => t.handle;
export const optHandle = (t: Tensor | null | undefined): number | null => (t ? t.handle : null);

type Method = (self: Tensor, ...args: never[]) => unknown;

/** Makes `fn(self, ...args)` callable as `self.name(...args)`. */
export function attach(methods: Record<string, Method>): void {
  const proto = Tensor.prototype as unknown as Record<string, unknown>;
  for (const [name, fn] of Object.entries(methods)) {
    const f = fn as (self: Tensor, ...args: unknown[]) => unknown;
    // Fixed arity: a rest/spread wrapper costs more than the op's own JS work. Missing arguments
    // arrive as undefined, which defaults fill; more than six go through the slow path.
    proto[name] = function (this: Tensor, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, g?: unknown) {
      // eslint-disable-next-line prefer-rest-params
      return arguments.length > 6 ? f(this, ...(arguments as unknown as unknown[])) : f(this, a, b, c, d, e, g);
    };
  }
}
