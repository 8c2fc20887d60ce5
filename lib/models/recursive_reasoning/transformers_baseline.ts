// The plain-transformer ablation, recursive_reasoning.transformers_baseline@Model_ACTV2: one
// H_level of H_layers blocks applied once per ACT step, z_H = H(z_H, x); no inner cycles. ACT
// can be switched off in training (act_enabled) or on in evaluation (act_inference); the Q
// continue target is computed only when asked (forward option compute_target_q).
import * as torch from '../../torch';
import type { CosSin } from '../../nn/rotary';
import { ACTForwardOptions, ACTModel } from './act';
import { makeLevel, ReasoningModule } from './blocks';
import { COMMON_FIELDS, FieldTable, ReasoningModelConfig, parseConfig } from './config';
import { InnerCarry, ReasoningInner } from './inner';

type Tensor = torch.Tensor;

export const TRANSFORMERS_BASELINE_FIELDS: FieldTable = {
  ...COMMON_FIELDS,
  H_layers: { kind: 'int', min: 1 },
  H_cycles: { kind: 'int', min: 1, default: 1 }, // kept for compatibility, unused
  pos_encodings: { kind: 'enum', values: ['rope', 'learned'] },
  act_enabled: { kind: 'bool', default: true },
  act_inference: { kind: 'bool', default: false },
};

export class Model_ACTV2_Inner extends ReasoningInner {
  readonly H_level: ReasoningModule;

  constructor(config: ReasoningModelConfig) {
    super(config);
    this.H_level = this.registerModule('H_level', makeLevel(config, config.H_layers));
    this.registerLatent('z_H', 'H_init');
  }

  protected recurse(carry: InnerCarry, x: Tensor, cos_sin: CosSin | null): { latents: InnerCarry; output: Tensor } {
    const z_H = this.H_level.forward(carry.z_H, x, cos_sin);
    return { latents: { z_H }, output: z_H };
  }
}

export class Model_ACTV2 extends ACTModel {
  static readonly FIELDS = TRANSFORMERS_BASELINE_FIELDS;

  constructor(config_dict: Record<string, unknown>) {
    const config = parseConfig(TRANSFORMERS_BASELINE_FIELDS, config_dict, 'recursive_reasoning.transformers_baseline@Model_ACTV2');
    super(config, new Model_ACTV2_Inner(config));
  }

  protected override adaptive(halt_max_steps: number): boolean {
    const c = this.config;
    return halt_max_steps > 1 && ((this.training && c.act_enabled) || (!this.training && c.act_inference));
  }

  protected override wantsTargetQ(options: ACTForwardOptions): boolean {
    return options.compute_target_q ?? false;
  }
}
