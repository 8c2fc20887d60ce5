// metrics.jsonl beside the checkpoints: one JSON object per line, `step` first, then the metric
// keys as logged (`train/lm_loss`, `train/lr`, `<eval set>/exact_accuracy`, `ARC/pass@2`, ...).
// Append-only and written line by line, so a crash loses at most the line being written.
import * as fs from 'fs';
import * as path from 'path';

export type MetricValue = number | string | boolean | null;

export class MetricsLog {
  private fd: number | undefined;

  /** Opens (creating folders) `file` for appending; existing lines are kept, as on resume. */
  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.fd = fs.openSync(file, 'a');
  }

  /** Append `{"step": step, ...metrics}`. Non-finite numbers (NaN, ±Infinity) are written as null. */
  append(step: number, metrics: Record<string, MetricValue>): void {
    if (this.fd === undefined) throw new Error(`MetricsLog: append() after close() (${this.file})`);
    if (!Number.isSafeInteger(step)) throw new TypeError(`Expected integer step but received ${step}`);
    const line = Buffer.from(JSON.stringify({ step, ...metrics }) + '\n');
    let done = 0;
    while (done < line.length) done += fs.writeSync(this.fd, line, done);
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Read a metrics.jsonl back, ignoring a torn last line left by a crash mid-write. */
export function readMetrics(file: string): Array<Record<string, MetricValue>> {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (!text.endsWith('\n')) lines.pop(); // incomplete final line
  return lines.filter((l) => l.length > 0).map((l, i) => {
    try {
      return JSON.parse(l) as Record<string, MetricValue>;
    } catch {
      throw new Error(`${file}: line ${i + 1} is not valid JSON`);
    }
  });
}
