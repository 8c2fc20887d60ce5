// Initialisers. The official code (and flax) draws weights from a normal truncated at ±2σ whose
// scale is corrected so that the *truncated* law has the requested standard deviation.
import * as torch from '../torch';

type Tensor = torch.Tensor;

/** The scale to give a normal truncated at [lower, upper] (in σ units) so its std equals `std`. */
export function truncatedNormalScale(std: number, lower = -2, upper = 2): number {
  const pdf = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  const mass = (erf(upper / Math.SQRT2) - erf(lower / Math.SQRT2)) / 2;
  const variance = 1 - (upper * pdf(upper) - lower * pdf(lower)) / mass - ((pdf(lower) - pdf(upper)) / mass) ** 2;
  return std / Math.sqrt(variance);
}

/**
 * Fills `t` in place with the JAX-style truncated normal (trunc_normal_init_ in the official
 * code): inverse-CDF sampling of N(0, s²) restricted to [lower·s, upper·s], s from
 * truncatedNormalScale. std 0 gives zeros. Sampled in float32, then cast into `t`'s dtype.
 */
export function truncNormal_(t: Tensor, std = 1, lower = -2, upper = 2): Tensor {
  if (!(std >= 0)) throw new TypeError(`Expected a non-negative std but received ${std}`);
  torch.noGrad(() =>
    torch.tidy(() => {
      if (std === 0) {
        t.zero_();
        return;
      }
      const s = truncatedNormalScale(std, lower, upper);
      const u = torch.empty(t.shape, { dtype: 'float32', device: t.device });
      torch.call('aten::uniform_', u, erf(lower / Math.SQRT2), erf(upper / Math.SQRT2));
      torch.call('aten::erfinv_', u);
      u.mul_(Math.SQRT2 * s).clamp_(lower * s, upper * s);
      t.copy_(u);
    }),
  );
  return t;
}

/** A new float32 tensor of `shape` drawn from truncNormal_. */
export function truncNormal(shape: number[], std = 1, options: { dtype?: torch.DType } = {}): Tensor {
  return truncNormal_(torch.empty(shape, { dtype: options.dtype ?? 'float32' }), std);
}

// Abramowitz–Stegun is not precise enough for the bounds; use a series / continued fraction.
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  if (a < 3) {
    // Maclaurin series, converges quickly for |x| < 3 (double precision).
    let term = a;
    let sum = a;
    for (let n = 1; n < 200; n++) {
      term *= (-a * a) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (sign * 2 * sum) / Math.sqrt(Math.PI);
  }
  // erfc continued fraction (Lentz) for large |x|.
  let f = a;
  let c = a;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = a + an * d;
    d = 1 / d;
    c = a + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-a * a) / (f * Math.sqrt(Math.PI));
  return sign * (1 - erfc);
}
