// torch.save / torch.load for Tensors: maps them to the serializer's TensorRecords (raw CPU bytes,
// shape, strides, offset) and back, sharing the loaded bytes instead of copying them.
import { DType } from './dtype';
import { native } from './native';
import { Op } from './op';
import { isTensorRecord, itemSize, load as loadRecords, save as saveRecords, TensorRecord } from './serialization';
import { Tensor } from './tensor';

const CONTIGUOUS = new Op('aten::contiguous');
const AS_STRIDED = new Op('aten::as_strided');
const TO_CPU = new Op('aten::to.device');

function toRecord(t: Tensor): TensorRecord {
  let id = t.handle;
  const owned: number[] = [];
  if (native.device(id) !== 'cpu') owned.push((id = native.call(TO_CPU.handle, id, 'cpu', native.dtype(id)) as number));
  const contiguous = native.call(CONTIGUOUS.handle, id) as number;
  if (contiguous !== id) owned.push(contiguous);
  try {
    // A slice saves only its own elements (clone semantics), as a contiguous storage.
    return { dtype: t.dtype, shape: t.shape, data: new Uint8Array(native.toArrayBuffer(contiguous)), requiresGrad: t.requiresGrad };
  } finally {
    for (const o of owned) native.dispose(o);
  }
}

function fromRecord(r: TensorRecord): Tensor {
  const size = itemSize(r.dtype);
  const storage = new Tensor(native.fromBuffer(r.data, r.dtype as DType, [r.data.byteLength / size]));
  const strides = r.strides ?? r.shape.map((_, d) => r.shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const numel = r.shape.reduce((a, b) => a * b, 1);
  if ((r.storageOffset ?? 0) === 0 && numel === storage.numel() && strides.every((s, d) => s === r.shape.slice(d + 1).reduce((a, b) => a * b, 1))) {
    const view = storage.view(r.shape);
    storage.dispose();
    return view;
  }
  const out = new Tensor(native.call(AS_STRIDED.handle, storage.handle, r.shape, strides, r.storageOffset ?? 0) as number);
  storage.dispose();
  return out;
}

function mapTensors(value: unknown, f: (t: Tensor) => unknown, isLeaf: (v: unknown) => boolean): unknown {
  if (isLeaf(value)) return f(value as Tensor);
  if (Array.isArray(value)) return value.map((v) => mapTensors(v, f, isLeaf));
  if (value instanceof Map) {
    const out = new (value.constructor as MapConstructor)();
    for (const [k, v] of value) out.set(k, mapTensors(v, f, isLeaf));
    return out;
  }
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapTensors(v, f, isLeaf)]));
  }
  return value;
}

/**
 * Writes `obj` (tensors inside Maps, arrays and plain objects; numbers, strings, ...) in PyTorch's
 * zip format, atomically. Python's `torch.load` reads it.
 */
export function save(obj: unknown, file: string): void {
  saveRecords(mapTensors(obj, toRecord, (v) => v instanceof Tensor), file);
}

/** Reads a file written by `torch.save` (Python) or by `save`; dicts come back as Maps. */
export function load(file: string): unknown {
  return mapTensors(loadRecords(file), (r) => fromRecord(r as unknown as TensorRecord), isTensorRecord);
}
