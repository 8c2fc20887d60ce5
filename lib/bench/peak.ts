// The machine's measured matmul peak per dtype: the best GFLOP/s of a few large products (square,
// and the model's own token-by-hidden shapes), with this process's thread settings.
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
      for (let i = 0; i < repeats; i++) {
        const t0 = process.hrtime.bigint();
        a.matmul(b).dispose();
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        best = Math.max(best, (2 * m * k * n) / s / 1e9);
      }
    });
  }
  return best;
}
