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

/** One output of `gatherRows`. */
export interface RowGather {
  /** [N, ...] on the CPU, e.g. a memory-mapped array. */
  source: Tensor;
  /** Rows of `source`, in output order. */
  index: Int32Array;
  /** Rows of the output (at least `index.length`, the default); those past the index hold `fill`. */
  rows?: number;
  fill?: number;
  /** In the gathered rows, values equal to `replace[0]` become `replace[1]`. */
  replace?: [number, number];
}

function checkInteger(value: unknown, what: string, min = Number.MIN_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`Expected ${what} to be an integer >= ${min} but received ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Gathers rows into fresh tensors of `dtype` on a worker thread (index_select, then padding and
 * the value replacement), so the JS thread runs on meanwhile; no autograd is recorded. Resolves to
 * the tensors, in the order of `gathers`, owned by the caller (registered with the finalizer
 * backstop, as no scope is open when a promise settles), and the seconds the worker spent.
 * Errors (a row out of range, a disposed source) reject with a TorchError naming gatherRows.
 */
export async function gatherRows(gathers: RowGather[], dtype: DType): Promise<{ tensors: Tensor[]; seconds: number }> {
  if (!Array.isArray(gathers)) throw new TypeError(`Expected gathers to be an array but received ${typeof gathers}`);
  const list = gathers.map((g, k) => {
    if (!(g?.source instanceof Tensor)) throw new TypeError(`Expected gathers[${k}].source to be a Tensor but received ${typeof g?.source}`);
    if (!(g.index instanceof Int32Array)) throw new TypeError(`Expected gathers[${k}].index to be an Int32Array but received ${Object.prototype.toString.call(g.index)}`);
    const { replace } = g;
    if (replace !== undefined && (!Array.isArray(replace) || replace.length !== 2)) {
      throw new TypeError(`Expected gathers[${k}].replace to be [from, to] but received ${JSON.stringify(replace)}`);
    }
    return {
      source: g.source.handle,
      index: g.index,
      rows: checkInteger(g.rows ?? g.index.length, `gathers[${k}].rows`, g.index.length),
      fill: checkInteger(g.fill ?? 0, `gathers[${k}].fill`),
      replace: replace && ([checkInteger(replace[0], `gathers[${k}].replace[0]`), checkInteger(replace[1], `gathers[${k}].replace[1]`)] as [number, number]),
    };
  });
  const { tensors, seconds } = await native.gatherRows(list, checkDtype(dtype));
  return { tensors: tensors.map((id) => new Tensor(id)), seconds };
}
