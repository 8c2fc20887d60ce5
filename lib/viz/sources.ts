// What the folders given to `trm viz` hold: dataset folders (<split>/dataset.json) and run
// folders (metrics.jsonl, step_N_all_preds.<rank>, evaluator_*/submission.json), found up to
// a few levels down. Rescanned on every request, so files a running training writes appear.
import * as fs from 'fs';
import * as path from 'path';

export interface DatasetSource {
  kind: 'dataset';
  path: string;
  /** Split folders holding a dataset.json (train, test, ...). */
  splits: string[];
}

export interface RunSource {
  kind: 'run';
  path: string;
  hasMetrics: boolean;
  /** `step_N_all_preds.<rank>` files, by step then rank. */
  predFiles: string[];
  /** submission.json files, relative to the run folder, by step. */
  submissions: string[];
}

export interface SourceError {
  kind: 'error';
  path: string;
  error: string;
}

export type Source = DatasetSource | RunSource | SourceError;

const MAX_DEPTH = 3;
const PREDS_RE = /^step_(\d+)_all_preds\.(\d+)$/;

function listDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

const stepOf = (name: string): number => Number(/step_(\d+)/.exec(name)?.[1] ?? -1);

/** The dataset or run this folder is itself, or null. */
export function classify(dir: string): DatasetSource | RunSource | null {
  const entries = listDir(dir);
  const splits = entries.filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, 'dataset.json'))).map((e) => e.name).sort();
  if (splits.length > 0) return { kind: 'dataset', path: dir, splits };
  const names = new Set(entries.map((e) => e.name));
  const predFiles = entries.filter((e) => e.isFile() && PREDS_RE.test(e.name)).map((e) => e.name)
    .sort((a, b) => stepOf(a) - stepOf(b) || a.localeCompare(b));
  const submissions: string[] = names.has('submission.json') ? ['submission.json'] : [];
  for (const e of entries) {
    if (e.isDirectory() && e.name.startsWith('evaluator_') && fs.existsSync(path.join(dir, e.name, 'submission.json'))) {
      submissions.push(`${e.name}/submission.json`);
    }
  }
  submissions.sort((a, b) => stepOf(a) - stepOf(b) || a.localeCompare(b));
  const hasMetrics = names.has('metrics.jsonl');
  if (hasMetrics || predFiles.length > 0 || submissions.length > 0) return { kind: 'run', path: dir, hasMetrics, predFiles, submissions };
  return null;
}

function walk(dir: string, depth: number, out: (DatasetSource | RunSource)[]): void {
  const here = classify(dir);
  if (here) {
    out.push(here);
    return; // neither a dataset nor a run holds another (evaluator_* folders belong to their run)
  }
  if (depth >= MAX_DEPTH) return;
  for (const e of listDir(dir)) {
    if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') walk(path.join(dir, e.name), depth + 1, out);
  }
}

/** Every dataset and run under the given folders; a folder holding neither becomes an error entry. */
export function discover(dirs: readonly string[]): Source[] {
  const out: Source[] = [];
  const seen = new Set<string>();
  for (const d of dirs) {
    const dir = path.resolve(d);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(dir);
    } catch {
      out.push({ kind: 'error', path: dir, error: `${dir} does not exist` });
      continue;
    }
    if (!stat.isDirectory()) {
      out.push({ kind: 'error', path: dir, error: `${dir} is not a folder` });
      continue;
    }
    const found: (DatasetSource | RunSource)[] = [];
    walk(dir, 0, found);
    if (found.length === 0) {
      out.push({
        kind: 'error', path: dir,
        error: `${dir} is not a dataset folder (no <split>/dataset.json) nor a run folder (no metrics.jsonl, step_N_all_preds.*, submission.json), and none is inside it`,
      });
    }
    for (const s of found) {
      if (seen.has(s.path)) continue;
      seen.add(s.path);
      out.push(s);
    }
  }
  return out;
}

/** The discovered source at `p`, of the given kind; throws a message for the page otherwise. */
export function findSource<K extends 'dataset' | 'run'>(sources: Source[], p: string | null, kind: K): Extract<Source, { kind: K }> {
  if (!p) throw new UserError(`missing the ${kind} folder (?dir=)`);
  const s = sources.find((x) => x.path === p);
  if (!s) throw new UserError(`${p} is not one of the folders being served`, 404);
  if (s.kind === 'error') throw new UserError(s.error);
  if (s.kind !== kind) throw new UserError(`${p} is a ${s.kind} folder, not a ${kind} folder`);
  return s as Extract<Source, { kind: K }>;
}

/** An error caused by the request or the files, shown on the page as is. */
export class UserError extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
    this.name = 'UserError';
  }
}
