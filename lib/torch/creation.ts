// Making tensors: from JS data (typed arrays and Buffers shared without a copy), and the ATen
// factories (zeros, ones, full, arange, rand, randn, randint, ...).
import { checkDtype, DType, dtypeOfArray, TypedArray } from './dtype';
import { TorchError } from './errors';
import { native } from './native';
import { Op } from './op';
import { NestedArray, Tensor, wrap } from './tensor';

export interface TensorOptions {
  dtype?: DType;
  device?: string;
  requiresGrad?: boolean;
}

const A = (q: string) => new Op(`aten::${q}`);
const TO = A('to.dtype');
const TO_DEVICE = A('to.device');
const ZEROS = A('zeros');
const ONES = A('ones');
const EMPTY = A('empty.memory_format');
const FULL = A('full');
const ARANGE = A('arange.start_step');
const LINSPACE = A('linspace');
const RAND = A('rand');
const RANDN = A('randn');
const RANDINT = A('randint.low');
const EYE = A('eye');
const ZEROS_LIKE = A('zeros_like');
const ONES_LIKE = A('ones_like');
const FULL_LIKE = A('full_like');
const EMPTY_LIKE = A('empty_like');
const RAND_LIKE = A('rand_like');
const RANDN_LIKE = A('randn_like');

function checkShape(shape: readonly number[], what = 'shape'): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(`Expected ${what} to be an array of non-negative integers but received ${JSON.stringify(shape)}`);
  }
  return shape as number[];
}

/** Applies device and requiresGrad after creation (dtype is passed to the factory itself). */
function finish(t: Tensor, o: TensorOptions): Tensor {
  let out = t;
  if (o.device && o.device !== 'cpu') {
    out = wrap(native.call(TO_DEVICE.handle, t.handle, o.device) as number, t);
    if (out !== t) t.dispose();
  }
  if (o.requiresGrad) out.requiresGrad_(true);
  return out;
}

function factory(op: Op, args: unknown[], o: TensorOptions, defaultDtype?: DType): Tensor {
  const dtype = o.dtype ? checkDtype(o.dtype) : defaultDtype;
  const t = new Tensor(native.call(op.handle, ...args, dtype) as number);
  return finish(t, o);
}

/** Shares the typed array's memory (no copy), like torch.from_numpy. Pass `dtype` for raw bytes (e.g. bfloat16 bits in a Uint16Array). */
export function fromTypedArray(data: TypedArray | Buffer | Uint8ClampedArray, shape?: number[], options: TensorOptions = {}): Tensor {
  const dtype = options.dtype ? checkDtype(options.dtype) : dtypeOfArray(data);
  const elem = { float64: 8, int64: 8, float32: 4, int32: 4, float16: 2, bfloat16: 2, int16: 2, int8: 1, uint8: 1, bool: 1 }[dtype];
  const s = shape ? checkShape(shape) : [data.byteLength / elem];
  return finish(new Tensor(native.fromBuffer(data, dtype, s)), options);
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

function flatten(data: NestedArray, shape: number[], depth: number, out: (number | boolean)[]): void {
  if (depth === shape.length) {
    if (typeof data !== 'number' && typeof data !== 'boolean') throw new TypeError(`tensor(): expected a number or boolean, got ${typeof data}`);
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new TypeError(`tensor(): ragged nested array: expected length ${shape[depth]} at depth ${depth}`);
  }
  for (const d of data) flatten(d, shape, depth + 1, out);
}

/**
 * A tensor from nested arrays, a number, a typed array or a Buffer. Like torch.tensor: integer
 * data gives int64, booleans give bool, other numbers float32; `dtype` overrides. Typed arrays
 * and Buffers are copied here (use fromTypedArray to share memory).
 */
export function tensor(data: NestedArray | TypedArray | Buffer, options: TensorOptions = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const copy = (data as TypedArray).slice();
    const t = fromTypedArray(copy, undefined, { dtype: options.dtype && ['bfloat16', 'float16'].includes(options.dtype) ? options.dtype : undefined });
    return convert(t, options);
  }
  const shape = inferShape(data);
  const flat: (number | boolean)[] = [];
  flatten(data, shape, 0, flat);
  let natural: DType;
  let array: TypedArray;
  if (flat.length > 0 && flat.every((v) => typeof v === 'boolean')) {
    natural = 'bool';
    array = Uint8Array.from(flat, (v) => (v ? 1 : 0));
  } else if (flat.some((v) => typeof v === 'boolean')) {
    throw new TypeError('tensor(): cannot mix booleans and numbers');
  } else if (flat.every((v) => Number.isInteger(v)) && flat.length > 0 && !(options.dtype && options.dtype.startsWith('float'))) {
    natural = 'int64';
    array = BigInt64Array.from(flat as number[], (v) => BigInt(v));
  } else {
    natural = options.dtype === 'float64' ? 'float64' : 'float32';
    array = natural === 'float64' ? Float64Array.from(flat as number[]) : Float32Array.from(flat as number[]);
  }
  const t = new Tensor(native.fromBuffer(array, natural, shape));
  return convert(t, options);
}

function convert(t: Tensor, options: TensorOptions): Tensor {
  let out = t;
  if (options.dtype && checkDtype(options.dtype) !== t.dtype) {
    out = wrap(native.call(TO.handle, t.handle, options.dtype) as number, t);
    t.dispose();
  }
  return finish(out, { device: options.device, requiresGrad: options.requiresGrad });
}

export function scalarTensor(value: number, options: TensorOptions = {}): Tensor {
  return tensor(value, { dtype: 'float32', ...options });
}

export function zeros(shape: number[], options: TensorOptions = {}): Tensor {
  return factory(ZEROS, [checkShape(shape)], options, 'float32');
}

export function ones(shape: number[], options: TensorOptions = {}): Tensor {
  return factory(ONES, [checkShape(shape)], options, 'float32');
}

/** Uninitialised memory. */
export function empty(shape: number[], options: TensorOptions = {}): Tensor {
  return factory(EMPTY, [checkShape(shape)], options, 'float32');
}

/** Filled with `value`; float32 unless `dtype` says otherwise (JS cannot tell 1 from 1.0). */
export function full(shape: number[], value: number | boolean, options: TensorOptions = {}): Tensor {
  return factory(FULL, [checkShape(shape), value], options, typeof value === 'boolean' ? 'bool' : 'float32');
}

/** arange(end), arange(start, end) or arange(start, end, step); int64 when all are integers. */
export function arange(start: number, end?: number, step = 1, options: TensorOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0) throw new TorchError('step must be nonzero', 'arange');
  const ints = [start, end, step].every(Number.isInteger);
  return factory(ARANGE, [start, end, step], options, ints ? 'int64' : 'float32');
}

export function linspace(start: number, end: number, steps: number, options: TensorOptions = {}): Tensor {
  return factory(LINSPACE, [start, end, steps], options, 'float32');
}

/** Uniform on [0, 1). */
export function rand(shape: number[], options: TensorOptions = {}): Tensor {
  return factory(RAND, [checkShape(shape)], options, 'float32');
}

/** Standard normal. */
export function randn(shape: number[], options: TensorOptions = {}): Tensor {
  return factory(RANDN, [checkShape(shape)], options, 'float32');
}

/** Integers uniform on [low, high). */
export function randint(low: number, high: number, shape: number[], options: TensorOptions = {}): Tensor {
  return factory(RANDINT, [low, high, checkShape(shape)], options, 'int64');
}

export function eye(n: number, options: TensorOptions = {}): Tensor {
  return factory(EYE, [n], options, 'float32');
}

function like(op: Op, x: Tensor, extra: unknown[], options: TensorOptions): Tensor {
  const t = new Tensor(native.call(op.handle, x.handle, ...extra, options.dtype ? checkDtype(options.dtype) : undefined) as number);
  return finish(t, options);
}

export const zerosLike = (x: Tensor, options: TensorOptions = {}) => like(ZEROS_LIKE, x, [], options);
export const onesLike = (x: Tensor, options: TensorOptions = {}) => like(ONES_LIKE, x, [], options);
export const emptyLike = (x: Tensor, options: TensorOptions = {}) => like(EMPTY_LIKE, x, [], options);
export const randLike = (x: Tensor, options: TensorOptions = {}) => like(RAND_LIKE, x, [], options);
export const randnLike = (x: Tensor, options: TensorOptions = {}) => like(RANDN_LIKE, x, [], options);
export const fullLike = (x: Tensor, value: number | boolean, options: TensorOptions = {}) => like(FULL_LIKE, x, [value], options);
