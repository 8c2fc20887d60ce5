// Rotary position embedding (RoPE) in the "rotate half" layout: the frequencies are repeated
// twice along the head dimension, equivalent to the paper's interleaved pairs up to a permutation.
import * as torch from '../torch';
import { checkPositive } from './linear';
import { Module } from './module';

type Tensor = torch.Tensor;
export type CosSin = [cos: Tensor, sin: Tensor];

export class RotaryEmbedding extends Module {
  readonly cos_cached: Tensor;
  readonly sin_cached: Tensor;

  /** Tables [max_position_embeddings, dim] in float32, not saved in the state dict. */
  constructor(readonly dim: number, readonly max_position_embeddings: number, readonly base: number) {
    super();
    checkPositive({ dim, max_position_embeddings });
    if (dim % 2 !== 0) throw new TypeError(`Expected an even rotary dim but received ${dim}`);
    const [cos, sin] = torch.tidy(() => {
      const exponents = torch.arange(0, dim, 2, { dtype: 'float32' }).div(dim);
      const invFreq = torch.full([dim / 2], base).pow(exponents).reciprocal(); // [dim/2]
      const t = torch.arange(0, max_position_embeddings, 1, { dtype: 'float32' });
      const freqs = t.unsqueeze(1).mul(invFreq.unsqueeze(0)); // [P, dim/2]
      const emb = torch.cat([freqs, freqs], -1); // [P, dim]
      return [emb.cos(), emb.sin()];
    });
    this.cos_cached = this.registerBuffer('cos_cached', cos, { persistent: false });
    this.sin_cached = this.registerBuffer('sin_cached', sin, { persistent: false });
  }

  /** The module's own tables (do not dispose them). */
  forward(): CosSin {
    return [this.cos_cached, this.sin_cached];
  }

  override extraRepr(): string {
    return `dim=${this.dim}, max_position_embeddings=${this.max_position_embeddings}, base=${this.base}`;
  }
}

/** [..., D] → [..., D]: (x1, x2) ↦ (−x2, x1) on the two halves of the last dim. */
export function rotateHalf(x: Tensor): Tensor {
  return torch.tidy(() => {
    const [x1, x2] = x.chunk(2, -1);
    return torch.cat([x2.neg(), x1], -1);
  });
}

/**
 * q, k: [B, S, heads, head_dim]; cos, sin: [S, head_dim]. Rotated in the tables' dtype (float32)
 * and cast back to the inputs' dtype.
 */
export function applyRotaryPosEmb(q: Tensor, k: Tensor, cos: Tensor, sin: Tensor): [Tensor, Tensor] {
  return torch.tidy(() => {
    const c = cos.unsqueeze(-2); // [S, 1, D]
    const s = sin.unsqueeze(-2);
    const rotate = (x: Tensor) => {
      const xf = x.to(cos.dtype);
      return xf.mul(c).add(rotateHalf(xf).mul(s)).to(x.dtype);
    };
    return [rotate(q), rotate(k)];
  });
}
export { applyRotaryPosEmb as apply_rotary_pos_emb };
