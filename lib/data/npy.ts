// Reader and writer for NumPy's .npy format (versions 1.0, 2.0, 3.0), little-endian, C order.
// The dataset folders hold .npy files so that the official Python tools and ours read each other's.
import * as fs from "fs";
import { DatasetError } from "./errors";

export type NpyDType = "int8" | "uint8" | "int16" | "int32" | "int64" | "float32" | "float64" | "bool";

export type NpyData = Int8Array | Uint8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

export interface NpyArray {
  dtype: NpyDType;
  shape: number[];
  /** bool is stored as one byte per element (0 or 1) in a Uint8Array. */
  data: NpyData;
}

export interface NpyHeader {
  dtype: NpyDType;
  shape: number[];
  /** Byte offset of the first element in the file; what a native mmap needs. */
  dataOffset: number;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // "\x93NUMPY"
const ALIGN = 64; // numpy pads headers so data starts at a multiple of 64 bytes

// descr string (without byte-order char) <-> dtype
const DESCR_TO_DTYPE: Record<string, NpyDType> = {
  i1: "int8", u1: "uint8", i2: "int16", i4: "int32", i8: "int64", f4: "float32", f8: "float64", b1: "bool",
};
const DTYPE_TO_DESCR: Record<NpyDType, string> = {
  int8: "|i1", uint8: "|u1", int16: "<i2", int32: "<i4", int64: "<i8", float32: "<f4", float64: "<f8", bool: "|b1",
};

export function itemSize(dtype: NpyDType): number {
  switch (dtype) {
    case "int8": case "uint8": case "bool": return 1;
    case "int16": return 2;
    case "int32": case "float32": return 4;
    case "int64": case "float64": return 8;
  }
}

/** The dtype a typed array is written as (Uint8Array defaults to uint8, not bool). */
export function dtypeOf(data: NpyData): NpyDType {
  if (data instanceof Int8Array) return "int8";
  if (data instanceof Uint8Array) return "uint8";
  if (data instanceof Int16Array) return "int16";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof Float32Array) return "float32";
  return "float64";
}

export function allocate(dtype: NpyDType, length: number): NpyData {
  switch (dtype) {
    case "int8": return new Int8Array(length);
    case "uint8": case "bool": return new Uint8Array(length);
    case "int16": return new Int16Array(length);
    case "int32": return new Int32Array(length);
    case "int64": return new BigInt64Array(length);
    case "float32": return new Float32Array(length);
    case "float64": return new Float64Array(length);
  }
}

function viewOf(dtype: NpyDType, buffer: ArrayBuffer, byteOffset: number, length: number): NpyData {
  switch (dtype) {
    case "int8": return new Int8Array(buffer, byteOffset, length);
    case "uint8": case "bool": return new Uint8Array(buffer, byteOffset, length);
    case "int16": return new Int16Array(buffer, byteOffset, length);
    case "int32": return new Int32Array(buffer, byteOffset, length);
    case "int64": return new BigInt64Array(buffer, byteOffset, length);
    case "float32": return new Float32Array(buffer, byteOffset, length);
    case "float64": return new Float64Array(buffer, byteOffset, length);
  }
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Parses the header at the start of `buf`; `file` only names the source in errors. */
export function parseNpyHeader(buf: Uint8Array, file?: string): NpyHeader {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 10 || !b.subarray(0, 6).equals(MAGIC)) {
    throw new DatasetError("not a .npy file (bad magic string)", { file });
  }
  const major = b[6];
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = b.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (b.length < 12) throw new DatasetError("truncated .npy header", { file });
    headerLen = b.readUInt32LE(8);
    start = 12;
  } else {
    throw new DatasetError(`unsupported .npy version ${major}.${b[7]}`, { file });
  }
  if (b.length < start + headerLen) throw new DatasetError("truncated .npy header", { file });
  // v3 headers are UTF-8; v1/v2 are latin1 (identical for the ASCII numpy writes).
  const text = b.toString(major === 3 ? "utf8" : "latin1", start, start + headerLen);

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new DatasetError(`malformed .npy header: ${text.trim()}`, { file });
  }
  if (fortran === "True") throw new DatasetError("Fortran-order .npy arrays are not supported", { file, field: "fortran_order" });
  const order = descr[0];
  const kind = descr.slice(1);
  const dtype = DESCR_TO_DTYPE[kind];
  if (dtype === undefined || !(order === "<" || order === "|" || (order === "=" && isLittleEndianHost()))) {
    throw new DatasetError(`unsupported .npy dtype '${descr}' (little-endian int8/uint8/int16/int32/int64/float32/float64/bool only)`, { file, field: "descr" });
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const n = Number(s.replace(/L$/, ""));
    if (!Number.isSafeInteger(n) || n < 0) throw new DatasetError(`bad .npy shape (${shapeText})`, { file, field: "shape" });
    return n;
  });
  return { dtype, shape, dataOffset: start + headerLen };
}

function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/** Reads only the header of a .npy file (a few hundred bytes), e.g. before memory-mapping it. */
export function readNpyHeader(file: string): NpyHeader {
  const fd = openOrThrow(file, "r");
  try {
    const head = Buffer.alloc(4096);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    let header = head.subarray(0, n);
    // Headers longer than 4 KiB are legal (v2/v3); read exactly what the length field says.
    if (n >= 12 && (head[6] === 2 || head[6] === 3) && head.readUInt32LE(8) + 12 > n) {
      header = Buffer.alloc(head.readUInt32LE(8) + 12);
      fs.readSync(fd, header, 0, header.length, 0);
    }
    return parseNpyHeader(header, file);
  } finally {
    fs.closeSync(fd);
  }
}

/** Decodes a whole .npy file held in memory. The result does not alias `buf` unless aligned. */
export function parseNpy(buf: Uint8Array, file?: string): NpyArray {
  const header = parseNpyHeader(buf, file);
  const count = numel(header.shape);
  const bytes = count * itemSize(header.dtype);
  if (buf.byteLength < header.dataOffset + bytes) {
    throw new DatasetError(`truncated .npy data: expected ${bytes} bytes for shape (${header.shape.join(", ")})`, { file });
  }
  const offset = buf.byteOffset + header.dataOffset;
  // Typed arrays need element alignment; copy when the source buffer is not aligned.
  const aligned = offset % itemSize(header.dtype) === 0;
  const data = aligned
    ? viewOf(header.dtype, buf.buffer as ArrayBuffer, offset, count)
    : viewOf(header.dtype, new Uint8Array(buf.subarray(header.dataOffset, header.dataOffset + bytes)).buffer, 0, count);
  return { dtype: header.dtype, shape: header.shape, data };
}

export function readNpy(file: string): NpyArray {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new DatasetError(`cannot read .npy file: ${(e as Error).message}`, { file });
  }
  return parseNpy(buf, file);
}

function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(", ")})`;
}

/** Builds a version-1.0 header (as numpy writes it) whose total length is a multiple of 64,
 *  or exactly `totalLength` bytes when given (used to rewrite a header in place). */
export function encodeNpyHeader(dtype: NpyDType, shape: readonly number[], totalLength?: number): Buffer {
  const dict = `{'descr': '${DTYPE_TO_DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  const preamble = 10;
  const minimal = preamble + dict.length + 1; // +1 for the final newline
  const total = totalLength ?? Math.ceil(minimal / ALIGN) * ALIGN;
  if (total < minimal || total - preamble > 0xffff) {
    throw new DatasetError(`.npy header for shape ${shapeRepr(shape)} does not fit in ${total} bytes`);
  }
  const out = Buffer.alloc(total, 0x20);
  MAGIC.copy(out, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(total - preamble, 8);
  out.write(dict, preamble, "latin1");
  out[total - 1] = 0x0a;
  return out;
}

export function encodeNpy(array: NpyArray): Buffer {
  const count = numel(array.shape);
  if (array.data.length !== count) {
    throw new DatasetError(`data length ${array.data.length} does not match shape ${shapeRepr(array.shape)}`);
  }
  const header = encodeNpyHeader(array.dtype, array.shape);
  const body = Buffer.from(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  return Buffer.concat([header, body]);
}

export function writeNpy(file: string, array: NpyArray): void {
  try {
    fs.writeFileSync(file, encodeNpy(array));
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    throw new DatasetError(`cannot write .npy file: ${(e as Error).message}`, { file });
  }
}

function openOrThrow(file: string, flags: string): number {
  try {
    return fs.openSync(file, flags);
  } catch (e) {
    throw new DatasetError(`cannot open .npy file: ${(e as Error).message}`, { file });
  }
}

/**
 * Appends rows of a fixed row shape to a .npy file without holding them all in memory
 * (ARC with 1000 augments is gigabytes). The row count is unknown until `close()`, so a
 * fixed 128-byte header is written first and rewritten in place at the end.
 */
export class NpyRowWriter {
  private static readonly HEADER_BYTES = 128;
  private static readonly CHUNK_BYTES = 1 << 22;
  private fd: number;
  private rows = 0;
  private pending: Buffer;
  private pendingBytes = 0;
  private position: number = NpyRowWriter.HEADER_BYTES;
  private readonly rowBytes: number;

  constructor(readonly file: string, readonly dtype: NpyDType, readonly rowShape: readonly number[]) {
    this.rowBytes = numel(rowShape) * itemSize(dtype);
    this.fd = openOrThrow(file, "w");
    fs.writeSync(this.fd, encodeNpyHeader(dtype, [0, ...rowShape], NpyRowWriter.HEADER_BYTES));
    this.pending = Buffer.alloc(Math.max(NpyRowWriter.CHUNK_BYTES, this.rowBytes));
  }

  get length(): number {
    return this.rows;
  }

  /** Appends one or more whole rows held in `data` (same dtype as the writer). */
  append(data: NpyData): void {
    if (this.fd < 0) throw new DatasetError("append after close", { file: this.file });
    if (dtypeOf(data) !== this.dtype && !(this.dtype === "bool" && data instanceof Uint8Array)) {
      throw new DatasetError(`cannot append ${dtypeOf(data)} rows to a ${this.dtype} array`, { file: this.file });
    }
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (this.rowBytes === 0 || bytes.length % this.rowBytes !== 0) {
      throw new DatasetError(`appended ${bytes.length} bytes, not a whole number of ${this.rowBytes}-byte rows`, { file: this.file });
    }
    if (this.pendingBytes + bytes.length > this.pending.length) this.flush();
    if (bytes.length > this.pending.length) {
      this.writeAt(bytes);
    } else {
      bytes.copy(this.pending, this.pendingBytes);
      this.pendingBytes += bytes.length;
    }
    this.rows += bytes.length / this.rowBytes;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    fs.writeSync(this.fd, encodeNpyHeader(this.dtype, [this.rows, ...this.rowShape], NpyRowWriter.HEADER_BYTES), 0, NpyRowWriter.HEADER_BYTES, 0);
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  private flush(): void {
    if (this.pendingBytes > 0) this.writeAt(this.pending.subarray(0, this.pendingBytes));
    this.pendingBytes = 0;
  }

  private writeAt(bytes: Buffer): void {
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done, bytes.length - done, this.position + done);
    this.position += bytes.length;
  }
}
