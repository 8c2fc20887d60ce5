// Multi-head self-attention with a fused qkv projection and optional RoPE; non-causal by default
// (every puzzle cell sees every other).
import * as torch from '../torch';
import { CastedLinear, checkPositive } from './linear';
import { Module } from './module';
import { applyRotaryPosEmb, CosSin } from './rotary';

type Tensor = torch.Tensor;

export class Attention extends Module {
  readonly qkv_proj: CastedLinear;
  readonly o_proj: CastedLinear;
  readonly output_size: number;

  constructor(
    readonly hidden_size: number,
    readonly head_dim: number,
    readonly num_heads: number,
    readonly num_key_value_heads: number,
    readonly causal = false,
  ) {
    super();
    checkPositive({ hidden_size, head_dim, num_heads, num_key_value_heads });
    if (num_heads % num_key_value_heads !== 0) {
      throw new TypeError(`Expected num_heads (${num_heads}) to be a multiple of num_key_value_heads (${num_key_value_heads})`);
    }
    this.output_size = head_dim * num_heads;
    this.qkv_proj = this.registerModule('qkv_proj', new CastedLinear(hidden_size, (num_heads + 2 * num_key_value_heads) * head_dim, false));
    this.o_proj = this.registerModule('o_proj', new CastedLinear(this.output_size, hidden_size, false));
  }

  /** hidden_states [B, S, hidden] → [B, S, hidden]. Scores and softmax run in at least float32. */
  forward(cos_sin: CosSin | null, hidden_states: Tensor): Tensor {
    return torch.tidy(() => {
      const [B, S] = hidden_states.shape;
      const H = this.num_heads;
      const KV = this.num_key_value_heads;
      const qkv = this.qkv_proj.forward(hidden_states).view(B, S, H + 2 * KV, this.head_dim); // [B, S, H+2KV, D]
      const dtype = hidden_states.dtype;
      if (torch.fusedKernels(qkv) && !this.causal) {
        const merged = torch.fusedAttention(qkv, H, KV, cos_sin, 1 / Math.sqrt(this.head_dim), dtype); // [B, S, H, D]
        return this.o_proj.forward(merged.view(B, S, this.output_size));
      }
      let q = qkv.narrow(2, 0, H); // [B, S, H, D]
      let k = qkv.narrow(2, H, KV); // [B, S, KV, D]
      const v = qkv.narrow(2, H + KV, KV); // [B, S, KV, D]
      if (cos_sin) [q, k] = applyRotaryPosEmb(q, k, cos_sin[0], cos_sin[1]);
      const compute = dtype === 'float64' ? 'float64' : 'float32';
      const [query, key, value] = [q, k, v].map((t) => t.transpose(1, 2).to(compute)); // [B, n, S, D]
      const expand = (x: Tensor) => (x.size(1) === H ? x : x.unsqueeze(2).expand(B, KV, H / KV, S, this.head_dim).reshape(B, H, S, this.head_dim)); // GQA: [B, H, S, D]
      const out = torch.scaledDotProductAttention(query, expand(key), expand(value), { isCausal: this.causal }); // [B, H, S, D]
      const merged = out.to(dtype).transpose(1, 2).reshape(B, S, this.output_size);
      return this.o_proj.forward(merged);
    });
  }

  override extraRepr(): string {
    return `hidden_size=${this.hidden_size}, num_heads=${this.num_heads}, head_dim=${this.head_dim}, causal=${this.causal ? 'True' : 'False'}`;
  }
}
