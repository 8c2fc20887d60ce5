// TensorBoard event files without TensorFlow: TFRecord framing (length and data each followed by
// a masked CRC-32C) around hand-encoded `tensorflow.Event` protobufs carrying scalar summaries.
// The reader exists for tests and tools: it checks every CRC and decodes what the writer writes.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { crc32c } from '../torch/serialization/crc';

// ------------------------------------------------------------------ TFRecord framing

const MASK_DELTA = 0xa282ead8;

/** TFRecord's masked CRC: rotate right by 15 and add a constant, so CRCs of CRCs stay distinct. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/** One record: uint64 length, masked CRC of the length bytes, data, masked CRC of the data. */
export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

/** Split a TFRecord stream into records, verifying both CRCs of each. */
export function readRecords(buf: Buffer, label = 'tfrecord'): Buffer[] {
  const records: Buffer[] = [];
  let p = 0;
  while (p < buf.length) {
    if (p + 12 > buf.length) throw new Error(`${label}: truncated record header at byte ${p}`);
    const lenBytes = buf.subarray(p, p + 8);
    if (buf.readUInt32LE(p + 8) !== maskedCrc32c(lenBytes)) throw new Error(`${label}: length CRC mismatch at byte ${p}`);
    const len = Number(buf.readBigUInt64LE(p));
    if (p + 12 + len + 4 > buf.length) throw new Error(`${label}: truncated record at byte ${p}`);
    const data = buf.subarray(p + 12, p + 12 + len);
    if (buf.readUInt32LE(p + 12 + len) !== maskedCrc32c(data)) throw new Error(`${label}: data CRC mismatch at byte ${p}`);
    records.push(data);
    p += 12 + len + 4;
  }
  return records;
}

// ------------------------------------------------------------------ protobuf (the fields we use)

function varint(v: bigint): number[] {
  let x = BigInt.asUintN(64, v); // int64: negatives take 10 bytes, as protobuf specifies
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x !== 0n) b |= 0x80;
    out.push(b);
  } while (x !== 0n);
  return out;
}

const key = (field: number, wire: number): number[] => varint(BigInt((field << 3) | wire));

function lengthDelimited(field: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([...key(field, 2), ...varint(BigInt(body.length))]), body]);
}

export interface ScalarValue {
  tag: string;
  simpleValue: number;
}

export interface TfEvent {
  wallTime: number; // seconds since the epoch
  step: number;
  fileVersion?: string;
  summary?: ScalarValue[];
}

/** Encode `tensorflow.Event` {wall_time=1, step=2, file_version=3 | summary=5 {value=1 {tag=1, simple_value=2}}}. */
export function encodeEvent(e: TfEvent): Buffer {
  const parts: Buffer[] = [];
  const wall = Buffer.alloc(9);
  wall[0] = key(1, 1)[0];
  wall.writeDoubleLE(e.wallTime, 1);
  parts.push(wall);
  if (e.step !== 0) parts.push(Buffer.from([...key(2, 0), ...varint(BigInt(e.step))]));
  if (e.fileVersion !== undefined) parts.push(lengthDelimited(3, Buffer.from(e.fileVersion, 'utf8')));
  if (e.summary) {
    const values = e.summary.map((v) => {
      const f = Buffer.alloc(5);
      f[0] = key(2, 5)[0];
      f.writeFloatLE(v.simpleValue, 1);
      return lengthDelimited(1, Buffer.concat([lengthDelimited(1, Buffer.from(v.tag, 'utf8')), f]));
    });
    parts.push(lengthDelimited(5, Buffer.concat(values)));
  }
  return Buffer.concat(parts);
}

type Field = { field: number; wire: number; int?: bigint; bytes?: Buffer; fixed?: Buffer };

function parseMessage(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let p = 0;
  const readVarint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (p >= buf.length || shift > 63n) throw new Error('protobuf: bad varint');
      const b = buf[p++];
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
    }
  };
  while (p < buf.length) {
    const k = Number(readVarint());
    const field = k >>> 3;
    const wire = k & 7;
    if (wire === 0) fields.push({ field, wire, int: readVarint() });
    else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (p + n > buf.length) throw new Error('protobuf: truncated fixed field');
      fields.push({ field, wire, fixed: buf.subarray(p, p + n) });
      p += n;
    } else if (wire === 2) {
      const n = Number(readVarint());
      if (p + n > buf.length) throw new Error('protobuf: truncated length-delimited field');
      fields.push({ field, wire, bytes: buf.subarray(p, p + n) });
      p += n;
    } else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
  return fields;
}

export function decodeEvent(buf: Buffer): TfEvent {
  const e: TfEvent = { wallTime: 0, step: 0 };
  for (const f of parseMessage(buf)) {
    if (f.field === 1 && f.fixed) e.wallTime = f.fixed.readDoubleLE(0);
    else if (f.field === 2 && f.int !== undefined) e.step = Number(BigInt.asIntN(64, f.int));
    else if (f.field === 3 && f.bytes) e.fileVersion = f.bytes.toString('utf8');
    else if (f.field === 5 && f.bytes) {
      e.summary = parseMessage(f.bytes)
        .filter((v) => v.field === 1 && v.bytes)
        .map((v) => {
          const s: ScalarValue = { tag: '', simpleValue: NaN };
          for (const g of parseMessage(v.bytes!)) {
            if (g.field === 1 && g.bytes) s.tag = g.bytes.toString('utf8');
            else if (g.field === 2 && g.fixed) s.simpleValue = g.fixed.readFloatLE(0);
          }
          return s;
        });
    }
  }
  return e;
}

/** Every event in an event file, in order; throws on any CRC mismatch or truncation. */
export function readEventFile(file: string): TfEvent[] {
  return readRecords(fs.readFileSync(file), file).map(decodeEvent);
}

// ------------------------------------------------------------------ writer

export interface EventWriterOptions {
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
  hostname?: string;
  /** Write to the file once this many bytes are pending, even without flush(). */
  maxPendingBytes?: number;
}

let fileCounter = 0;

/** Appends scalar summaries to `<logDir>/events.out.tfevents.<time>.<host>.<pid>.<n>`. */
export class EventWriter {
  readonly path: string;
  private fd: number | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly clock: () => number;
  private readonly maxPending: number;

  constructor(logDir: string, opts: EventWriterOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.maxPending = opts.maxPendingBytes ?? 1 << 20;
    const host = (opts.hostname ?? os.hostname()).replace(/[/\\]/g, '_');
    const secs = String(Math.floor(this.clock() / 1000)).padStart(10, '0');
    fs.mkdirSync(logDir, { recursive: true });
    this.path = path.join(logDir, `events.out.tfevents.${secs}.${host}.${process.pid}.${fileCounter++}`);
    this.fd = fs.openSync(this.path, 'wx');
    // TensorBoard expects the version event first
    this.write({ wallTime: this.clock() / 1000, step: 0, fileVersion: 'brain.Event:2' });
    this.flush();
  }

  /** One scalar at `step`. */
  addScalar(tag: string, value: number, step: number, wallTimeMs?: number): void {
    this.addScalars({ [tag]: value }, step, wallTimeMs);
  }

  /** Several scalars (e.g. `train/lm_loss`, `train/accuracy`) at one step, as one event. */
  addScalars(values: Record<string, number>, step: number, wallTimeMs?: number): void {
    if (!Number.isSafeInteger(step)) throw new TypeError(`Expected integer step but received ${step}`);
    const summary = Object.entries(values).map(([tag, v]) => {
      if (typeof v !== 'number') throw new TypeError(`Expected number for scalar '${tag}' but received ${typeof v}`);
      return { tag, simpleValue: v };
    });
    if (summary.length > 0) this.write({ wallTime: (wallTimeMs ?? this.clock()) / 1000, step, summary });
  }

  /** Hand pending events to the OS so TensorBoard (or a crash) sees them. */
  flush(): void {
    if (this.fd === undefined) throw new Error('EventWriter: flush() after close()');
    if (this.pendingBytes === 0) return;
    const data = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    let done = 0;
    while (done < data.length) done += fs.writeSync(this.fd, data, done);
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private write(e: TfEvent): void {
    if (this.fd === undefined) throw new Error('EventWriter: write after close()');
    const rec = frameRecord(encodeEvent(e));
    this.pending.push(rec);
    this.pendingBytes += rec.length;
    if (this.pendingBytes >= this.maxPending) this.flush();
  }
}
