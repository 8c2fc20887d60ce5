// The Tensor facade: a JS object around an integer handle into the native table (cheap to create,
// SPEC §11). Metadata, lifetime, autograd and conversion live here; the math is attached to the
// prototype by the files under ops/.
import { DType, TypedArray, typedArrayFor } from './dtype';
import { TorchError } from './errors';
import { formatTensor } from './format';
import { native } from './native';
import { Op, setTensorFactory } from './op';
import { Handle, release, TENSOR, track } from './scope';

const TO_DTYPE = new Op('aten::to.dtype');
const ITEM = new Op('aten::item');

export interface BackwardOptions {
  retainGraph?: boolean;
  createGraph?: boolean;
}

export type NestedArray = number | boolean | NestedArray[];

export class Tensor implements Handle, Disposable {
  /** @internal handle into the native table; -1 once disposed */
  id: number;
  /** @internal */
  registered = false;
  /** @internal */
  kept = false;

  /** @internal use the creation functions (torch.tensor, zeros, ...) instead */
  constructor(id: number) {
    this.id = id;
    track(this);
  }

  /**
   * @internal the handle (-1 once disposed: the native call that receives it then fails with a
   * TorchError naming that call)
   */
  get handle(): number {
    return this.id;
  }

  get shape(): number[] {
    return native.shape(this.handle);
  }

  /** Size of one dimension (negative counts from the end), or the whole shape. */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number | number[] {
    const s = this.shape;
    if (dim === undefined) return s;
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new TorchError(`dimension ${dim} out of range for a ${s.length}-d tensor`, 'size');
    return s[d];
  }

  get ndim(): number {
    return native.dim(this.handle);
  }

  dim(): number {
    return native.dim(this.handle);
  }

  numel(): number {
    return native.numel(this.handle);
  }

  stride(): number[] {
    return native.strides(this.handle);
  }

  get dtype(): DType {
    return native.dtype(this.handle) as DType;
  }

  get device(): string {
    return native.device(this.handle);
  }

  isContiguous(): boolean {
    return native.isContiguous(this.handle);
  }

  /** True when both tensors view the same storage. */
  sharesStorageWith(other: Tensor): boolean {
    return native.sameStorage(this.handle, other.handle);
  }

  // ---- autograd -------------------------------------------------------------------------------

  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }

  requiresGrad_(flag = true): this {
    native.setRequiresGrad(this.handle, flag);
    return this;
  }

  /** The accumulated gradient (a new handle to it each read), or null. */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }

  set grad(g: Tensor | null) {
    native.setGrad(this.handle, g === null ? null : g.handle);
  }

  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }

  /** The name of the autograd node that made this tensor (e.g. "AddBackward0"), or null. */
  get gradFn(): string | null {
    return native.gradFn(this.handle);
  }

  retainGrad(): this {
    native.retainGrad(this.handle);
    return this;
  }

  backward(gradient?: Tensor, options: BackwardOptions = {}): void {
    native.backward(this.handle, gradient ? gradient.handle : null, options.retainGraph ?? false, options.createGraph ?? false);
  }

  // ---- lifetime -------------------------------------------------------------------------------

  /** Frees the native memory now. Idempotent; any later use throws a TorchError. */
  dispose(): void {
    release(this);
  }

  [Symbol.dispose](): void {
    release(this);
  }

  get isDisposed(): boolean {
    return this.id < 0;
  }

  // ---- back to JS -----------------------------------------------------------------------------

  /**
   * A copy of the elements in C order. float16 and bfloat16 come back as Float32Array, int64 as
   * BigInt64Array, bool as Uint8Array.
   */
  toTypedArray(): TypedArray {
    const dtype = this.dtype;
    if (dtype === 'bfloat16' || dtype === 'float16') {
      const f = new Tensor(native.call(TO_DTYPE.handle, this.handle, 'float32') as number);
      try {
        return new Float32Array(native.toArrayBuffer(f.handle));
      } finally {
        if (f !== this) f.dispose();
      }
    }
    return typedArrayFor(dtype, native.toArrayBuffer(this.handle));
  }

  /** The elements as JS numbers (int64 converted; exact below 2^53), booleans for bool tensors. */
  toArray(): number[] {
    const data = this.toTypedArray();
    if (data instanceof BigInt64Array) return Array.from(data, Number);
    return Array.from(data as ArrayLike<number>);
  }

  /** Nested arrays in the tensor's shape, like Python's `tolist()`. */
  tolist(): NestedArray {
    const flat: (number | boolean)[] = this.dtype === 'bool' ? this.toArray().map((v) => v !== 0) : this.toArray();
    const shape = this.shape;
    if (shape.length === 0) return flat[0];
    let pos = 0;
    const build = (d: number): NestedArray[] =>
      Array.from({ length: shape[d] }, () => (d === shape.length - 1 ? flat[pos++] : build(d + 1)));
    return build(0);
  }

  /** The value of a one-element tensor. */
  item(): number {
    const v = native.call(ITEM.handle, this.handle);
    return typeof v === 'boolean' ? Number(v) : (v as number);
  }

  toString(): string {
    if (this.id < 0) return 'tensor(<disposed>)';
    return formatTensor(this);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

Object.defineProperty(Tensor.prototype, TENSOR, { value: true });
setTensorFactory((id) => new Tensor(id));

/** Wraps a handle returned by an op; an op that returned one of its inputs gives that input back. */
export function wrap(id: number, self?: Tensor, other?: Tensor): Tensor {
  if (self !== undefined && id === self.id) return self;
  if (other !== undefined && id === other.id) return other;
  return new Tensor(id);
}
