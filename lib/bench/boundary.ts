// The per-call cost of crossing into LibTorch: a 1-element add from TypeScript, against the same
// measured in Python PyTorch in the same run (the target: no more than Python's).
import * as torch from '../torch';
import { runPython } from './python';

export interface BoundaryResult {
  tsMicros: number;
  tsTidyMicros: number;
  pythonMicros: number | null;
  pythonError?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeTs(iterations: number, rounds: number, body: () => void): number {
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) body();
    samples.push(Number(process.hrtime.bigint() - t0) / iterations / 1000);
  }
  return median(samples);
}

export function measureBoundary(iterations = 200_000, rounds = 5): BoundaryResult {
  const threads = torch.getNumThreads();
  torch.setNumThreads(1);
  const a = torch.ones([1]);
  const b = torch.ones([1]);
  try {
    const batch = 100;
    const tidyBatch = () => torch.tidy(() => {
      for (let i = 0; i < batch; i++) a.add(b);
    });
    // both paths warmed first (V8 optimizes a closure only after it has run a while)
    timeTs(20_000, 1, () => a.add(b).dispose());
    timeTs(20_000 / batch, 1, tidyBatch);
    const tsMicros = timeTs(iterations, rounds, () => a.add(b).dispose());
    const tsTidyMicros = timeTs(iterations / batch, rounds, tidyBatch) / batch;
    const py = runPython(`
import time, torch
torch.set_num_threads(1)
a = torch.ones(1); b = torch.ones(1)
for _ in range(20000): torch.add(a, b)
samples = []
for _ in range(${rounds}):
    t = time.perf_counter()
    for _ in range(${iterations}): torch.add(a, b)
    samples.append((time.perf_counter() - t) / ${iterations} * 1e6)
samples.sort()
print(samples[len(samples) // 2])
`);
    return { tsMicros, tsTidyMicros, pythonMicros: py.out === null ? null : Number(py.out.trim()), pythonError: py.error };
  } finally {
    a.dispose();
    b.dispose();
    torch.setNumThreads(threads);
  }
}
