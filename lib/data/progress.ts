// Throttled progress lines on stderr for long builds (at most one line per interval).

export interface Progress {
  tick(done: number): void;
  done(): void;
}

export function progress(label: string, total: number, options: { intervalMs?: number; stream?: NodeJS.WritableStream; enabled?: boolean } = {}): Progress {
  const interval = options.intervalMs ?? 1000;
  const stream = options.stream ?? process.stderr;
  const enabled = options.enabled ?? true;
  const start = Date.now();
  let last = 0;
  let current = 0;
  const print = () => {
    const secs = (Date.now() - start) / 1000;
    const pct = total > 0 ? ((100 * current) / total).toFixed(1) : "?";
    stream.write(`${label}: ${current}/${total} (${pct}%) ${secs.toFixed(1)}s\n`);
  };
  return {
    tick(done: number) {
      current = done;
      if (!enabled) return;
      const now = Date.now();
      if (now - last >= interval) {
        last = now;
        print();
      }
    },
    done() {
      if (enabled) print();
    },
  };
}
