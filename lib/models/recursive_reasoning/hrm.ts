// HRM, recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1 (Wang et al., 2025): separate
// H_level and L_level networks. H_cycles × (L_cycles × z_L = L(z_L, z_H + x); z_H = H(z_H, z_L)),
// all but the final L and H updates without gradient (the one-step gradient approximation).
// Halts when q_halt > q_continue and always learns the continue target in training.
import * as torch from '../../torch';
import type { CosSin } from '../../nn/rotary';
import { ACTModel } from './act';
import { makeLevel, ReasoningModule } from './blocks';
import { COMMON_FIELDS, CYCLES_FIELDS, FieldTable, ReasoningModelConfig, parseConfig } from './config';
import { InnerCarry, Latents, ReasoningInner } from './inner';

type Tensor = torch.Tensor;

export const HRM_FIELDS: FieldTable = { ...COMMON_FIELDS, ...CYCLES_FIELDS, H_layers: { kind: 'int', min: 1 } };

export class HierarchicalReasoningModel_ACTV1_Inner extends ReasoningInner {
  readonly H_level: ReasoningModule;
  readonly L_level: ReasoningModule;

  constructor(config: ReasoningModelConfig) {
    super(config);
    this.H_level = this.registerModule('H_level', makeLevel(config, config.H_layers));
    this.L_level = this.registerModule('L_level', makeLevel(config, config.L_layers));
    this.registerLatent('z_H', 'H_init');
    this.registerLatent('z_L', 'L_init');
  }

  protected recurse(carry: InnerCarry, x: Tensor, cos_sin: CosSin | null): { latents: InnerCarry; output: Tensor } {
    const { H_cycles, L_cycles } = this.config;
    const latents = new Latents();
    let { z_H, z_L } = carry;
    const updateL = () => (z_L = latents.replace(z_L, this.runLevel(this.L_level, cos_sin, () => [z_L, z_H.add(x)])));
    const updateH = () => (z_H = latents.replace(z_H, this.runLevel(this.H_level, cos_sin, () => [z_H, z_L])));
    torch.noGrad(() => {
      for (let h = 0; h < H_cycles; h++) {
        for (let l = 0; l < L_cycles; l++) if (!(h === H_cycles - 1 && l === L_cycles - 1)) updateL();
        if (h !== H_cycles - 1) updateH();
      }
    });
    // One-step gradient: only the final L and H updates are differentiated.
    updateL();
    updateH();
    return { latents: { z_H, z_L }, output: z_H };
  }
}

export class HierarchicalReasoningModel_ACTV1 extends ACTModel {
  static readonly FIELDS = HRM_FIELDS;

  constructor(config_dict: Record<string, unknown>) {
    const config = parseConfig(HRM_FIELDS, config_dict, 'recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1');
    super(config, new HierarchicalReasoningModel_ACTV1_Inner(config));
  }
}
