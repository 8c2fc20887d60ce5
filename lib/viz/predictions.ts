// Saved evaluation outputs (`step_N_all_preds.<rank>`, a torch.save dict of inputs, labels,
// preds, q_halt_logits, ...) read with the pure-TS loader: each row's input, prediction and
// label, right or wrong, its halting confidence sigmoid(q_halt) and its steps when saved.
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { load, TensorRecord, isTensorRecord, itemSize } from '../torch/serialization';
import { readMetadata } from '../data/metadata';
import { cached, readIdentifiers } from './dataset';
import { RunSource, Source, UserError } from './sources';
import { Task, compareRow, detectTask } from './tasks';

/** A tensor's elements as float64 in row-major order (any dtype, strides and storage offset). */
export function tensorValues(t: TensorRecord, name: string): Float64Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const size = itemSize(t.dtype);
  const strides = t.strides ?? t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Float64Array(n);
  const index = new Array<number>(t.shape.length).fill(0);
  for (let k = 0; k < n; k++) {
    let e = t.storageOffset ?? 0;
    for (let d = 0; d < index.length; d++) e += index[d] * strides[d];
    const at = e * size;
    if (at + size > t.data.byteLength) throw new UserError(`tensor '${name}' reaches past its storage (truncated file?)`);
    switch (t.dtype) {
      case 'float32': out[k] = view.getFloat32(at, true); break;
      case 'float64': out[k] = view.getFloat64(at, true); break;
      case 'int64': out[k] = Number(view.getBigInt64(at, true)); break;
      case 'int32': out[k] = view.getInt32(at, true); break;
      case 'int16': out[k] = view.getInt16(at, true); break;
      case 'int8': out[k] = view.getInt8(at); break;
      case 'uint8': case 'bool': out[k] = view.getUint8(at); break;
      default: throw new UserError(`tensor '${name}' has dtype ${t.dtype}, which the viewer does not read`);
    }
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < t.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

interface LoadedPreds {
  task: Task;
  seqLen: number;
  inputs: Float64Array;
  labels: Float64Array;
  preds: Float64Array;
  q?: Float64Array;
  steps?: Float64Array;
  ids?: Float64Array;
  names: string[] | null;
  /** Rows that are real examples (padding rows of the last batch dropped). */
  rows: number[];
  correct: boolean[];
  wrongTokens: number[];
}

/** The dataset a run trained on, from its all_config.yaml or the folders being served. */
export function runDataset(run: RunSource, sources: Source[]): string | null {
  const cfgFile = path.join(run.path, 'all_config.yaml');
  let paths: string[] = [];
  try {
    const cfg = parseYaml(fs.readFileSync(cfgFile, 'utf8')) as { data_paths?: string[]; data_paths_test?: string[] };
    paths = [...(cfg.data_paths_test ?? []), ...(cfg.data_paths ?? [])].filter((p) => typeof p === 'string');
  } catch {
    // no or unreadable config: fall back to the served folders
  }
  const datasets = sources.filter((s) => s.kind === 'dataset').map((s) => s.path);
  for (const p of paths) {
    // Runs live in <cwd>/checkpoints/<project>/<run>; data_paths are relative to that cwd.
    const candidates = path.isAbsolute(p) ? [p] : [path.resolve(run.path, '../../..', p), path.resolve(p), ...datasets.filter((d) => path.basename(d) === path.basename(p))];
    const hit = candidates.find((c) => fs.existsSync(path.join(c, 'identifiers.json')));
    if (hit) return hit;
  }
  return null;
}

function loadPreds(file: string, datasetDir: string | null): LoadedPreds {
  let obj: unknown;
  try {
    obj = load(file);
  } catch (e) {
    throw new UserError(`cannot read ${path.basename(file)}: ${(e as Error).message}`);
  }
  if (!(obj instanceof Map)) throw new UserError(`${path.basename(file)} does not hold a dict of tensors`);
  const get = (k: string, required: boolean): TensorRecord | undefined => {
    const t = obj.get(k);
    if (t === undefined && required) throw new UserError(`${path.basename(file)} has no '${k}' (it has ${[...obj.keys()].join(', ')}); save it with eval_save_outputs=[inputs,labels,preds,q_halt_logits]`);
    if (t !== undefined && !isTensorRecord(t)) throw new UserError(`'${k}' in ${path.basename(file)} is not a tensor`);
    return t as TensorRecord | undefined;
  };
  const [ti, tl, tp] = [get('inputs', true)!, get('labels', true)!, get('preds', true)!];
  if (ti.shape.length !== 2 || tl.shape.join() !== ti.shape.join() || tp.shape.join() !== ti.shape.join()) {
    throw new UserError(`inputs, labels and preds must share one [N, seq_len] shape, got (${ti.shape}), (${tl.shape}), (${tp.shape})`);
  }
  const [N, L] = ti.shape;
  const vec = (k: string) => {
    const t = get(k, false);
    if (!t) return undefined;
    if (t.shape[0] !== N) throw new UserError(`'${k}' has ${t.shape[0]} rows but inputs has ${N}`);
    return tensorValues(t, k);
  };
  const inputs = tensorValues(ti, 'inputs');
  const labels = tensorValues(tl, 'labels');
  const preds = tensorValues(tp, 'preds');
  const ids = vec('puzzle_identifiers');
  let vocab: number | null = null;
  let blank = 0;
  if (datasetDir) {
    try {
      const meta = readMetadata(path.join(datasetDir, 'test', 'dataset.json'));
      vocab = meta.vocab_size;
      blank = meta.blank_identifier_id;
    } catch {
      // use the heuristic
    }
  }
  const rows: number[] = [];
  for (let r = 0; r < N; r++) {
    let pad = true;
    for (let i = 0; i < L && pad; i++) if (inputs[r * L + i] !== 0) pad = false;
    if (!pad && !(ids && ids[r] === blank)) rows.push(r);
  }
  const task = detectTask(L, vocab, labels.subarray(rows.length ? rows[0] * L : 0, (rows.length ? rows[0] : 0) * L + L));
  const correct: boolean[] = [];
  const wrongTokens: number[] = [];
  for (const r of rows) {
    let w = 0;
    for (let i = 0; i < L; i++) if (labels[r * L + i] > 0 && preds[r * L + i] !== labels[r * L + i]) w++;
    correct.push(w === 0);
    wrongTokens.push(w);
  }
  return {
    task, seqLen: L, inputs, labels, preds, q: vec('q_halt_logits'), steps: vec('steps'), ids,
    names: datasetDir && ids ? readIdentifiers(datasetDir) : null, rows, correct, wrongTokens,
  };
}

export type Filter = 'all' | 'right' | 'wrong';

export function getPredictions(run: RunSource, sources: Source[], file: string, filter: Filter, offset: number, limit: number) {
  if (!run.predFiles.includes(file)) throw new UserError(`${run.path} has no predictions file '${file}'`, 404);
  const full = path.join(run.path, file);
  const datasetDir = runDataset(run, sources);
  const p = cached(`preds:${full}`, [full], () => loadPreds(full, datasetDir));
  const picked = p.rows.map((r, k) => k).filter((k) => filter === 'all' || p.correct[k] === (filter === 'right'));
  const right = p.correct.filter(Boolean).length;
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  return {
    task: p.task, file, dataset: datasetDir,
    counts: { all: p.rows.length, right, wrong: p.rows.length - right }, matched: picked.length, offset,
    hasQ: p.q !== undefined, hasSteps: p.steps !== undefined,
    rows: picked.slice(offset, offset + limit).map((k) => {
      const r = p.rows[k];
      const cmp = compareRow(p.task, p.inputs, p.preds, p.labels, r, p.seqLen);
      return {
        row: r,
        name: p.ids ? (p.names?.[p.ids[r]] ?? `#${p.ids[r]}`) : null,
        ...cmp,
        confidence: p.q ? sigmoid(p.q[r]) : null,
        steps: p.steps ? p.steps[r] : null,
      };
    }),
  };
}
