// Pointwise math: arithmetic, unary functions, comparisons and logic, with in-place variants.
import { native } from '../native';
import { Tensor, wrap } from '../tensor';
import { A, attach, run, runInPlace } from './util';

type Operand = Tensor | number;

/** A binary op with a Tensor and a Scalar overload. */
function binary(tensorOp: string, scalarOp: string) {
  const t = A(tensorOp);
  const s = A(scalarOp);
  return (a: Tensor, b: Operand, ...extra: unknown[]): Tensor =>
    typeof b === 'number'
      ? wrap(native.call(s.handle, a.handle, b, ...extra) as number, a)
      : wrap(native.call(t.handle, a.handle, b.handle, ...extra) as number, a, b);
}

function binaryInPlace(tensorOp: string, scalarOp: string) {
  const t = A(tensorOp);
  const s = A(scalarOp);
  return (a: Tensor, b: Operand, ...extra: unknown[]): Tensor => {
    native.call(typeof b === 'number' ? s.handle : t.handle, a.handle, typeof b === 'number' ? b : b.handle, ...extra);
    return a;
  };
}

function unary(name: string) {
  const op = A(name);
  return (x: Tensor): Tensor => run(op, x);
}

function unaryInPlace(name: string) {
  const op = A(name);
  return (x: Tensor): Tensor => runInPlace(op, x);
}

const ADD_T = A('add.Tensor');
const ADD_S = A('add.Scalar');

/** a + alpha·b */
export function add(a: Tensor, b: Operand, alpha?: number): Tensor {
  if (typeof b === 'number') return wrap(native.call(ADD_S.handle, a.handle, b, alpha) as number, a);
  return wrap(native.call(ADD_T.handle, a.handle, b.handle, alpha) as number, a, b);
}

/** a − alpha·b */
export const sub = binary('sub.Tensor', 'sub.Scalar') as (a: Tensor, b: Operand, alpha?: number) => Tensor;
export const mul = binary('mul.Tensor', 'mul.Scalar') as (a: Tensor, b: Operand) => Tensor;
const divPlain = binary('div.Tensor', 'div.Scalar');
const divMode = binary('div.Tensor_mode', 'div.Scalar_mode');
/** a / b; `roundingMode` 'trunc' or 'floor' as in torch.div. */
export function div(a: Tensor, b: Operand, roundingMode?: 'trunc' | 'floor'): Tensor {
  return roundingMode ? divMode(a, b, roundingMode) : divPlain(a, b);
}
export const remainder = binary('remainder.Tensor', 'remainder.Scalar') as (a: Tensor, b: Operand) => Tensor;
export const pow = binary('pow.Tensor_Tensor', 'pow.Tensor_Scalar') as (a: Tensor, b: Operand) => Tensor;
const ATAN2 = A('atan2');
export const atan2 = (a: Tensor, b: Tensor): Tensor => wrap(native.call(ATAN2.handle, a.handle, b.handle) as number, a, b);
const MAXIMUM = A('maximum');
const MINIMUM = A('minimum');
export const maximum = (a: Tensor, b: Tensor): Tensor => wrap(native.call(MAXIMUM.handle, a.handle, b.handle) as number, a, b);
export const minimum = (a: Tensor, b: Tensor): Tensor => wrap(native.call(MINIMUM.handle, a.handle, b.handle) as number, a, b);

export const eq = binary('eq.Tensor', 'eq.Scalar') as (a: Tensor, b: Operand) => Tensor;
export const ne = binary('ne.Tensor', 'ne.Scalar') as (a: Tensor, b: Operand) => Tensor;
export const lt = binary('lt.Tensor', 'lt.Scalar') as (a: Tensor, b: Operand) => Tensor;
export const le = binary('le.Tensor', 'le.Scalar') as (a: Tensor, b: Operand) => Tensor;
export const gt = binary('gt.Tensor', 'gt.Scalar') as (a: Tensor, b: Operand) => Tensor;
export const ge = binary('ge.Tensor', 'ge.Scalar') as (a: Tensor, b: Operand) => Tensor;
const LAND = A('logical_and');
const LOR = A('logical_or');
export const logicalAnd = (a: Tensor, b: Tensor): Tensor => wrap(native.call(LAND.handle, a.handle, b.handle) as number, a, b);
export const logicalOr = (a: Tensor, b: Tensor): Tensor => wrap(native.call(LOR.handle, a.handle, b.handle) as number, a, b);
export const logicalNot = unary('logical_not');

export const neg = unary('neg');
export const abs = unary('abs');
export const sign = unary('sign');
export const exp = unary('exp');
export const log = unary('log');
export const log1p = unary('log1p');
export const sqrt = unary('sqrt');
export const rsqrt = unary('rsqrt');
export const square = unary('square');
export const reciprocal = unary('reciprocal');
export const sin = unary('sin');
export const cos = unary('cos');
export const tanh = unary('tanh');
export const sigmoid = unary('sigmoid');
export const relu = unary('relu');
export const silu = unary('silu');
export const floor = unary('floor');
export const ceil = unary('ceil');
export const round = unary('round');
export const isnan = unary('isnan');
export const isfinite = unary('isfinite');
const GELU = A('gelu');
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor => run(GELU, x, approximate);

const CLAMP = A('clamp');
const CLAMP_ = A('clamp_');
export const clamp = (x: Tensor, min?: number | null, max?: number | null): Tensor => run(CLAMP, x, min ?? null, max ?? null);
export const clamp_ = (x: Tensor, min?: number | null, max?: number | null): Tensor => runInPlace(CLAMP_, x, min ?? null, max ?? null);

const LERP_S = A('lerp.Scalar');
const LERP_T = A('lerp.Tensor');
/** a + weight·(end − a) */
export function lerp(a: Tensor, end: Tensor, weight: Operand): Tensor {
  return typeof weight === 'number'
    ? wrap(native.call(LERP_S.handle, a.handle, end.handle, weight) as number, a)
    : wrap(native.call(LERP_T.handle, a.handle, end.handle, weight.handle) as number, a);
}
const ADDCMUL = A('addcmul');
const ADDCDIV = A('addcdiv');
/** self + value·t1·t2 */
export const addcmul = (x: Tensor, t1: Tensor, t2: Tensor, value = 1): Tensor => run(ADDCMUL, x, t1.handle, t2.handle, value);
/** self + value·t1/t2 */
export const addcdiv = (x: Tensor, t1: Tensor, t2: Tensor, value = 1): Tensor => run(ADDCDIV, x, t1.handle, t2.handle, value);

const WHERE = A('where.self');
const WHERE_SS = A('where.Scalar');
const WHERE_SO = A('where.ScalarOther');
const WHERE_SSelf = A('where.ScalarSelf');
/** Elementwise `condition ? a : b`. */
export function where(condition: Tensor, a: Operand, b: Operand): Tensor {
  const c = condition.handle;
  if (typeof a === 'number' && typeof b === 'number') return new Tensor(native.call(WHERE_SS.handle, c, a, b) as number);
  if (typeof a === 'number') return new Tensor(native.call(WHERE_SSelf.handle, c, a, (b as Tensor).handle) as number);
  if (typeof b === 'number') return new Tensor(native.call(WHERE_SO.handle, c, a.handle, b) as number);
  return new Tensor(native.call(WHERE.handle, c, a.handle, b.handle) as number);
}

// In place.
export const add_ = binaryInPlace('add_.Tensor', 'add_.Scalar') as (a: Tensor, b: Operand, alpha?: number) => Tensor;
export const sub_ = binaryInPlace('sub_.Tensor', 'sub_.Scalar') as (a: Tensor, b: Operand, alpha?: number) => Tensor;
export const mul_ = binaryInPlace('mul_.Tensor', 'mul_.Scalar') as (a: Tensor, b: Operand) => Tensor;
export const div_ = binaryInPlace('div_.Tensor', 'div_.Scalar') as (a: Tensor, b: Operand) => Tensor;
export const pow_ = binaryInPlace('pow_.Tensor', 'pow_.Scalar') as (a: Tensor, b: Operand) => Tensor;
const LERP_S_ = A('lerp_.Scalar');
const LERP_T_ = A('lerp_.Tensor');
export function lerp_(a: Tensor, end: Tensor, weight: Operand): Tensor {
  if (typeof weight === 'number') native.call(LERP_S_.handle, a.handle, end.handle, weight);
  else native.call(LERP_T_.handle, a.handle, end.handle, weight.handle);
  return a;
}
const ADDCMUL_ = A('addcmul_');
const ADDCDIV_ = A('addcdiv_');
export const addcmul_ = (x: Tensor, t1: Tensor, t2: Tensor, value = 1): Tensor => runInPlace(ADDCMUL_, x, t1.handle, t2.handle, value);
export const addcdiv_ = (x: Tensor, t1: Tensor, t2: Tensor, value = 1): Tensor => runInPlace(ADDCDIV_, x, t1.handle, t2.handle, value);
export const neg_ = unaryInPlace('neg_');
export const exp_ = unaryInPlace('exp_');
export const sqrt_ = unaryInPlace('sqrt_');
export const sigmoid_ = unaryInPlace('sigmoid_');
export const zero_ = unaryInPlace('zero_');
const FILL_S = A('fill_.Scalar');
const FILL_T = A('fill_.Tensor');
export const fill_ = (x: Tensor, value: Operand | boolean): Tensor =>
  value instanceof Tensor ? runInPlace(FILL_T, x, value.handle) : runInPlace(FILL_S, x, value);
const COPY_ = A('copy_');
/** Copies `src` (broadcast, cast) into `x`. */
export const copy_ = (x: Tensor, src: Tensor): Tensor => runInPlace(COPY_, x, src.handle);

declare module '../tensor' {
  interface Tensor {
    add(other: Operand, alpha?: number): Tensor;
    sub(other: Operand, alpha?: number): Tensor;
    mul(other: Operand): Tensor;
    div(other: Operand, roundingMode?: 'trunc' | 'floor'): Tensor;
    remainder(other: Operand): Tensor;
    pow(exponent: Operand): Tensor;
    atan2(other: Tensor): Tensor;
    maximum(other: Tensor): Tensor;
    minimum(other: Tensor): Tensor;
    eq(other: Operand): Tensor;
    ne(other: Operand): Tensor;
    lt(other: Operand): Tensor;
    le(other: Operand): Tensor;
    gt(other: Operand): Tensor;
    ge(other: Operand): Tensor;
    logicalAnd(other: Tensor): Tensor;
    logicalOr(other: Tensor): Tensor;
    logicalNot(): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    sign(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    log1p(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    square(): Tensor;
    reciprocal(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    silu(): Tensor;
    gelu(approximate?: 'none' | 'tanh'): Tensor;
    floor(): Tensor;
    ceil(): Tensor;
    round(): Tensor;
    isnan(): Tensor;
    isfinite(): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    clamp_(min?: number | null, max?: number | null): Tensor;
    lerp(end: Tensor, weight: Operand): Tensor;
    addcmul(t1: Tensor, t2: Tensor, value?: number): Tensor;
    addcdiv(t1: Tensor, t2: Tensor, value?: number): Tensor;
    where(condition: Tensor, other: Operand): Tensor;
    add_(other: Operand, alpha?: number): this;
    sub_(other: Operand, alpha?: number): this;
    mul_(other: Operand): this;
    div_(other: Operand): this;
    pow_(exponent: Operand): this;
    lerp_(end: Tensor, weight: Operand): this;
    addcmul_(t1: Tensor, t2: Tensor, value?: number): this;
    addcdiv_(t1: Tensor, t2: Tensor, value?: number): this;
    neg_(): this;
    exp_(): this;
    sqrt_(): this;
    sigmoid_(): this;
    zero_(): this;
    fill_(value: Operand | boolean): this;
    copy_(src: Tensor): this;
  }
}

attach({
  add, sub, mul, div, remainder, pow, atan2, maximum, minimum, eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalNot,
  neg, abs, sign, exp, log, log1p, sqrt, rsqrt, square, reciprocal, sin, cos, tanh, sigmoid, relu, silu, gelu, floor, ceil,
  round, isnan, isfinite, clamp, clamp_, lerp, addcmul, addcdiv,
  where: (self: Tensor, condition: Tensor, other: Operand) => where(condition, self, other),
  add_, sub_, mul_, div_, pow_, lerp_, addcmul_, addcdiv_, neg_, exp_, sqrt_, sigmoid_, zero_, fill_, copy_,
});
