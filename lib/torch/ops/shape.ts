// Views and layout: view/reshape, transpose/permute, (un)squeeze, slicing, joining and splitting,
// repeating, flipping, dtype/device conversion and copies.
import { checkDtype, DType } from '../dtype';
import { native } from '../native';
import { Tensor } from '../tensor';
import { A, attach, handleOf, run, wrapList } from './util';

const VIEW = A('view');
const RESHAPE = A('reshape');
const TRANSPOSE = A('transpose.int');
const PERMUTE = A('permute');
const UNSQUEEZE = A('unsqueeze');
const SQUEEZE = A('squeeze');
const SQUEEZE_DIM = A('squeeze.dim');
const FLATTEN = A('flatten.using_ints');
const UNFLATTEN = A('unflatten.int');
const EXPAND = A('expand');
const EXPAND_AS = A('expand_as');
const CONTIGUOUS = A('contiguous');
const NARROW = A('narrow');
const SLICE = A('slice.Tensor');
const SELECT = A('select.int');
const CAT = A('cat');
const STACK = A('stack');
const CHUNK = A('chunk');
const SPLIT = A('split.Tensor');
const SPLIT_SIZES = A('split_with_sizes');
const UNBIND = A('unbind.int');
const REPEAT = A('repeat');
const FLIP = A('flip');
const ROLL = A('roll');
const ROT90 = A('rot90');
const TRIL = A('tril');
const TRIU = A('triu');
const MOVEDIM = A('movedim.int');
const CLONE = A('clone');
const DETACH = A('detach');
const DETACH_ = A('detach_');
const TO_DTYPE = A('to.dtype');
const TO_DEVICE = A('to.device');

export const view = (x: Tensor, shape: number[]): Tensor => run(VIEW, x, shape);
export const reshape = (x: Tensor, shape: number[]): Tensor => run(RESHAPE, x, shape);
export const transpose = (x: Tensor, dim0: number, dim1: number): Tensor => run(TRANSPOSE, x, dim0, dim1);
export const permute = (x: Tensor, dims: number[]): Tensor => run(PERMUTE, x, dims);
export const unsqueeze = (x: Tensor, dim: number): Tensor => run(UNSQUEEZE, x, dim);
export const squeeze = (x: Tensor, dim?: number): Tensor => (dim === undefined ? run(SQUEEZE, x) : run(SQUEEZE_DIM, x, dim));
export const flatten = (x: Tensor, startDim = 0, endDim = -1): Tensor => run(FLATTEN, x, startDim, endDim);
export const unflatten = (x: Tensor, dim: number, sizes: number[]): Tensor => run(UNFLATTEN, x, dim, sizes);
export const expand = (x: Tensor, shape: number[]): Tensor => run(EXPAND, x, shape);
export const expandAs = (x: Tensor, other: Tensor): Tensor => run(EXPAND_AS, x, other.handle);
export const contiguous = (x: Tensor): Tensor => run(CONTIGUOUS, x);
/** Elements start..start+length along `dim` (a view). */
export const narrow = (x: Tensor, dim: number, start: number, length: number): Tensor => run(NARROW, x, dim, start, length);
/** Python's `x[..., start:end:step, ...]` along `dim` (a view); null/undefined ends mean open. */
export const slice = (x: Tensor, dim: number, start?: number | null, end?: number | null, step = 1): Tensor =>
  run(SLICE, x, dim, start ?? null, end ?? null, step);
/** Python's `x[..., index, ...]` along `dim` (a view, one dimension fewer). */
export const select = (x: Tensor, dim: number, index: number): Tensor => run(SELECT, x, dim, index);
export const cat = (tensors: Tensor[], dim = 0): Tensor => new Tensor(native.call(CAT.handle, tensors.map(handleOf), dim) as number);
export const stack = (tensors: Tensor[], dim = 0): Tensor => new Tensor(native.call(STACK.handle, tensors.map(handleOf), dim) as number);
export const chunk = (x: Tensor, chunks: number, dim = 0): Tensor[] => wrapList(native.call(CHUNK.handle, x.handle, chunks, dim));
/** Pieces of `size` (a number) or of the given sizes (an array) along `dim`. */
export const split = (x: Tensor, size: number | number[], dim = 0): Tensor[] =>
  wrapList(native.call((Array.isArray(size) ? SPLIT_SIZES : SPLIT).handle, x.handle, size, dim));
export const unbind = (x: Tensor, dim = 0): Tensor[] => wrapList(native.call(UNBIND.handle, x.handle, dim));
export const repeat = (x: Tensor, repeats: number[]): Tensor => run(REPEAT, x, repeats);
export const flip = (x: Tensor, dims: number[]): Tensor => run(FLIP, x, dims);
export const roll = (x: Tensor, shifts: number | number[], dims: number | number[] = []): Tensor => run(ROLL, x, shifts, dims);
export const rot90 = (x: Tensor, k = 1, dims: [number, number] = [0, 1]): Tensor => run(ROT90, x, k, dims);
export const tril = (x: Tensor, diagonal = 0): Tensor => run(TRIL, x, diagonal);
export const triu = (x: Tensor, diagonal = 0): Tensor => run(TRIU, x, diagonal);
export const movedim = (x: Tensor, source: number, destination: number): Tensor => run(MOVEDIM, x, source, destination);
export const clone = (x: Tensor): Tensor => run(CLONE, x);
/** The same data, cut from the autograd graph. */
export const detach = (x: Tensor): Tensor => run(DETACH, x);
export const detach_ = (x: Tensor): Tensor => {
  native.call(DETACH_.handle, x.handle);
  return x;
};

/** Converts to a dtype or moves to a device ('cpu', 'cuda', 'cuda:1'); returns `x` itself when nothing changes, as torch does. */
export function to(x: Tensor, target: DType | string, options: { copy?: boolean } = {}): Tensor {
  if (target === 'cpu' || target.startsWith('cuda')) return run(TO_DEVICE, x, target, x.dtype, false, options.copy ?? false);
  return run(TO_DTYPE, x, checkDtype(target, 'dtype or device'), false, options.copy ?? false);
}

declare module '../tensor' {
  interface Tensor {
    view(...shape: number[]): Tensor;
    view(shape: number[]): Tensor;
    reshape(...shape: number[]): Tensor;
    reshape(shape: number[]): Tensor;
    transpose(dim0: number, dim1: number): Tensor;
    permute(...dims: number[]): Tensor;
    permute(dims: number[]): Tensor;
    unsqueeze(dim: number): Tensor;
    squeeze(dim?: number): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    unflatten(dim: number, sizes: number[]): Tensor;
    expand(...shape: number[]): Tensor;
    expand(shape: number[]): Tensor;
    expandAs(other: Tensor): Tensor;
    contiguous(): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    slice(dim: number, start?: number | null, end?: number | null, step?: number): Tensor;
    select(dim: number, index: number): Tensor;
    chunk(chunks: number, dim?: number): Tensor[];
    split(size: number | number[], dim?: number): Tensor[];
    unbind(dim?: number): Tensor[];
    repeat(...repeats: number[]): Tensor;
    repeat(repeats: number[]): Tensor;
    flip(...dims: number[]): Tensor;
    flip(dims: number[]): Tensor;
    roll(shifts: number | number[], dims?: number | number[]): Tensor;
    rot90(k?: number, dims?: [number, number]): Tensor;
    tril(diagonal?: number): Tensor;
    triu(diagonal?: number): Tensor;
    movedim(source: number, destination: number): Tensor;
    clone(): Tensor;
    detach(): Tensor;
    detach_(): this;
    to(target: DType | string, options?: { copy?: boolean }): Tensor;
    float(): Tensor;
    double(): Tensor;
    half(): Tensor;
    bfloat16(): Tensor;
    long(): Tensor;
    int(): Tensor;
    bool(): Tensor;
    cpu(): Tensor;
    cuda(index?: number): Tensor;
  }
}

/** Methods that take dims as varargs or one array, as in Python (`x.view(2, 3)` or `x.view([2, 3])`). */
const dims = (args: (number | number[] | undefined)[]): number[] =>
  Array.isArray(args[0]) ? args[0] : (args.filter((a) => a !== undefined) as number[]);

attach({
  view: (x: Tensor, ...s: (number | number[])[]) => view(x, dims(s)),
  reshape: (x: Tensor, ...s: (number | number[])[]) => reshape(x, dims(s)),
  transpose, unsqueeze, squeeze, flatten, unflatten, expandAs, contiguous, narrow, slice, select, chunk, split, unbind,
  permute: (x: Tensor, ...s: (number | number[])[]) => permute(x, dims(s)),
  expand: (x: Tensor, ...s: (number | number[])[]) => expand(x, dims(s)),
  repeat: (x: Tensor, ...s: (number | number[])[]) => repeat(x, dims(s)),
  flip: (x: Tensor, ...s: (number | number[])[]) => flip(x, dims(s)),
  roll, rot90, tril, triu, movedim, clone, detach, detach_, to,
  float: (x: Tensor) => to(x, 'float32'),
  double: (x: Tensor) => to(x, 'float64'),
  half: (x: Tensor) => to(x, 'float16'),
  bfloat16: (x: Tensor) => to(x, 'bfloat16'),
  long: (x: Tensor) => to(x, 'int64'),
  int: (x: Tensor) => to(x, 'int32'),
  bool: (x: Tensor) => to(x, 'bool'),
  cpu: (x: Tensor) => to(x, 'cpu'),
  cuda: (x: Tensor, index = 0) => to(x, `cuda:${index}`),
});
