// Indexing by tensors: advanced indexing and index_put, gather/scatter, index_select/index_add,
// masks, sorting and top-k, unique, one-hot.
import { native } from '../native';
import { Tensor } from '../tensor';
import { A, attach, optHandle, run, runInPlace, wrapList } from './util';

const INDEX = A('index.Tensor');
const INDEX_PUT_ = A('index_put_');
const INDEX_SELECT = A('index_select');
const INDEX_ADD_ = A('index_add_');
const INDEX_COPY_ = A('index_copy_');
const GATHER = A('gather');
const SCATTER = A('scatter.src');
const SCATTER_VALUE = A('scatter.value');
const SCATTER_ADD = A('scatter_add');
const SCATTER_ADD_ = A('scatter_add_');
const MASKED_FILL = A('masked_fill.Scalar');
const MASKED_FILL_ = A('masked_fill_.Scalar');
const MASKED_SELECT = A('masked_select');
const NONZERO = A('nonzero');
const SORT = A('sort');
const ARGSORT = A('argsort');
const TOPK = A('topk');
const UNIQUE = A('_unique2');
const ONE_HOT = A('one_hot');
const BINCOUNT = A('bincount');

/** Python's `x[i0, i1, ...]` with index tensors; null skips a dimension (`:`). */
export const index = (x: Tensor, indices: (Tensor | null)[]): Tensor => run(INDEX, x, indices.map(optHandle));
/** `x[indices] = values` (or `+=` with accumulate), in place. */
export const indexPut_ = (x: Tensor, indices: (Tensor | null)[], values: Tensor, accumulate = false): Tensor =>
  runInPlace(INDEX_PUT_, x, indices.map(optHandle), values.handle, accumulate);
export const indexSelect = (x: Tensor, dim: number, idx: Tensor): Tensor => run(INDEX_SELECT, x, dim, idx.handle);
export const indexAdd_ = (x: Tensor, dim: number, idx: Tensor, source: Tensor, alpha = 1): Tensor =>
  runInPlace(INDEX_ADD_, x, dim, idx.handle, source.handle, alpha);
export const indexCopy_ = (x: Tensor, dim: number, idx: Tensor, source: Tensor): Tensor =>
  runInPlace(INDEX_COPY_, x, dim, idx.handle, source.handle);
export const gather = (x: Tensor, dim: number, idx: Tensor): Tensor => run(GATHER, x, dim, idx.handle);
export const scatter = (x: Tensor, dim: number, idx: Tensor, src: Tensor | number): Tensor =>
  typeof src === 'number' ? run(SCATTER_VALUE, x, dim, idx.handle, src) : run(SCATTER, x, dim, idx.handle, src.handle);
export const scatterAdd = (x: Tensor, dim: number, idx: Tensor, src: Tensor): Tensor => run(SCATTER_ADD, x, dim, idx.handle, src.handle);
export const scatterAdd_ = (x: Tensor, dim: number, idx: Tensor, src: Tensor): Tensor =>
  runInPlace(SCATTER_ADD_, x, dim, idx.handle, src.handle);
export const maskedFill = (x: Tensor, mask: Tensor, value: number | boolean): Tensor => run(MASKED_FILL, x, mask.handle, value);
export const maskedFill_ = (x: Tensor, mask: Tensor, value: number | boolean): Tensor => runInPlace(MASKED_FILL_, x, mask.handle, value);
export const maskedSelect = (x: Tensor, mask: Tensor): Tensor => run(MASKED_SELECT, x, mask.handle);
export const nonzero = (x: Tensor): Tensor => run(NONZERO, x);
export const sort = (x: Tensor, dim = -1, descending = false): [Tensor, Tensor] =>
  wrapList(native.call(SORT.handle, x.handle, dim, descending)) as [Tensor, Tensor];
export const argsort = (x: Tensor, dim = -1, descending = false): Tensor => run(ARGSORT, x, dim, descending);
export const topk = (x: Tensor, k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] =>
  wrapList(native.call(TOPK.handle, x.handle, k, dim, largest, sorted)) as [Tensor, Tensor];
/** Sorted unique values, with the inverse indices and counts. */
export function unique(x: Tensor): { values: Tensor; inverse: Tensor; counts: Tensor } {
  const [values, inverse, counts] = wrapList(native.call(UNIQUE.handle, x.handle, true, true, true));
  return { values, inverse, counts };
}
export const oneHot = (x: Tensor, numClasses = -1): Tensor => run(ONE_HOT, x, numClasses);
export const bincount = (x: Tensor, weights?: Tensor | null, minlength = 0): Tensor => run(BINCOUNT, x, optHandle(weights), minlength);

declare module '../tensor' {
  interface Tensor {
    index(indices: (Tensor | null)[]): Tensor;
    indexPut_(indices: (Tensor | null)[], values: Tensor, accumulate?: boolean): this;
    indexSelect(dim: number, index: Tensor): Tensor;
    indexAdd_(dim: number, index: Tensor, source: Tensor, alpha?: number): this;
    indexCopy_(dim: number, index: Tensor, source: Tensor): this;
    gather(dim: number, index: Tensor): Tensor;
    scatter(dim: number, index: Tensor, src: Tensor | number): Tensor;
    scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    scatterAdd_(dim: number, index: Tensor, src: Tensor): this;
    maskedFill(mask: Tensor, value: number | boolean): Tensor;
    maskedFill_(mask: Tensor, value: number | boolean): this;
    maskedSelect(mask: Tensor): Tensor;
    nonzero(): Tensor;
    sort(dim?: number, descending?: boolean): [Tensor, Tensor];
    argsort(dim?: number, descending?: boolean): Tensor;
    topk(k: number, dim?: number, largest?: boolean, sorted?: boolean): [Tensor, Tensor];
  }
}

attach({
  index, indexPut_, indexSelect, indexAdd_, indexCopy_, gather, scatter, scatterAdd, scatterAdd_, maskedFill, maskedFill_,
  maskedSelect, nonzero, sort, argsort, topk,
});
