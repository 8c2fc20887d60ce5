// torch.save / torch.load for the zip format (PyTorch >= 1.6 default), in pure TypeScript:
// `<archive>/data.pkl` (protocol-2 pickle), `<archive>/data/<key>` (raw storages, 64-byte
// aligned), `<archive>/byteorder`, `<archive>/version`. LibTorch 1.13's own unpickler cannot read
// what Python writes for state dicts (SPEC §11), hence this.
import * as fs from 'fs';
import * as path from 'path';
import { SerializationError } from './errors';
import { pickle } from './pickle';
import { TensorRecord, itemSize, toPickle, torchHooks } from './tensors';
import { unpickle } from './unpickler';
import { ZipReader, ZipWriter, fdSink } from './zip';

export { SerializationError } from './errors';
export { OrderedDict } from './pickle';
export { DType, DTYPES, TensorRecord, contiguousStrides, isTensorRecord, itemSize } from './tensors';

const FORMAT_VERSION = '3\n'; // what PyTorch 1.13-2.x write in `version`

/** The folder name torch.save uses inside the zip: the file's basename minus its last extension. */
export function archiveName(file: string): string {
  const base = path.basename(file);
  const dot = base.lastIndexOf('.');
  const name = dot >= 0 ? base.slice(0, dot) : base;
  return name.length > 0 ? name : 'archive';
}

/** The checkpoint's bytes, for callers that write elsewhere (or tests). */
export function saveToBuffer(obj: unknown, archive = 'archive'): Buffer {
  const chunks: Uint8Array[] = [];
  writeArchive(obj, archive, new ZipWriter((c) => chunks.push(Buffer.from(c))));
  return Buffer.concat(chunks);
}

/**
 * Write `obj` as `torch.save` would: dicts (Map, OrderedDict or plain objects), arrays, numbers,
 * bigints, strings, booleans, null and TensorRecords. Atomic: the file appears complete or not
 * at all (temp file in the same folder, fsync, rename).
 */
export function save(obj: unknown, file: string): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  const fd = fs.openSync(tmp, 'wx');
  let closed = false;
  try {
    writeArchive(obj, archiveName(file), new ZipWriter(fdSink(fd)));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    closed = true;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (!closed) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}

function writeArchive(obj: unknown, archive: string, zip: ZipWriter): void {
  const storages: Uint8Array[] = [];
  const keys = new Map<Uint8Array, string>();
  const storageKey = (data: Uint8Array): string => {
    let k = keys.get(data);
    if (k === undefined) {
      k = String(storages.length);
      keys.set(data, k);
      storages.push(data);
    }
    return k;
  };
  const pkl = pickle(toPickle(obj, storageKey)); // throws before anything is written
  zip.add(`${archive}/data.pkl`, pkl);
  zip.add(`${archive}/byteorder`, Buffer.from('little'));
  storages.forEach((data, i) => zip.add(`${archive}/data/${i}`, data));
  zip.add(`${archive}/version`, Buffer.from(FORMAT_VERSION));
  zip.finish();
}

// A rename is durable only once the directory entry is; not every platform can fsync a folder.
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Read a torch.save zip checkpoint. Dicts come back as Map (OrderedDict for
 * collections.OrderedDict, e.g. state dicts), tuples and lists as arrays, tensors as
 * TensorRecords (tensors sharing a storage share one `data`). Only tensors and plain data load:
 * any other Python class is refused. Throws SerializationError for truncated or corrupt files.
 */
export function load(file: string): unknown {
  let zip: ZipReader;
  try {
    zip = ZipReader.open(file);
  } catch (e) {
    if (e instanceof SerializationError) throw legacyHint(file, e);
    throw e;
  }
  try {
    return loadArchive(zip, file);
  } finally {
    zip.close();
  }
}

export function loadFromBuffer(buf: Uint8Array, label = '<buffer>'): unknown {
  return loadArchive(ZipReader.fromBuffer(buf, label), label);
}

function loadArchive(zip: ZipReader, label: string): unknown {
  const first = zip.names()[0] ?? '';
  const slash = first.indexOf('/');
  if (slash < 0) throw new SerializationError(`${label}: not a torch.save archive (no '<name>/data.pkl' entry)`);
  const prefix = first.slice(0, slash + 1);
  if (!zip.has(`${prefix}data.pkl`)) {
    const hint = zip.has(`${prefix}constants.pkl`) ? ' (it looks like a TorchScript module: use jit.load)' : '';
    throw new SerializationError(`${label}: not a torch.save archive, ${prefix}data.pkl is missing${hint}`);
  }
  const bigEndian = zip.has(`${prefix}byteorder`) && zip.read(`${prefix}byteorder`).toString() === 'big';
  const readStorage = (key: string): Uint8Array => zip.read(`${prefix}data/${key}`);
  const value = unpickle(zip.read(`${prefix}data.pkl`), torchHooks(readStorage, label), `${label}: data.pkl`);
  if (bigEndian) toLittleEndian(value);
  return value;
}

// Files written on big-endian machines hold big-endian storages; swap each storage once.
function toLittleEndian(root: unknown): void {
  const swapped = new Set<Uint8Array>();
  const visit = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    if ('dtype' in v && 'data' in v && (v as TensorRecord).data instanceof Uint8Array) {
      const t = v as TensorRecord;
      if (swapped.has(t.data)) return;
      swapped.add(t.data);
      const b = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      const size = itemSize(t.dtype);
      if (size === 2) b.swap16();
      else if (size === 4) b.swap32();
      else if (size === 8) b.swap64();
      return;
    }
    const items = v instanceof Map ? v.values() : Array.isArray(v) ? v : Object.values(v);
    for (const x of items) visit(x);
  };
  visit(root);
}

function legacyHint(file: string, e: SerializationError): SerializationError {
  let head = Buffer.alloc(0);
  try {
    const fd = fs.openSync(file, 'r');
    head = Buffer.alloc(2);
    fs.readSync(fd, head, 0, 2, 0);
    fs.closeSync(fd);
  } catch {
    return e;
  }
  if (head[0] === 0x80 && head[1] === 0x02) {
    return new SerializationError(`${file}: legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with torch.save in PyTorch >= 1.6`);
  }
  return e;
}
