// The machine's measured matmul peak per dtype: over a few large products (square, and the
// model's own token-by-hidden shapes), the best of each shape's median rate, with this process's
// thread settings (the median: a sustained rate, not one lucky sample on a shared machine).
import * as torch from '../torch';
import type { BenchDtype } from './configs';

const SHAPES: Array<[number, number, number]> = [
  [2048, 2048, 2048],
  [8192, 256, 1024],
  [8192, 1024, 256],
];

export function matmulPeakGflops(dtype: BenchDtype, repeats = 5): number {
  let best = 0;
  for (const [m, k, n] of SHAPES) {
    torch.tidy(() => {
      const a = torch.randn([m, k]).to(dtype);
      const b = torch.randn([k, n]).to(dtype);
      a.matmul(b).dispose(); // warm-up (oneDNN builds its kernel on first use)
      const rates: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const t0 = process.hrtime.bigint();
        a.matmul(b).dispose();
        rates.push((2 * m * k * n) / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e9);
      }
      best = Math.max(best, rates.sort((x, y) => x - y)[Math.floor(repeats / 2)]);
    });
  }
  return best;
}
