// Matmul FLOPs of a training step and of an evaluation step, counted from the shapes (the
// elementwise work is not counted: "achieved GFLOP/s" is useful matmul work per second).
import { swigluIntermediateSize } from '../nn/mlp';
import type { BenchConfig } from './configs';

/** One pass of one level (all its layers) over the batch, forward only. */
export function levelFlops(c: BenchConfig): number {
  const P = c.seq + c.puzzleEmbLen;
  const T = c.batch * P;
  const h = c.hidden;
  const inter = swigluIntermediateSize(h, c.expansion);
  const mlp = 2 * T * h * 2 * inter + 2 * T * inter * h;
  let mix: number;
  if (c.mlpT) {
    const interT = swigluIntermediateSize(P, c.expansion);
    mix = 2 * c.batch * h * P * 2 * interT + 2 * c.batch * h * interT * P;
  } else {
    mix = 2 * T * h * 3 * h + 2 * 2 * c.batch * P * P * h + 2 * T * h * h;
  }
  return c.layers * (mix + mlp);
}

/** Level passes in one recursion: H_cycles × (L_cycles + 1), the last cycle's with gradient. */
function passes(c: BenchConfig): { all: number; withGrad: number } {
  const perCycle = c.L_cycles + 1;
  return { all: c.H_cycles * perCycle, withGrad: c.arch === 'hrm' ? 2 : perCycle };
}

function headFlops(c: BenchConfig): number {
  return 2 * c.batch * (c.seq + c.puzzleEmbLen) * c.hidden * c.vocab;
}

/** Forward of every pass, backward (2× forward) of the differentiated ones; HRM's extra no-grad
 *  forward for the continue target. */
export function trainStepFlops(c: BenchConfig): number {
  const { all, withGrad } = passes(c);
  const level = levelFlops(c);
  const forward = all * level + headFlops(c);
  const backward = 2 * (withGrad * level + headFlops(c));
  const target = c.arch === 'hrm' ? all * level : 0;
  return forward + backward + target;
}

/** One ACT step in evaluation (no gradient). */
export function evalStepFlops(c: BenchConfig): number {
  return passes(c).all * levelFlops(c) + headFlops(c);
}
