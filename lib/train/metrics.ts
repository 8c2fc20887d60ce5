// Reducing the loss head's metric sums the way the official loop does: sorted keys (every rank
// stacks them in the same order), one summed vector, then losses divided by the global batch size
// and the rest by the count of counted sequences.
import * as torch from '../torch';

type Tensor = torch.Tensor;

/** Stacks metric scalars in sorted-key order into one float32 vector [K]. */
export function stackMetrics(metrics: Record<string, Tensor | undefined>): { keys: string[]; values: Tensor } {
  const keys = Object.keys(metrics).filter((k) => metrics[k] !== undefined).sort();
  const values = torch.tidy(() => torch.stack(keys.map((k) => metrics[k]!.to('float32'))));
  return { keys, values };
}

/** The official post-processing of summed train metrics, as `train/<name>`. */
export function trainMetrics(keys: string[], sums: ArrayLike<number>, globalBatchSize: number): Record<string, number> {
  const countAt = keys.indexOf('count');
  const count = Math.max(countAt >= 0 ? sums[countAt] : 1, 1);
  const out: Record<string, number> = {};
  keys.forEach((k, i) => (out[`train/${k}`] = sums[i] / (k.endsWith('loss') ? globalBatchSize : count)));
  return out;
}

/** Eval metrics per set: every sum divided by that set's count (count itself dropped). */
export function evalMetrics(keys: string[], sumsPerSet: Map<string, number[]>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const countAt = keys.indexOf('count');
  for (const [set, sums] of sumsPerSet) {
    const count = sums[countAt];
    out[set] = {};
    keys.forEach((k, i) => {
      if (i !== countAt) out[set][k] = sums[i] / count;
    });
  }
  return out;
}
