// Training curves from metrics.jsonl, read leniently: a corrupt line becomes a warning shown on
// the page (the rest still plots), a torn last line (training mid-write) is skipped silently.
import * as fs from 'fs';
import * as path from 'path';
import { RunSource, UserError } from './sources';

export interface RunCurves {
  path: string;
  name: string;
  /** metric key -> [step, value][] in file order (eval keys appear once per evaluation). */
  series: Record<string, [number, number][]>;
  warnings: string[];
}

export function readCurves(run: RunSource): RunCurves {
  if (!run.hasMetrics) throw new UserError(`${run.path} has no metrics.jsonl`);
  const file = path.join(run.path, 'metrics.jsonl');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const lines = text.split('\n');
  if (!text.endsWith('\n')) lines.pop();
  const series: Record<string, [number, number][]> = {};
  const warnings: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      warnings.push(`${file}: line ${i + 1} is not valid JSON (${JSON.stringify(line.slice(0, 40))}); skipped`);
      return;
    }
    const rec = obj as Record<string, unknown>;
    if (typeof obj !== 'object' || obj === null || typeof rec.step !== 'number') {
      warnings.push(`${file}: line ${i + 1} has no numeric "step"; skipped`);
      return;
    }
    for (const [k, v] of Object.entries(rec)) {
      if (k === 'step' || typeof v !== 'number' || !Number.isFinite(v)) continue;
      (series[k] ??= []).push([rec.step, v]);
    }
  });
  return { path: run.path, name: path.relative(path.resolve(run.path, '../..'), run.path) || path.basename(run.path), series, warnings };
}
