// TRM ablation with six low-level latents, recursive_reasoning.trm_hier6@TinyRecursiveReasoningModel_ACTV1:
// L cycle i rewrites z_L(i+1) = L(z_L1 + … + z_L6, z_H + x); then z_H = L(z_H, z_L1 + … + z_L6).
import * as torch from '../../torch';
import type { CosSin } from '../../nn/rotary';
import { ACTModel } from './act';
import { parseConfig } from './config';
import { InnerCarry, Latents } from './inner';
import { TinyRecursiveReasoningModel_ACTV1_Inner as TRMInner, TRM_FIELDS } from './trm';

type Tensor = torch.Tensor;

export const HIER_LEVELS = 6;
const Z_L = Array.from({ length: HIER_LEVELS }, (_, i) => `z_L${i + 1}`);

export class TinyRecursiveReasoningModel_ACTV1_Inner extends TRMInner {
  protected override registerLatents(): void {
    if (this.config.L_cycles > HIER_LEVELS) {
      throw new TypeError(`trm_hier6 has ${HIER_LEVELS} low-level latents, so L_cycles must be <= ${HIER_LEVELS} but received ${this.config.L_cycles}`);
    }
    this.registerLatent('z_H', 'H_init');
    Z_L.forEach((z, i) => this.registerLatent(z, `L${i + 1}_init`));
  }

  /** z_L1 + … + z_L6, summed left to right. */
  private sumL(z: InnerCarry): Tensor {
    return Z_L.slice(1).reduce((acc, name) => acc.add(z[name]), z[Z_L[0]]);
  }

  protected override latentRecursion(z: InnerCarry, x: Tensor, cos_sin: CosSin | null, latents: Latents): void {
    for (let i = 0; i < this.config.L_cycles; i++) {
      z[Z_L[i]] = latents.replace(z[Z_L[i]], this.runLevel(this.L_level, cos_sin, () => [this.sumL(z), z.z_H.add(x)]));
    }
    z.z_H = latents.replace(z.z_H, this.runLevel(this.L_level, cos_sin, () => [z.z_H, this.sumL(z)]));
  }
}

export class TinyRecursiveReasoningModel_ACTV1 extends ACTModel {
  static readonly FIELDS = TRM_FIELDS;

  constructor(config_dict: Record<string, unknown>) {
    const config = parseConfig(TRM_FIELDS, config_dict, 'recursive_reasoning.trm_hier6@TinyRecursiveReasoningModel_ACTV1');
    super(config, new TinyRecursiveReasoningModel_ACTV1_Inner(config));
  }
}
