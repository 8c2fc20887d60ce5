// TRM ablation with a single latent, recursive_reasoning.trm_singlez@TinyRecursiveReasoningModel_ACTV1:
// no z_H; L_cycles × z_L = L(z_L + x), then z_L = L(z_L); the heads read z_L.
import * as torch from '../../torch';
import type { CosSin } from '../../nn/rotary';
import { ACTModel } from './act';
import { parseConfig, ReasoningModelConfig } from './config';
import { InnerCarry, Latents } from './inner';
import { TinyRecursiveReasoningModel_ACTV1_Inner as TRMInner, TRM_FIELDS } from './trm';

type Tensor = torch.Tensor;

export class TinyRecursiveReasoningModel_ACTV1_Inner extends TRMInner {
  protected override registerLatents(): void {
    this.registerLatent('z_L', 'L_init');
  }

  protected override latentRecursion(z: InnerCarry, x: Tensor, cos_sin: CosSin | null, latents: Latents): void {
    for (let i = 0; i < this.config.L_cycles; i++) {
      z.z_L = latents.replace(z.z_L, this.runLevel(this.L_level, cos_sin, () => [z.z_L.add(x), null]));
    }
    z.z_L = latents.replace(z.z_L, this.runLevel(this.L_level, cos_sin, () => [z.z_L, null]));
  }

  protected override outputLatent(z: InnerCarry): Tensor {
    return z.z_L;
  }
}

export class TinyRecursiveReasoningModel_ACTV1 extends ACTModel {
  static readonly FIELDS = TRM_FIELDS;

  constructor(config_dict: Record<string, unknown>) {
    const config: ReasoningModelConfig = parseConfig(TRM_FIELDS, config_dict, 'recursive_reasoning.trm_singlez@TinyRecursiveReasoningModel_ACTV1');
    super(config, new TinyRecursiveReasoningModel_ACTV1_Inner(config));
  }
}
