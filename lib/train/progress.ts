// Training progress for rank 0: on a terminal one bar redrawn in place; in a log file or CI one
// plain line every `intervalMs`. Stream and clock are injected so both modes are testable.

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  total: number;
  /** Default: process.stderr. */
  stream?: ProgressStream;
  /** Milliseconds; default Date.now. */
  clock?: () => number;
  /** Plain (non-TTY) mode: at most one line per this many ms. Default 5000. */
  intervalMs?: number;
  /** TTY mode: at most one redraw per this many ms. Default 100. */
  redrawMs?: number;
  /** Step the run starts from (resume), so steps/s counts only steps done here. Default 0. */
  startStep?: number;
  label?: string;
}

export interface ProgressStats {
  loss?: number;
  /** Fraction in [0, 1]. */
  exactAccuracy?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (x: number) => String(x).padStart(2, '0');
  if (h > 0) return `${h}h${pad(m)}m${pad(sec)}s`;
  if (m > 0) return `${m}m${pad(sec)}s`;
  return `${sec}s`;
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly clock: () => number;
  private readonly tty: boolean;
  private readonly startMs: number;
  private readonly startStep: number;
  private lastDrawMs = -Infinity;
  private lastDrawnStep = -1;
  private barShown = false;
  private step = 0;
  private stats: ProgressStats = {};
  private finished = false;

  constructor(private readonly opts: ProgressOptions) {
    if (!Number.isSafeInteger(opts.total) || opts.total < 1) {
      throw new TypeError(`Expected positive integer for total but received ${opts.total}`);
    }
    this.stream = opts.stream ?? process.stderr;
    this.clock = opts.clock ?? Date.now;
    this.tty = this.stream.isTTY === true;
    this.startMs = this.clock();
    this.startStep = opts.startStep ?? 0;
    this.step = this.startStep;
  }

  /** Record progress; draws when the redraw/print interval has passed (always on the last step). */
  update(step: number, stats: ProgressStats = {}): void {
    if (this.finished) return;
    this.step = step;
    this.stats = { ...this.stats, ...stats };
    const now = this.clock();
    const every = this.tty ? this.opts.redrawMs ?? 100 : this.opts.intervalMs ?? 5000;
    if (now - this.lastDrawMs >= every || step >= this.opts.total) this.draw(now);
  }

  /** Draw the final state and end the line. */
  finish(): void {
    if (this.finished) return;
    // A plain line already printed for this step is not printed twice.
    if (this.tty || this.step !== this.lastDrawnStep) this.draw(this.clock());
    if (this.tty) this.stream.write('\n');
    this.barShown = false;
    this.finished = true;
  }

  /**
   * Clears a bar drawn on a TTY so that a message can be printed on a line of its own; the bar is
   * redrawn on the next update. Nothing to do when not a TTY (every line ends with a newline).
   */
  clearLine(): void {
    if (!this.tty || !this.barShown || this.finished) return;
    this.stream.write('\r\x1b[K');
    this.barShown = false;
    this.lastDrawMs = -Infinity;
  }

  /** The status text for the current state (no bar, no control characters). */
  status(now = this.clock()): string {
    const { total } = this.opts;
    const elapsed = (now - this.startMs) / 1000;
    const done = this.step - this.startStep;
    const rate = elapsed > 0 ? done / elapsed : NaN;
    const eta = rate > 0 ? (total - this.step) / rate : NaN;
    const parts = [`${this.step}/${total}`];
    if (this.stats.loss !== undefined) parts.push(`loss ${this.stats.loss.toFixed(4)}`);
    if (this.stats.exactAccuracy !== undefined) parts.push(`exact ${(100 * this.stats.exactAccuracy).toFixed(1)}%`);
    parts.push(`${Number.isFinite(rate) ? rate.toFixed(2) : '--'} steps/s`);
    parts.push(`ETA ${formatDuration(eta)}`);
    return parts.join(' | ');
  }

  private draw(now: number): void {
    this.lastDrawMs = now;
    this.lastDrawnStep = this.step;
    const label = this.opts.label ? `${this.opts.label} ` : '';
    const text = this.status(now);
    if (!this.tty) {
      this.stream.write(`${label}step ${text}\n`);
      return;
    }
    const cols = this.stream.columns ?? 80;
    const width = Math.max(10, Math.min(40, cols - label.length - text.length - 4));
    const filled = Math.round((width * Math.min(this.step, this.opts.total)) / this.opts.total);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    // \r returns to column 0, \x1b[K clears what a longer previous line left behind
    this.stream.write(`\r${label}[${bar}] ${text}\x1b[K`);
    this.barShown = true;
  }
}
