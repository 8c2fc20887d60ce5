// ZIP container as PyTorch's checkpoint writer produces it: stored (uncompressed) entries whose
// data starts on a 64-byte boundary (padding in an "FB" extra field, as caffe2's
// inline_container does) so a reader can mmap tensor data; ZIP64 records only when needed.
import * as fs from 'fs';
import * as zlib from 'zlib';
import { crc32 } from './crc';
import { SerializationError } from './errors';

const ALIGN = 64;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;
const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const FLAG_UTF8 = 0x0800;
const DOS_DATE_1980_01_01 = 0x21; // date 0 is not a valid DOS date; some tools complain
const ZIP64_EXTRA_ID = 0x0001;
const PAD_EXTRA_ID = 0x4246; // "FB", PyTorch's padding field

/** Where bytes go: a file descriptor in production, an array of chunks in tests. */
export type ZipSink = (chunk: Uint8Array) => void;

interface WrittenEntry {
  name: Buffer;
  crc: number;
  size: number;
  offset: number;
}

export interface ZipWriterOptions {
  /** Write ZIP64 extras and end records even for small archives (for tests of that path). */
  forceZip64?: boolean;
}

export class ZipWriter {
  private offset = 0;
  private readonly entries: WrittenEntry[] = [];
  private readonly names = new Set<string>();
  private finished = false;

  constructor(private readonly sink: ZipSink, private readonly opts: ZipWriterOptions = {}) {}

  /** Append one stored entry; its data begins at a multiple of 64 bytes in the file. */
  add(name: string, data: Uint8Array): void {
    if (this.finished) throw new Error('ZipWriter: add() after finish()');
    if (this.names.has(name)) throw new Error(`ZipWriter: duplicate entry name '${name}'`);
    this.names.add(name);
    const nameBuf = Buffer.from(name, 'utf8');
    const size = data.byteLength;
    const crc = crc32(data);
    const zip64 = this.opts.forceZip64 === true || size >= U32_MAX;
    const zip64Len = zip64 ? 4 + 16 : 0;
    const beforePad = this.offset + 30 + nameBuf.length + zip64Len + 4;
    const pad = (ALIGN - (beforePad % ALIGN)) % ALIGN;
    const extraLen = zip64Len + 4 + pad;

    const h = Buffer.alloc(30 + nameBuf.length + extraLen, 'Z'); // padding bytes are 'Z' like PyTorch
    h.writeUInt32LE(SIG_LOCAL, 0);
    h.writeUInt16LE(zip64 ? 45 : 20, 4); // version needed
    h.writeUInt16LE(FLAG_UTF8, 6);
    h.writeUInt16LE(0, 8); // method: stored
    h.writeUInt16LE(0, 10); // time
    h.writeUInt16LE(DOS_DATE_1980_01_01, 12);
    h.writeUInt32LE(crc, 14);
    h.writeUInt32LE(zip64 ? U32_MAX : size, 18);
    h.writeUInt32LE(zip64 ? U32_MAX : size, 22);
    h.writeUInt16LE(nameBuf.length, 26);
    h.writeUInt16LE(extraLen, 28);
    nameBuf.copy(h, 30);
    let p = 30 + nameBuf.length;
    if (zip64) {
      h.writeUInt16LE(ZIP64_EXTRA_ID, p);
      h.writeUInt16LE(16, p + 2);
      h.writeBigUInt64LE(BigInt(size), p + 4);
      h.writeBigUInt64LE(BigInt(size), p + 12);
      p += zip64Len;
    }
    h.writeUInt16LE(PAD_EXTRA_ID, p);
    h.writeUInt16LE(pad, p + 2);

    this.entries.push({ name: nameBuf, crc, size, offset: this.offset });
    this.emit(h);
    this.emit(data);
  }

  /** Write the central directory and end records. The archive is complete after this. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const force = this.opts.forceZip64 === true;
    const cdStart = this.offset;
    for (const e of this.entries) {
      const bigSize = force || e.size >= U32_MAX;
      const bigOffset = force || e.offset >= U32_MAX;
      const z64 = (bigSize ? 16 : 0) + (bigOffset ? 8 : 0);
      const extraLen = z64 > 0 ? 4 + z64 : 0;
      const c = Buffer.alloc(46 + e.name.length + extraLen);
      c.writeUInt32LE(SIG_CENTRAL, 0);
      c.writeUInt16LE((3 << 8) | 45, 4); // made by: unix, spec 4.5
      c.writeUInt16LE(z64 > 0 ? 45 : 20, 6);
      c.writeUInt16LE(FLAG_UTF8, 8);
      c.writeUInt16LE(0, 10);
      c.writeUInt16LE(0, 12);
      c.writeUInt16LE(DOS_DATE_1980_01_01, 14);
      c.writeUInt32LE(e.crc, 16);
      c.writeUInt32LE(bigSize ? U32_MAX : e.size, 20);
      c.writeUInt32LE(bigSize ? U32_MAX : e.size, 24);
      c.writeUInt16LE(e.name.length, 28);
      c.writeUInt16LE(extraLen, 30);
      // comment length, disk, internal attrs: 0
      c.writeUInt32LE((0o100644 << 16) >>> 0, 38); // regular file, rw-r--r--
      c.writeUInt32LE(bigOffset ? U32_MAX : e.offset, 42);
      e.name.copy(c, 46);
      let p = 46 + e.name.length;
      if (z64 > 0) {
        c.writeUInt16LE(ZIP64_EXTRA_ID, p);
        c.writeUInt16LE(z64, p + 2);
        p += 4;
        if (bigSize) {
          c.writeBigUInt64LE(BigInt(e.size), p);
          c.writeBigUInt64LE(BigInt(e.size), p + 8);
          p += 16;
        }
        if (bigOffset) c.writeBigUInt64LE(BigInt(e.offset), p);
      }
      this.emit(c);
    }
    const cdSize = this.offset - cdStart;
    const n = this.entries.length;
    const zip64End = force || n >= U16_MAX || cdStart >= U32_MAX || cdSize >= U32_MAX;
    if (zip64End) {
      const eocd64At = this.offset;
      const r = Buffer.alloc(56 + 20);
      r.writeUInt32LE(SIG_EOCD64, 0);
      r.writeBigUInt64LE(44n, 4); // size of the rest of this record
      r.writeUInt16LE((3 << 8) | 45, 12);
      r.writeUInt16LE(45, 14);
      // disk numbers at 16, 20: 0
      r.writeBigUInt64LE(BigInt(n), 24);
      r.writeBigUInt64LE(BigInt(n), 32);
      r.writeBigUInt64LE(BigInt(cdSize), 40);
      r.writeBigUInt64LE(BigInt(cdStart), 48);
      r.writeUInt32LE(SIG_EOCD64_LOCATOR, 56);
      r.writeUInt32LE(0, 60);
      r.writeBigUInt64LE(BigInt(eocd64At), 64);
      r.writeUInt32LE(1, 72); // total disks
      this.emit(r);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(SIG_EOCD, 0);
    end.writeUInt16LE(zip64End ? U16_MAX : n, 8);
    end.writeUInt16LE(zip64End ? U16_MAX : n, 10);
    end.writeUInt32LE(zip64End ? U32_MAX : cdSize, 12);
    end.writeUInt32LE(zip64End ? U32_MAX : cdStart, 16);
    this.emit(end);
  }

  private emit(chunk: Uint8Array): void {
    this.sink(chunk);
    this.offset += chunk.byteLength;
  }
}

/** A sink that writes everything to an open file descriptor (handles partial writes). */
export function fdSink(fd: number): ZipSink {
  return (chunk) => {
    let done = 0;
    while (done < chunk.byteLength) {
      // fs.writeSync writes at most 2 GiB per call
      const len = Math.min(chunk.byteLength - done, 1 << 30);
      done += fs.writeSync(fd, chunk, done, len);
    }
  };
}

// ---------------------------------------------------------------- reading

/** Random access to the archive's bytes: a file or an in-memory buffer. */
export interface ZipSource {
  readonly size: number;
  read(position: number, length: number): Buffer;
  close(): void;
}

export function bufferSource(buf: Uint8Array): ZipSource {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    size: b.length,
    read: (pos, len) => Buffer.from(b.subarray(pos, pos + len)), // a copy: results never alias the input
    close: () => undefined,
  };
}

export function fileSource(path: string): ZipSource {
  const fd = fs.openSync(path, 'r');
  const size = fs.fstatSync(fd).size;
  return {
    size,
    read: (pos, len) => {
      const out = Buffer.allocUnsafe(len);
      let done = 0;
      while (done < len) {
        const n = fs.readSync(fd, out, done, Math.min(len - done, 1 << 30), pos + done);
        if (n === 0) break;
        done += n;
      }
      return done === len ? out : out.subarray(0, done);
    },
    close: () => fs.closeSync(fd),
  };
}

export interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  headerOffset: number;
}

export class ZipReader {
  readonly entries: ReadonlyMap<string, ZipEntry>;

  private constructor(private readonly src: ZipSource, private readonly label: string, entries: Map<string, ZipEntry>) {
    this.entries = entries;
  }

  static open(path: string): ZipReader {
    const src = fileSource(path);
    try {
      return new ZipReader(src, path, readCentralDirectory(src, path));
    } catch (e) {
      src.close();
      throw e;
    }
  }

  static fromBuffer(buf: Uint8Array, label = '<buffer>'): ZipReader {
    const src = bufferSource(buf);
    return new ZipReader(src, label, readCentralDirectory(src, label));
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry's bytes, CRC-checked. Throws SerializationError if missing, truncated or corrupt. */
  read(name: string): Buffer {
    const e = this.entries.get(name);
    if (!e) throw this.fail(`has no entry '${name}'`);
    const lh = this.src.read(e.headerOffset, 30);
    if (lh.length < 30 || lh.readUInt32LE(0) !== SIG_LOCAL) {
      throw this.fail(`is corrupt: bad local header for '${name}' at offset ${e.headerOffset}`);
    }
    const dataAt = e.headerOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
    const raw = this.src.read(dataAt, e.compressedSize);
    if (raw.length < e.compressedSize) {
      throw this.fail(`is truncated: entry '${name}' needs ${e.compressedSize} bytes at offset ${dataAt}, file has ${this.src.size}`);
    }
    let data: Buffer;
    if (e.method === 0) data = raw;
    else if (e.method === 8) data = zlib.inflateRawSync(raw);
    else throw this.fail(`uses unsupported compression method ${e.method} for '${name}'`);
    if (data.length !== e.size) throw this.fail(`is corrupt: entry '${name}' has ${data.length} bytes, expected ${e.size}`);
    if (crc32(data) !== e.crc) throw this.fail(`is corrupt: CRC-32 mismatch in entry '${name}'`);
    return data;
  }

  close(): void {
    this.src.close();
  }

  private fail(what: string): SerializationError {
    return new SerializationError(`zip archive ${this.label} ${what}`);
  }
}

function readCentralDirectory(src: ZipSource, label: string): Map<string, ZipEntry> {
  const fail = (what: string) => new SerializationError(`zip archive ${label} ${what}`);
  // The end record sits in the last 22 bytes + up to 64 KiB of comment.
  const tailLen = Math.min(src.size, 22 + U16_MAX);
  const tailAt = src.size - tailLen;
  const tail = src.read(tailAt, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw fail(`is truncated or not a zip file: no end-of-central-directory record in its ${src.size} bytes`);
  }
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdStart = tail.readUInt32LE(eocd + 16);
  const locAt = tailAt + eocd - 20;
  if (locAt >= 0 && src.read(locAt, 4).readUInt32LE(0) === SIG_EOCD64_LOCATOR) {
    const z64At = Number(src.read(locAt + 8, 8).readBigUInt64LE(0));
    const r = src.read(z64At, 56);
    if (r.length < 56 || r.readUInt32LE(0) !== SIG_EOCD64) throw fail('is corrupt: bad ZIP64 end record');
    count = Number(r.readBigUInt64LE(32));
    cdSize = Number(r.readBigUInt64LE(40));
    cdStart = Number(r.readBigUInt64LE(48));
  }
  if (cdStart + cdSize > src.size) throw fail(`is truncated: central directory ends past the end of the file`);
  const cd = src.read(cdStart, cdSize);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) throw fail(`is corrupt: bad central directory entry ${i}`);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    let headerOffset = cd.readUInt32LE(p + 42);
    // ZIP64 extra: only the saturated fields are present, in this order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = cd.readUInt16LE(x);
      const len = cd.readUInt16LE(x + 2);
      if (id === ZIP64_EXTRA_ID) {
        let q = x + 4;
        const next = (): number => {
          const v = Number(cd.readBigUInt64LE(q));
          q += 8;
          return v;
        };
        if (size === U32_MAX) size = next();
        if (compressedSize === U32_MAX) compressedSize = next();
        if (headerOffset === U32_MAX) headerOffset = next();
      }
      x += 4 + len;
    }
    entries.set(name, {
      name,
      method: cd.readUInt16LE(p + 10),
      crc: cd.readUInt32LE(p + 16),
      compressedSize,
      size,
      headerOffset,
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
