import { checkDtype, DType } from './dtype';
import { native } from './native';
import { Tensor } from './tensor';

/**
 * A tensor over a file's bytes from `byteOffset` on, memory-mapped (copy-on-write: in-place ops
 * never touch the file). Costs address space, not RSS, until pages are read.
 */
export function mmapFile(file: string, byteOffset: number, dtype: DType, shape: number[]): Tensor {
  return new Tensor(native.mmapFile(file, byteOffset, checkDtype(dtype), shape));
}
