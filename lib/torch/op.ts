// ATen operators by name. Typed wrappers hold an `Op` (resolved once, on first use); `ops.aten.x(...)`
// reaches any of the ~2,000 operators through the same native entry, choosing the overload that
// fits the arguments, with keyword arguments as a trailing plain object.
import { TorchError } from './errors';
import { native, OpArg, OpInfo } from './native';
import { TENSOR } from './scope';
import { editDistance } from '../util/suggest';
import type { Tensor } from './tensor';

/** A resolved operator, e.g. `new Op('aten::add.Tensor')`. */
export class Op {
  private info_: OpInfo | null = null;
  constructor(readonly qualified: string) {}

  get handle(): number {
    return (this.info_ ?? this.resolve()).handle;
  }

  get info(): OpInfo {
    return this.info_ ?? this.resolve();
  }

  private resolve(): OpInfo {
    const dot = this.qualified.indexOf('.', this.qualified.indexOf('::'));
    const name = dot < 0 ? this.qualified : this.qualified.slice(0, dot);
    const overload = dot < 0 ? '' : this.qualified.slice(dot + 1);
    const info = native.findOp(name, overload);
    if (!info) throw unknownOp(this.qualified);
    this.info_ = info;
    return info;
  }
}

function unknownOp(qualified: string): TorchError {
  const base = qualified.split('.')[0];
  const names = [...new Set(native.allOps().map((n) => n.split('.')[0]))];
  const best = names
    .map((n) => [n, editDistance(n, base)] as const)
    .sort((x, y) => x[1] - y[1])
    .slice(0, 3)
    .filter(([, d]) => d <= Math.max(2, base.length / 3))
    .map(([n]) => n);
  const hint = best.length ? ` Did you mean ${best.join(', ')}?` : '';
  return new TorchError(`unknown operator '${qualified}'.${hint}`, qualified);
}

const overloadCache = new Map<string, Op[]>();

function overloadsOf(name: string): Op[] {
  let list = overloadCache.get(name);
  if (!list) {
    const names = native.overloads(name);
    if (!names.length) throw unknownOp(name);
    // The default overload first, then by name, so `add(t, t)` picks add.Tensor before add.out.
    names.sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b)));
    // Named-tensor (Dimname) and out= overloads are never what a plain call means.
    const all = names.map((o) => new Op(o ? `${name}.${o}` : name));
    list = all.filter((op) => !op.info.schema.includes('Dimname') && !op.info.args.some((a) => a.name === 'out' && a.mutates));
    if (!list.length) list = all;
    overloadCache.set(name, list);
  }
  return list;
}

function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[TENSOR] === true;
}

function fits(v: unknown, type: string, loose = true): boolean {
  if (v === undefined) return true;
  if (type.endsWith('?')) return v === null || fits(v, type.slice(0, -1), loose);
  if (type === 'Tensor') return isTensor(v);
  if (type === 'int' || type === 'SymInt') return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
  if (type === 'ScalarType' || type === 'Layout' || type === 'MemoryFormat') return typeof v === 'string';
  if (type === 'float') return typeof v === 'number';
  if (type === 'Scalar' || type === 'number') return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint';
  if (type === 'bool') return typeof v === 'boolean';
  if (type === 'str' || type === 'Device') return typeof v === 'string';
  if (type.endsWith('[]')) {
    const elem = type.replace(/\[\d*\]$/, '');
    // Like Python, an int stands for an int[] — but only once no overload takes it exactly.
    if (!Array.isArray(v)) return loose && (elem === 'int' || elem === 'SymInt') && typeof v === 'number';
    return v.every((e) => fits(e, elem, loose));
  }
  if (/\[\d+\]$/.test(type)) return fits(v, type.replace(/\[\d+\]$/, '[]'), loose);
  return true;
}

function toNative(v: unknown): unknown {
  if (isTensor(v)) return v.id; // -1 once disposed: the native call reports it, naming the op
  if (Array.isArray(v)) return v.map(toNative);
  return v;
}

/** Lays positional and keyword arguments out in schema order; null when they do not fit. */
function layout(info: OpInfo, positional: unknown[], kwargs: Record<string, unknown>, loose: boolean): unknown[] | null {
  const args = info.args;
  const positionalSlots = args.filter((a) => !a.kwargOnly).length;
  if (positional.length > positionalSlots) return null;
  const out: unknown[] = new Array(args.length).fill(undefined);
  positional.forEach((v, i) => (out[i] = v));
  for (const [k, v] of Object.entries(kwargs)) {
    const i = args.findIndex((a) => a.name === k);
    if (i < 0 || (i < positional.length)) return null;
    out[i] = v;
  }
  for (let i = 0; i < args.length; i++) {
    const a: OpArg = args[i];
    if (out[i] === undefined && !a.hasDefault && !a.type.endsWith('?')) return null;
    if (!fits(out[i], /^(ScalarType|Layout|MemoryFormat)\??$/.test(a.realType) ? a.realType : a.type, loose)) return null;
  }
  while (out.length && out[out.length - 1] === undefined) out.pop();
  return out;
}

/** Calls an operator by name: `call('aten::add', a, b, { alpha: 2 })`. Overload as `aten::add.Tensor`. */
export function call(qualified: string, ...args: unknown[]): unknown {
  const last = args[args.length - 1];
  const kwargs =
    last !== null && typeof last === 'object' && Object.getPrototypeOf(last) === Object.prototype
      ? (args.pop() as Record<string, unknown>)
      : {};
  const hasOverload = qualified.indexOf('.', qualified.indexOf('::')) >= 0;
  const candidates = hasOverload ? [new Op(qualified)] : overloadsOf(qualified);
  const fitting = (loose: boolean) => candidates.map((op) => [op, layout(op.info, args, kwargs, loose)] as const).find(([, laid]) => laid);
  const match = fitting(false) ?? fitting(true);
  if (match) {
    const [op, laid] = match as readonly [Op, unknown[]];
    const inputs = laid.flat().filter(isTensor);
    const result = native.call(op.handle, ...laid.map(toNative));
    return fromNative(result, op.info.returns, inputs);
  }
  const schemas = candidates.map((o) => `  ${o.info.schema}`).join('\n');
  const given = args.map(describeValue).concat(Object.keys(kwargs).map((k) => `${k}=${describeValue(kwargs[k])}`));
  throw new TorchError(`no overload accepts (${given.join(', ')}). Schemas:\n${schemas}`, qualified);
}

function describeValue(v: unknown): string {
  if (isTensor(v)) return v.id < 0 ? 'disposed Tensor' : `Tensor[${v.shape.join(', ')}] ${v.dtype}`;
  if (Array.isArray(v)) return `[${v.map(describeValue).join(', ')}]`;
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

let wrapTensor: (id: number) => Tensor;
/** @internal the Tensor module registers its constructor here (it imports this module). */
export function setTensorFactory(f: (id: number) => Tensor): void {
  wrapTensor = f;
}

function fromNative(result: unknown, returns: OpArg[], inputs: Tensor[]): unknown {
  const one = (v: unknown, type: string): unknown => {
    if (v === null || v === undefined) return v ?? undefined;
    if (type.startsWith('Tensor') && type.endsWith('[]')) return (v as unknown[]).map((e) => one(e, 'Tensor'));
    if (type.startsWith('Tensor')) {
      const id = v as number;
      return inputs.find((t) => t.id === id) ?? wrapTensor(id);
    }
    return v;
  };
  if (returns.length === 1) return one(result, returns[0].type);
  if (returns.length === 0) return undefined;
  return (result as unknown[]).map((v, i) => one(v, returns[i].type));
}

/** `ops.aten.softmax(x, 1)`: every ATen operator, by name. */
export const ops: Record<string, Record<string, (...args: unknown[]) => unknown>> = new Proxy(
  {},
  {
    get: (_t, ns: string) =>
      new Proxy({}, { get: (_u, name: string) => (...args: unknown[]) => call(`${ns}::${name}`, ...args) }),
  }
);
