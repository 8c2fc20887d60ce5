// How torch.save pickles tensors: `_rebuild_tensor_v2(storage, offset, size, stride, ...)` with
// the storage as a persistent id `('storage', torch.<Type>Storage, key, 'cpu', numel)` whose
// bytes live in `data/<key>`. This file maps that to and from the plain TensorRecord.
import { OrderedDict, PyGlobal, PyPersistentId, PyReduce, PyTuple, PyValue, describe, isPlainObject } from './pickle';
import { PyCallable, UnpickleHooks } from './unpickler';
import { SerializationError } from './errors';

export type DType =
  | 'float32' | 'float64' | 'bfloat16' | 'float16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** A tensor as stored in a checkpoint: a strided view of a storage of raw little-endian bytes. */
export interface TensorRecord {
  dtype: DType;
  shape: number[];
  /** Element strides; contiguous (row-major) when absent. */
  strides?: number[];
  /** Offset into the storage, in elements; 0 when absent. */
  storageOffset?: number;
  /** The whole storage. Tensors that share one Uint8Array object share one storage on disk. */
  data: Uint8Array;
  /** Written as `requires_grad`; set on load for tensors saved with requires_grad=True. */
  requiresGrad?: boolean;
}

const STORAGE: Record<DType, { storage: string; itemSize: number }> = {
  float32: { storage: 'FloatStorage', itemSize: 4 },
  float64: { storage: 'DoubleStorage', itemSize: 8 },
  bfloat16: { storage: 'BFloat16Storage', itemSize: 2 },
  float16: { storage: 'HalfStorage', itemSize: 2 },
  int64: { storage: 'LongStorage', itemSize: 8 },
  int32: { storage: 'IntStorage', itemSize: 4 },
  int16: { storage: 'ShortStorage', itemSize: 2 },
  int8: { storage: 'CharStorage', itemSize: 1 },
  uint8: { storage: 'ByteStorage', itemSize: 1 },
  bool: { storage: 'BoolStorage', itemSize: 1 },
};
export const DTYPES = Object.keys(STORAGE) as DType[];
const DTYPE_OF_STORAGE = new Map(DTYPES.map((d) => [STORAGE[d].storage, d]));
// torch.float32 etc., as `_rebuild_tensor_v3` (PyTorch >= 2.1) passes the dtype explicitly.
const DTYPE_OF_TORCH_NAME = new Map<string, DType>([
  ['float32', 'float32'], ['float', 'float32'], ['float64', 'float64'], ['double', 'float64'],
  ['bfloat16', 'bfloat16'], ['float16', 'float16'], ['half', 'float16'], ['int64', 'int64'],
  ['long', 'int64'], ['int32', 'int32'], ['int', 'int32'], ['int16', 'int16'], ['short', 'int16'],
  ['int8', 'int8'], ['uint8', 'uint8'], ['bool', 'bool'],
]);

export function itemSize(dtype: DType): number {
  return STORAGE[dtype].itemSize;
}

export function contiguousStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function isTensorRecord(v: unknown): v is TensorRecord {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Partial<TensorRecord>;
  return typeof t.dtype === 'string' && Array.isArray(t.shape) && t.data instanceof Uint8Array;
}

/** Throws unless the view `shape/strides/offset` lies inside a storage of `numel` elements. */
function checkView(t: Required<Pick<TensorRecord, 'shape' | 'strides' | 'storageOffset'>>, numel: number, where: string): void {
  if (t.shape.length !== t.strides.length) throw new SerializationError(`${where}: shape has ${t.shape.length} dims, strides ${t.strides.length}`);
  const ints = [...t.shape, ...t.strides, t.storageOffset];
  if (!ints.every((x) => Number.isSafeInteger(x) && x >= 0)) {
    throw new SerializationError(`${where}: shape, strides and storageOffset must be non-negative integers`);
  }
  if (t.shape.some((d) => d === 0)) return;
  const last = t.shape.reduce((acc, d, i) => acc + (d - 1) * t.strides[i], t.storageOffset);
  if (last >= numel) {
    throw new SerializationError(`${where}: view [${t.shape}] strides [${t.strides}] offset ${t.storageOffset} reaches element ${last}, storage has ${numel}`);
  }
}

// ------------------------------------------------------------------ writing

/**
 * Convert a JS value tree into pickle values, replacing each TensorRecord with torch's reduce
 * call. `storageKey` names each distinct storage (one Uint8Array object = one storage).
 */
export function toPickle(root: unknown, storageKey: (data: Uint8Array) => string): PyValue {
  const seen = new Map<object, PyValue>(); // keeps shared containers shared
  const rebuild = new PyGlobal('torch._utils', '_rebuild_tensor_v2');
  const tensor = (t: TensorRecord, where: string): PyValue => {
    const info = STORAGE[t.dtype];
    if (!info) throw new TypeError(`save: unknown dtype '${t.dtype}' at ${where}; expected one of ${DTYPES.join(', ')}`);
    if (t.data.byteLength % info.itemSize !== 0) {
      throw new TypeError(`save: tensor at ${where} has ${t.data.byteLength} bytes, not a multiple of ${info.itemSize} (${t.dtype})`);
    }
    const numel = t.data.byteLength / info.itemSize;
    const view = { shape: t.shape, strides: t.strides ?? contiguousStrides(t.shape), storageOffset: t.storageOffset ?? 0 };
    try {
      checkView(view, numel, `save: tensor at ${where}`);
    } catch (e) {
      throw new TypeError((e as Error).message);
    }
    const storage = new PyPersistentId(
      new PyTuple(['storage', new PyGlobal('torch', info.storage), storageKey(t.data), 'cpu', numel]),
    );
    return new PyReduce(rebuild, [
      storage, view.storageOffset, new PyTuple(view.shape), new PyTuple(view.strides),
      t.requiresGrad === true, new OrderedDict() as PyValue, // empty backward hooks, as torch writes
    ]);
  };
  const convert = (v: unknown, where: string): PyValue => {
    if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint') return v;
    if (typeof v === 'number') return v;
    if (typeof v !== 'object') throw new TypeError(`save: cannot serialize ${describe(v)} at ${where}`);
    const done = seen.get(v);
    if (done !== undefined) return done;
    let out: PyValue;
    if (isTensorRecord(v)) {
      out = tensor(v, where);
    } else if (v instanceof Uint8Array || ArrayBuffer.isView(v)) {
      throw new TypeError(`save: raw ${v.constructor.name} at ${where}; wrap bytes in a TensorRecord ({ dtype, shape, data })`);
    } else if (Array.isArray(v)) {
      const list: PyValue[] = [];
      seen.set(v, list);
      v.forEach((x, i) => list.push(convert(x, `${where}[${i}]`)));
      return list;
    } else if (v instanceof Map) {
      const map: Map<PyValue, PyValue> = v instanceof OrderedDict ? new OrderedDict() : new Map();
      if (v instanceof OrderedDict && v.attributes) (map as OrderedDict).attributes = new Map(
        [...v.attributes].map(([k, x]) => [k, convert(x, `${where}.${k}`)]),
      );
      seen.set(v, map);
      for (const [k, x] of v) map.set(convert(k, `${where} (key)`), convert(x, `${where}.${String(k)}`));
      return map;
    } else if (isPlainObject(v)) {
      const obj: { [k: string]: PyValue } = {};
      seen.set(v, obj);
      for (const [k, x] of Object.entries(v)) obj[k] = convert(x, `${where}.${k}`);
      return obj;
    } else {
      throw new TypeError(`save: cannot serialize ${describe(v)} at ${where}`);
    }
    seen.set(v, out);
    return out;
  };
  return convert(root, 'root');
}

// ------------------------------------------------------------------ reading

interface Storage {
  dtype: DType;
  data: Uint8Array;
}
class StorageType {
  constructor(readonly dtype: DType | 'untyped') {}
}
class TorchDType {
  constructor(readonly dtype: DType) {}
}

/**
 * Unpickler hooks that allow exactly what torch.save writes for tensors and state dicts;
 * any other global (arbitrary code in Python) is refused, like `weights_only=True`.
 */
export function torchHooks(readStorage: (key: string) => Uint8Array, label: string): UnpickleHooks {
  const storages = new Map<string, Uint8Array>();
  const fail = (what: string): never => {
    throw new SerializationError(`${label}: ${what}`);
  };
  const rebuild = (storage: unknown, offset: unknown, size: unknown, stride: unknown, requiresGrad: unknown, dtype?: DType): TensorRecord => {
    if (!(typeof storage === 'object' && storage !== null && 'data' in storage)) fail('_rebuild_tensor without a storage');
    const st = storage as Storage;
    const t: TensorRecord = {
      dtype: dtype ?? st.dtype,
      shape: (size as number[]).map(Number),
      strides: (stride as number[]).map(Number),
      storageOffset: Number(offset),
      data: st.data,
    };
    if (requiresGrad === true) t.requiresGrad = true;
    checkView(t as Required<TensorRecord>, st.data.byteLength / itemSize(t.dtype), `${label}: tensor`);
    return t;
  };
  const parameter = (data: unknown, requiresGrad: unknown): TensorRecord => {
    const t = { ...(data as TensorRecord) };
    if (requiresGrad === true) t.requiresGrad = true;
    else delete t.requiresGrad;
    return t;
  };
  const functions: Record<string, PyCallable> = {
    'collections.OrderedDict': (items?: unknown) => new OrderedDict(items instanceof Map ? items : undefined),
    'torch._utils._rebuild_tensor_v2': (s, o, size, stride, rg) => rebuild(s, o, size, stride, rg),
    // PyTorch >= 2.1: (storage, offset, size, stride, requires_grad, hooks, dtype, metadata)
    'torch._utils._rebuild_tensor_v3': (s, o, size, stride, rg, _h, dt) => rebuild(s, o, size, stride, rg, (dt as TorchDType).dtype),
    'torch._utils._rebuild_tensor': (s, o, size, stride) => rebuild(s, o, size, stride, false),
    'torch._utils._rebuild_parameter': (data, rg) => parameter(data, rg),
    'torch._utils._rebuild_parameter_with_state': (data, rg) => parameter(data, rg),
    'torch.Size': (dims) => dims,
    'torch.device': (type, index) => (index === undefined || index === null ? String(type) : `${String(type)}:${String(index)}`),
    // protocol-2 bytes: _codecs.encode(str, 'latin1')
    '_codecs.encode': (s, enc) => Buffer.from(String(s), enc === 'latin1' || enc === 'latin-1' ? 'latin1' : 'utf8'),
    'builtins.set': (items) => new Set(items as unknown[]),
    '__builtin__.set': (items) => new Set(items as unknown[]),
    'builtins.frozenset': (items) => new Set(items as unknown[]),
    '__builtin__.frozenset': (items) => new Set(items as unknown[]),
  };
  return {
    findClass(module: string, name: string): unknown {
      const full = `${module}.${name}`;
      if (full in functions) return functions[full];
      if (module === 'torch') {
        const d = DTYPE_OF_STORAGE.get(name);
        if (d) return new StorageType(d);
        if (name === 'UntypedStorage') return new StorageType('untyped');
        const td = DTYPE_OF_TORCH_NAME.get(name);
        if (td) return new TorchDType(td);
      }
      return fail(`unsupported global '${full}' in the pickle (only tensors, state dicts and plain data load here)`);
    },
    persistentLoad(pid: unknown): Storage {
      if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) fail(`unsupported persistent id ${JSON.stringify(pid)}`);
      const [, type, key] = pid as [string, unknown, unknown];
      if (!(type instanceof StorageType)) fail(`persistent id names an unsupported storage type`);
      const st = type as StorageType;
      const k = String(key);
      let data = storages.get(k);
      if (!data) {
        data = readStorage(k);
        storages.set(k, data);
      }
      const dtype = st.dtype === 'untyped' ? 'uint8' : st.dtype;
      if (data.byteLength % itemSize(dtype) !== 0) fail(`storage ${k} has ${data.byteLength} bytes, not whole ${dtype} elements`);
      return { dtype, data };
    },
  };
}
