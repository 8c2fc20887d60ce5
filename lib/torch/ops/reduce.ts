// Reductions: sums and means over all or some dimensions, extrema with their indices, variance,
// logical all/any, cumulative sums.
import { DType } from '../dtype';
import { native } from '../native';
import { Tensor } from '../tensor';
import { A, attach, run, wrapList } from './util';

export interface ReduceOptions {
  keepdim?: boolean;
  dtype?: DType;
}

type Dims = number | number[];

const SUM = A('sum');
const SUM_DIM = A('sum.dim_IntList');
const MEAN = A('mean');
const MEAN_DIM = A('mean.dim');
const PROD = A('prod');
const PROD_DIM = A('prod.dim_int');
const AMAX = A('amax');
const AMIN = A('amin');
const MAX = A('max');
const MIN = A('min');
const MAX_DIM = A('max.dim');
const MIN_DIM = A('min.dim');
const ARGMAX = A('argmax');
const ARGMIN = A('argmin');
const VAR = A('var.correction');
const STD = A('std.correction');
const ALL = A('all');
const ALL_DIM = A('all.dim');
const ANY = A('any');
const ANY_DIM = A('any.dim');
const CUMSUM = A('cumsum');
const LOGSUMEXP = A('logsumexp');
const NORM = A('linalg_vector_norm');

/** Sum of all elements, or over `dim`. */
export function sum(x: Tensor, dim?: Dims | null, options: ReduceOptions = {}): Tensor {
  if (dim === undefined || dim === null) return run(SUM, x, options.dtype);
  return run(SUM_DIM, x, dim, options.keepdim ?? false, options.dtype);
}

export function mean(x: Tensor, dim?: Dims | null, options: ReduceOptions = {}): Tensor {
  if (dim === undefined || dim === null) return run(MEAN, x, options.dtype);
  return run(MEAN_DIM, x, dim, options.keepdim ?? false, options.dtype);
}

export function prod(x: Tensor, dim?: number | null, options: ReduceOptions = {}): Tensor {
  if (dim === undefined || dim === null) return run(PROD, x, options.dtype);
  return run(PROD_DIM, x, dim, options.keepdim ?? false, options.dtype);
}

export const amax = (x: Tensor, dim: Dims = [], keepdim = false): Tensor => run(AMAX, x, dim, keepdim);
export const amin = (x: Tensor, dim: Dims = [], keepdim = false): Tensor => run(AMIN, x, dim, keepdim);

/** The largest element, or `[values, indices]` along `dim`. */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean): [Tensor, Tensor];
export function max(x: Tensor, dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
  if (dim === undefined) return run(MAX, x);
  return wrapList(native.call(MAX_DIM.handle, x.handle, dim, keepdim)) as [Tensor, Tensor];
}

export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean): [Tensor, Tensor];
export function min(x: Tensor, dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
  if (dim === undefined) return run(MIN, x);
  return wrapList(native.call(MIN_DIM.handle, x.handle, dim, keepdim)) as [Tensor, Tensor];
}

export const argmax = (x: Tensor, dim?: number | null, keepdim = false): Tensor => run(ARGMAX, x, dim ?? null, keepdim);
export const argmin = (x: Tensor, dim?: number | null, keepdim = false): Tensor => run(ARGMIN, x, dim ?? null, keepdim);

export interface VarOptions {
  /** Bessel's correction: 1 (unbiased, the default) or 0. */
  correction?: number;
  keepdim?: boolean;
}
export const variance = (x: Tensor, dim?: Dims | null, o: VarOptions = {}): Tensor =>
  run(VAR, x, dim ?? null, o.correction ?? 1, o.keepdim ?? false);
export const std = (x: Tensor, dim?: Dims | null, o: VarOptions = {}): Tensor =>
  run(STD, x, dim ?? null, o.correction ?? 1, o.keepdim ?? false);

export const all = (x: Tensor, dim?: number, keepdim = false): Tensor =>
  dim === undefined ? run(ALL, x) : run(ALL_DIM, x, dim, keepdim);
export const any = (x: Tensor, dim?: number, keepdim = false): Tensor =>
  dim === undefined ? run(ANY, x) : run(ANY_DIM, x, dim, keepdim);
export const cumsum = (x: Tensor, dim: number, dtype?: DType): Tensor => run(CUMSUM, x, dim, dtype);
export const logsumexp = (x: Tensor, dim: Dims, keepdim = false): Tensor => run(LOGSUMEXP, x, dim, keepdim);
/** The vector p-norm over all elements or `dim`. */
export const norm = (x: Tensor, ord = 2, dim?: Dims | null, keepdim = false): Tensor => run(NORM, x, ord, dim ?? null, keepdim);

declare module '../tensor' {
  interface Tensor {
    sum(dim?: Dims | null, options?: ReduceOptions): Tensor;
    mean(dim?: Dims | null, options?: ReduceOptions): Tensor;
    prod(dim?: number | null, options?: ReduceOptions): Tensor;
    amax(dim?: Dims, keepdim?: boolean): Tensor;
    amin(dim?: Dims, keepdim?: boolean): Tensor;
    max(): Tensor;
    max(dim: number, keepdim?: boolean): [Tensor, Tensor];
    min(): Tensor;
    min(dim: number, keepdim?: boolean): [Tensor, Tensor];
    argmax(dim?: number | null, keepdim?: boolean): Tensor;
    argmin(dim?: number | null, keepdim?: boolean): Tensor;
    var(dim?: Dims | null, options?: VarOptions): Tensor;
    std(dim?: Dims | null, options?: VarOptions): Tensor;
    all(dim?: number, keepdim?: boolean): Tensor;
    any(dim?: number, keepdim?: boolean): Tensor;
    cumsum(dim: number, dtype?: DType): Tensor;
    logsumexp(dim: Dims, keepdim?: boolean): Tensor;
    norm(ord?: number, dim?: Dims | null, keepdim?: boolean): Tensor;
  }
}

attach({ sum, mean, prod, amax, amin, max: max as never, min: min as never, argmax, argmin, var: variance, std, all, any, cumsum, logsumexp, norm });
