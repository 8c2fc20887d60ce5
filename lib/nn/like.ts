// Tensors a model makes while it runs (carries, counters), made on the device of the tensor they
// go with, as torch's Tensor.new_full: on a GPU they are allocated there, not filled on the CPU
// and copied over.
import * as torch from '../torch';
import type { DType } from '../torch';

type Tensor = torch.Tensor;

/** A new tensor of `shape` filled with `value`, on `like`'s device, in `dtype` (default: like's). */
export function newFull(like: Tensor, shape: number[], value: number | boolean, dtype: DType = like.dtype): Tensor {
  return torch.call('aten::new_full', like, shape, value, { dtype }) as Tensor;
}

/** Zeros of `shape` on `like`'s device, in `dtype` (default: like's). */
export function newZeros(like: Tensor, shape: number[], dtype: DType = like.dtype): Tensor {
  return newFull(like, shape, 0, dtype);
}
