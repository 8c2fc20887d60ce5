// A dataset folder as the page sees it: splits and sets, a page of puzzles, one puzzle's
// examples decoded. Index arrays are read whole and cached by mtime; inputs/labels rows are read
// on demand from the file (ARC folders with 1000 augments are gigabytes).
import * as fs from 'fs';
import * as path from 'path';
import { PuzzleDatasetMetadata, readMetadata } from '../data/metadata';
import { NpyHeader, itemSize, numel, readNpy, readNpyHeader } from '../data/npy';
import { DatasetError } from '../data/errors';
import { DatasetSource, UserError } from './sources';
import { Task, VizGrid, decodeRow, detectTask } from './tasks';

interface SetIndex {
  metadata: PuzzleDatasetMetadata;
  task: Task;
  puzzleIndices: Int32Array;
  groupIndices: Int32Array;
  puzzleIdentifiers: Int32Array;
  inputs: { file: string; header: NpyHeader };
  labels: { file: string; header: NpyHeader };
}

const cache = new Map<string, { key: string; value: unknown }>();

/** Memoizes `load` on the files' sizes and mtimes, so a rebuilt folder is read again. */
export function cached<T>(id: string, files: string[], load: () => T): T {
  const key = files.map((f) => {
    try {
      const s = fs.statSync(f);
      return `${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }).join('|');
  const hit = cache.get(id);
  if (hit && hit.key === key) return hit.value as T;
  const value = load();
  cache.set(id, { key, value });
  return value;
}

const setFile = (dir: string, set: string, field: string) => path.join(dir, `${set}__${field}.npy`);

function int32Of(file: string): Int32Array {
  const a = readNpy(file);
  if (a.shape.length !== 1) throw new DatasetError(`expected a 1-D index array but received shape (${a.shape.join(', ')})`, { file });
  return a.data instanceof Int32Array ? a.data : Int32Array.from(a.data as ArrayLike<number>, Number);
}

function checkedHeader(file: string, seqLen: number): NpyHeader {
  const header = readNpyHeader(file);
  if (header.shape.length !== 2 || header.shape[1] !== seqLen) {
    throw new DatasetError(`expected shape (examples, ${seqLen}) but received (${header.shape.join(', ')})`, { file });
  }
  const need = header.dataOffset + numel(header.shape) * itemSize(header.dtype);
  const size = fs.statSync(file).size;
  if (size < need) throw new DatasetError(`truncated .npy data: ${size} bytes, expected ${need} for shape (${header.shape.join(', ')})`, { file });
  return header;
}

/** Rows [start, start + count) of a 2-D .npy as numbers, read straight from the file. */
export function readRows(src: { file: string; header: NpyHeader }, start: number, count: number): number[] {
  const { header, file } = src;
  const width = header.shape[1];
  const size = itemSize(header.dtype);
  const bytes = Buffer.alloc(count * width * size);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, bytes, 0, bytes.length, header.dataOffset + start * width * size);
  } finally {
    fs.closeSync(fd);
  }
  const out = new Array<number>(count * width);
  for (let i = 0; i < out.length; i++) {
    switch (header.dtype) {
      case 'uint8': case 'bool': out[i] = bytes[i]; break;
      case 'int8': out[i] = bytes.readInt8(i); break;
      case 'int16': out[i] = bytes.readInt16LE(i * 2); break;
      case 'int32': out[i] = bytes.readInt32LE(i * 4); break;
      case 'int64': out[i] = Number(bytes.readBigInt64LE(i * 8)); break;
      case 'float32': out[i] = bytes.readFloatLE(i * 4); break;
      case 'float64': out[i] = bytes.readDoubleLE(i * 8); break;
    }
  }
  return out;
}

export function openSet(ds: DatasetSource, split: string, set: string): SetIndex {
  if (!ds.splits.includes(split)) throw new UserError(`${ds.path} has no split '${split}' (it has ${ds.splits.join(', ')})`);
  const dir = path.join(ds.path, split);
  const metaFile = path.join(dir, 'dataset.json');
  const metadata = readMetadata(metaFile);
  if (!metadata.sets.includes(set)) throw new UserError(`${dir} has no set '${set}' (it has ${metadata.sets.join(', ')})`);
  const files = ['inputs', 'labels', 'puzzle_indices', 'group_indices', 'puzzle_identifiers'].map((f) => setFile(dir, set, f));
  return cached(`set:${dir}:${set}`, [metaFile, ...files], () => {
    const inputs = { file: files[0], header: checkedHeader(files[0], metadata.seq_len) };
    const labels = { file: files[1], header: checkedHeader(files[1], metadata.seq_len) };
    const puzzleIndices = int32Of(files[2]);
    const groupIndices = int32Of(files[3]);
    const puzzleIdentifiers = int32Of(files[4]);
    if (puzzleIndices.length !== puzzleIdentifiers.length + 1) {
      throw new DatasetError(`puzzle_indices has ${puzzleIndices.length} entries but there are ${puzzleIdentifiers.length} puzzles (expected one more)`, { file: files[2] });
    }
    const examples = inputs.header.shape[0];
    if (puzzleIndices[puzzleIndices.length - 1] !== examples) {
      throw new DatasetError(`puzzle_indices ends at ${puzzleIndices[puzzleIndices.length - 1]} but inputs has ${examples} rows`, { file: files[2] });
    }
    const sample = examples > 0 ? readRows(labels, 0, 1) : undefined;
    const task = detectTask(metadata.seq_len, metadata.vocab_size, sample);
    return { metadata, task, puzzleIndices, groupIndices, puzzleIdentifiers, inputs, labels };
  });
}

export function readIdentifiers(dir: string): string[] | null {
  const file = path.join(dir, 'identifiers.json');
  if (!fs.existsSync(file)) return null;
  return cached(`ids:${file}`, [file], () => {
    let v: unknown;
    try {
      v = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new DatasetError(`identifiers.json is not valid JSON: ${(e as Error).message}`, { file });
    }
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new DatasetError('identifiers.json must be a list of names', { file });
    return v as string[];
  });
}

/** Split, sets and metadata of every split of a dataset, for the page's selectors. */
export function describeDataset(ds: DatasetSource) {
  return {
    path: ds.path,
    splits: ds.splits.map((split) => {
      try {
        const metadata = readMetadata(path.join(ds.path, split, 'dataset.json'));
        return { split, sets: metadata.sets, metadata };
      } catch (e) {
        return { split, sets: [] as string[], error: (e as Error).message };
      }
    }),
  };
}

function groupOf(idx: SetIndex, puzzle: number): number {
  let lo = 0, hi = idx.groupIndices.length - 2; // group g holds puzzles [gi[g], gi[g+1])
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (idx.groupIndices[mid] <= puzzle) lo = mid; else hi = mid - 1;
  }
  return lo;
}

const nameOf = (ids: string[] | null, id: number) => ids?.[id] ?? `#${id}`;

export function listPuzzles(ds: DatasetSource, split: string, set: string, offset: number, limit: number, query: string) {
  const idx = openSet(ds, split, set);
  const ids = readIdentifiers(ds.path);
  const total = idx.puzzleIdentifiers.length;
  let indices: number[];
  if (query) {
    const q = query.toLowerCase();
    indices = [];
    for (let i = 0; i < total; i++) if (nameOf(ids, idx.puzzleIdentifiers[i]).toLowerCase().includes(q)) indices.push(i);
  } else {
    indices = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, k) => offset + k);
  }
  const matched = indices.length;
  if (query) indices = indices.slice(offset, offset + limit);
  return {
    task: idx.task, total, matched, offset,
    puzzles: indices.map((i) => ({
      index: i,
      name: nameOf(ids, idx.puzzleIdentifiers[i]),
      examples: idx.puzzleIndices[i + 1] - idx.puzzleIndices[i],
      group: groupOf(idx, i),
    })),
  };
}

const MAX_EXAMPLES = 64;

/** One puzzle by index or by name (exact, else the first whose name starts with it). */
export function getPuzzle(ds: DatasetSource, split: string, set: string, index: number | null, name: string | null) {
  const idx = openSet(ds, split, set);
  const ids = readIdentifiers(ds.path);
  const total = idx.puzzleIdentifiers.length;
  let i = index ?? -1;
  if (name) {
    const names = Array.from(idx.puzzleIdentifiers, (id) => nameOf(ids, id));
    i = names.indexOf(name);
    if (i < 0) i = names.findIndex((n) => n.startsWith(name));
    if (i < 0) throw new UserError(`no puzzle named '${name}' in ${split}/${set}`, 404);
  }
  if (!Number.isInteger(i) || i < 0 || i >= total) throw new UserError(`puzzle index ${index} is out of range: ${split}/${set} has ${total} puzzles (0..${total - 1})`, 404);
  const L = idx.metadata.seq_len;
  const start = idx.puzzleIndices[i];
  const count = Math.min(idx.puzzleIndices[i + 1] - start, MAX_EXAMPLES);
  const inputs = readRows(idx.inputs, start, count);
  const labels = readRows(idx.labels, start, count);
  const examples: { input: VizGrid; label: VizGrid }[] = [];
  for (let k = 0; k < count; k++) {
    examples.push({ input: decodeRow(idx.task, inputs, k * L, L), label: decodeRow(idx.task, labels, k * L, L) });
  }
  const g = groupOf(idx, i);
  const group = [];
  for (let p = idx.groupIndices[g]; p < idx.groupIndices[g + 1] && group.length < 200; p++) group.push({ index: p, name: nameOf(ids, idx.puzzleIdentifiers[p]) });
  return {
    task: idx.task, index: i, total, name: nameOf(ids, idx.puzzleIdentifiers[i]),
    totalExamples: idx.puzzleIndices[i + 1] - start, examples, group: { index: g, puzzles: group },
  };
}
