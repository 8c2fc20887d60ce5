// The post-norm transformer block every architecture stacks, and the reasoning module (a level):
// add the input injection, then run the blocks.
import * as torch from '../../torch';
import { Attention } from '../../nn/attention';
import { SwiGLU } from '../../nn/mlp';
import { Module, ModuleList } from '../../nn/module';
import { addRmsNorm } from '../../nn/norm';
import type { CosSin } from '../../nn/rotary';
import { ReasoningModelConfig, puzzleEmbLen } from './config';

type Tensor = torch.Tensor;

export class ReasoningBlock extends Module {
  readonly mlp_t: SwiGLU | null = null;
  readonly self_attn: Attention | null = null;
  readonly mlp: SwiGLU;
  readonly norm_eps: number;

  constructor(config: ReasoningModelConfig) {
    super();
    if (config.mlp_t) {
      // Mixes positions: a SwiGLU whose "hidden size" is the sequence length L.
      this.mlp_t = this.registerModule('mlp_t', new SwiGLU(config.seq_len + puzzleEmbLen(config), config.expansion));
    } else {
      // Floor division, as the official code: transformers_baseline runs 12 heads of 42 on hidden 512.
      const head_dim = Math.floor(config.hidden_size / config.num_heads);
      this.self_attn = this.registerModule('self_attn', new Attention(config.hidden_size, head_dim, config.num_heads, config.num_heads, false));
    }
    this.mlp = this.registerModule('mlp', new SwiGLU(config.hidden_size, config.expansion));
    this.norm_eps = config.rms_norm_eps;
  }

  /** hidden_states [B, L, D] → [B, L, D]; x = norm(x + mix(x)); x = norm(x + mlp(x)). */
  forward(cos_sin: CosSin | null, hidden_states: Tensor): Tensor {
    return torch.tidy(() => {
      let h: Tensor;
      if (this.mlp_t) {
        const t = hidden_states.transpose(1, 2); // [B, D, L]
        h = addRmsNorm(t, this.mlp_t.forward(t), this.norm_eps).transpose(1, 2); // [B, L, D]
      } else {
        h = addRmsNorm(hidden_states, this.self_attn!.forward(cos_sin, hidden_states), this.norm_eps);
      }
      return addRmsNorm(h, this.mlp.forward(h), this.norm_eps);
    });
  }
}

export class ReasoningModule extends Module {
  readonly layers: ModuleList<ReasoningBlock>;

  constructor(layers: ReasoningBlock[]) {
    super();
    this.layers = this.registerModule('layers', new ModuleList(layers));
  }

  /** (hidden_states + input_injection) through every layer; [B, L, D] → [B, L, D]. A new tensor. */
  forward(hidden_states: Tensor, input_injection: Tensor | null, cos_sin: CosSin | null): Tensor {
    return torch.tidy(() => {
      let h = input_injection ? hidden_states.add(input_injection) : hidden_states.view(hidden_states.shape);
      for (const layer of this.layers) h = layer.forward(cos_sin, h);
      return h;
    });
  }
}

/** `count` blocks built from the config. */
export function makeLevel(config: ReasoningModelConfig, count: number): ReasoningModule {
  return new ReasoningModule(Array.from({ length: count }, () => new ReasoningBlock(config)));
}
