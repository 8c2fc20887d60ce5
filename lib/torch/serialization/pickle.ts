// Python pickle values as JS sees them, and a protocol-2 pickler (what torch.save writes).
// The pickler only emits opcodes that PyTorch 1.13's weights_only unpickler accepts (no DICT/LIST,
// no MEMOIZE, no BINBYTES), with one exception: floats need BINFLOAT, which 1.13's weights_only
// rejects (2.x accepts it) — tensors, ints, strings, bools and None are enough for weights.
// Knows nothing about tensors: torch specifics are built from PyGlobal/PyReduce/PyPersistentId.

/** A Python `collections.OrderedDict` (what `state_dict()` returns). Plain `dict`s load as `Map`. */
export class OrderedDict<K = unknown, V = unknown> extends Map<K, V> {
  /** Instance attributes set by BUILD, e.g. `_metadata` of a `state_dict()`; written back as BUILD. */
  declare attributes?: Map<string, unknown>;
}

/** A Python tuple (JS arrays pickle as lists). The unpickler gives tuples back as plain arrays. */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A module-level Python name, e.g. `torch._utils._rebuild_tensor_v2` or `torch.FloatStorage`. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** `fn(*args)` evaluated at load time; `state` (if any) is applied with BUILD afterwards. */
export class PyReduce {
  constructor(readonly fn: PyGlobal, readonly args: PyValue[], readonly state?: PyValue) {}
}

/** A persistent id: the unpickler asks the loader for the object (torch: a storage). */
export class PyPersistentId {
  constructor(readonly id: PyValue) {}
}

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyValue[]
  | Map<PyValue, PyValue>
  | { [key: string]: PyValue }
  | PyTuple
  | PyGlobal
  | PyReduce
  | PyPersistentId;

// Opcodes (pickletools names).
export const OP = {
  MARK: 0x28, STOP: 0x2e, POP: 0x30, POP_MARK: 0x31, DUP: 0x32, FLOAT: 0x46, INT: 0x49,
  BININT: 0x4a, BININT1: 0x4b, LONG: 0x4c, BININT2: 0x4d, NONE: 0x4e, PERSID: 0x50,
  BINPERSID: 0x51, REDUCE: 0x52, STRING: 0x53, BINSTRING: 0x54, SHORT_BINSTRING: 0x55,
  UNICODE: 0x56, BINUNICODE: 0x58, APPEND: 0x61, BUILD: 0x62, GLOBAL: 0x63, DICT: 0x64,
  EMPTY_DICT: 0x7d, APPENDS: 0x65, GET: 0x67, BINGET: 0x68, LONG_BINGET: 0x6a, LIST: 0x6c,
  EMPTY_LIST: 0x5d, PUT: 0x70, BINPUT: 0x71, LONG_BINPUT: 0x72, SETITEM: 0x73, TUPLE: 0x74,
  EMPTY_TUPLE: 0x29, SETITEMS: 0x75, BINFLOAT: 0x47, PROTO: 0x80, NEWOBJ: 0x81, TUPLE1: 0x85,
  TUPLE2: 0x86, TUPLE3: 0x87, NEWTRUE: 0x88, NEWFALSE: 0x89, LONG1: 0x8a, LONG4: 0x8b,
  BINBYTES: 0x42, SHORT_BINBYTES: 0x43, SHORT_BINUNICODE: 0x8c, BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e, EMPTY_SET: 0x8f, ADDITEMS: 0x90, FROZENSET: 0x91, NEWOBJ_EX: 0x92,
  STACK_GLOBAL: 0x93, MEMOIZE: 0x94, FRAME: 0x95, BYTEARRAY8: 0x96,
} as const;

const BATCH = 1000; // Python's pickler batches APPENDS/SETITEMS by 1000

/** Growable byte buffer. */
class Bytes {
  private buf = Buffer.alloc(4096);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  // Each writer returns `this`, so an opcode and its argument read as one line.
  u8(v: number): this {
    this.ensure(1);
    this.buf[this.length++] = v;
    return this;
  }
  u16(v: number): this {
    this.ensure(2);
    this.length = this.buf.writeUInt16LE(v, this.length);
    return this;
  }
  u32(v: number): this {
    this.ensure(4);
    this.length = this.buf.writeUInt32LE(v, this.length);
    return this;
  }
  i32(v: number): this {
    this.ensure(4);
    this.length = this.buf.writeInt32LE(v, this.length);
    return this;
  }
  f64be(v: number): this {
    this.ensure(8);
    this.length = this.buf.writeDoubleBE(v, this.length);
    return this;
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** Two's-complement little-endian bytes of a Python long, as LONG1 encodes it (0 is empty). */
export function encodeLong(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  const out: number[] = [];
  let x = v;
  for (;;) {
    const byte = Number(x & 0xffn);
    out.push(byte);
    x >>= 8n; // arithmetic shift keeps the sign
    if ((x === 0n && (byte & 0x80) === 0) || (x === -1n && (byte & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

/** Pickle `value` with protocol 2, memoizing strings, globals and containers like CPython does. */
export function pickle(value: PyValue): Buffer {
  const out = new Bytes();
  const memo = new Map<unknown, number>(); // object identity, or `g:`/`s:`-prefixed keys
  const put = (key: unknown): void => {
    const i = memo.size;
    memo.set(key, i);
    if (i < 256) out.u8(OP.BINPUT).u8(i);
    else out.u8(OP.LONG_BINPUT).u32(i);
  };
  const get = (key: unknown): boolean => {
    const i = memo.get(key);
    if (i === undefined) return false;
    if (i < 256) out.u8(OP.BINGET).u8(i);
    else out.u8(OP.LONG_BINGET).u32(i);
    return true;
  };
  const saveGlobal = (g: PyGlobal): void => {
    const key = `g:${g.qualified}`;
    if (get(key)) return;
    out.u8(OP.GLOBAL);
    out.bytes(Buffer.from(`${g.module}\n${g.name}\n`, 'utf8'));
    put(key);
  };
  const saveTuple = (items: PyValue[]): void => {
    if (items.length === 0) {
      out.u8(OP.EMPTY_TUPLE);
      return;
    }
    if (items.length <= 3) {
      items.forEach(save);
      out.u8([OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][items.length - 1]);
      return;
    }
    out.u8(OP.MARK);
    items.forEach(save);
    out.u8(OP.TUPLE);
  };
  const saveItems = (entries: Array<[PyValue, PyValue]>): void => {
    for (let i = 0; i < entries.length; i += BATCH) {
      const batch = entries.slice(i, i + BATCH);
      if (batch.length === 1) {
        save(batch[0][0]);
        save(batch[0][1]);
        out.u8(OP.SETITEM);
        continue;
      }
      out.u8(OP.MARK);
      for (const [k, v] of batch) {
        save(k);
        save(v);
      }
      out.u8(OP.SETITEMS);
    }
  };
  const saveInt = (v: number | bigint): void => {
    if (typeof v === 'number' && v >= 0 && v < 256) out.u8(OP.BININT1).u8(v);
    else if (typeof v === 'number' && v >= 0 && v < 65536) out.u8(OP.BININT2).u16(v);
    else if (typeof v === 'number' && v >= -0x80000000 && v <= 0x7fffffff) out.u8(OP.BININT).i32(v);
    else {
      const bytes = encodeLong(BigInt(v));
      if (bytes.length < 256) out.u8(OP.LONG1).u8(bytes.length).bytes(bytes);
      else out.u8(OP.LONG4).u32(bytes.length).bytes(bytes);
    }
  };
  function save(v: PyValue): void {
    if (v === null || typeof v === 'boolean') {
      out.u8(v === null ? OP.NONE : v ? OP.NEWTRUE : OP.NEWFALSE);
      return;
    }
    if (typeof v === 'bigint') return saveInt(v);
    if (typeof v === 'number') {
      // integral JS numbers within 2^53 are Python ints; everything else is a float
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) return saveInt(v);
      out.u8(OP.BINFLOAT).f64be(v);
      return;
    }
    if (typeof v === 'string') {
      const key = `s:${v}`;
      if (get(key)) return;
      const b = Buffer.from(v, 'utf8');
      out.u8(OP.BINUNICODE);
      out.u32(b.length);
      out.bytes(b);
      put(key);
      return;
    }
    if (v instanceof PyGlobal) return saveGlobal(v);
    if (v instanceof PyTuple) return saveTuple(v.items);
    if (v instanceof PyPersistentId) {
      save(v.id);
      out.u8(OP.BINPERSID);
      return;
    }
    if (get(v)) return; // shared container or reduce result: pickle it once
    if (v instanceof PyReduce) {
      saveGlobal(v.fn);
      saveTuple(v.args);
      out.u8(OP.REDUCE);
      put(v);
      if (v.state !== undefined) {
        save(v.state);
        out.u8(OP.BUILD);
      }
      return;
    }
    if (Array.isArray(v)) {
      out.u8(OP.EMPTY_LIST);
      put(v);
      for (let i = 0; i < v.length; i += BATCH) {
        const batch = v.slice(i, i + BATCH);
        if (batch.length === 1) {
          save(batch[0]);
          out.u8(OP.APPEND);
        } else {
          out.u8(OP.MARK);
          batch.forEach(save);
          out.u8(OP.APPENDS);
        }
      }
      return;
    }
    if (v instanceof OrderedDict) {
      saveGlobal(new PyGlobal('collections', 'OrderedDict'));
      out.u8(OP.EMPTY_TUPLE);
      out.u8(OP.REDUCE);
      put(v);
      if (v.size > 0) saveItems([...v.entries()] as Array<[PyValue, PyValue]>);
      if (v.attributes && v.attributes.size > 0) {
        out.u8(OP.EMPTY_DICT);
        saveItems([...v.attributes.entries()] as Array<[PyValue, PyValue]>);
        out.u8(OP.BUILD);
      }
      return;
    }
    if (v instanceof Map || isPlainObject(v)) {
      out.u8(OP.EMPTY_DICT);
      put(v);
      const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
      if (entries.length > 0) saveItems(entries);
      return;
    }
    throw new TypeError(`pickle: cannot pickle ${describe(v)}`);
  }
  out.u8(OP.PROTO);
  out.u8(2);
  save(value);
  out.u8(OP.STOP);
  return out.result();
}

export function isPlainObject(v: unknown): v is { [key: string]: PyValue } {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'object' && v !== null) return `an object of class ${v.constructor?.name ?? 'null-prototype'}`;
  return `a value of type ${typeof v}`;
}
