// TRM, recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1 (Jolicoeur-Martineau, 2025).
// One tiny network, L_level, refines the latent z_L from (z_H, x) L_cycles times, then the
// answer z_H from z_L; H_cycles − 1 such recursions run without gradient, the last with it.
import * as torch from '../../torch';
import type { CosSin } from '../../nn/rotary';
import { ACTModel } from './act';
import { makeLevel, ReasoningModule } from './blocks';
import { COMMON_FIELDS, CYCLES_FIELDS, FieldTable, ReasoningModelConfig, parseConfig } from './config';
import { InnerCarry, Latents, ReasoningInner } from './inner';

type Tensor = torch.Tensor;

export const TRM_FIELDS: FieldTable = {
  ...COMMON_FIELDS,
  ...CYCLES_FIELDS,
  H_layers: { kind: 'int', min: 0, default: 0 }, // ignored: TRM has one network
  puzzle_emb_len: { kind: 'int', min: 0, default: 16 },
  no_ACT_continue: { kind: 'bool', default: true },
};

export class TinyRecursiveReasoningModel_ACTV1_Inner extends ReasoningInner {
  readonly L_level: ReasoningModule;

  constructor(config: ReasoningModelConfig) {
    super(config);
    this.L_level = this.registerModule('L_level', makeLevel(config, config.L_layers));
    this.registerLatents();
  }

  /** The init buffers, registered after the modules as in the official code (H_init, L_init). */
  protected registerLatents(): void {
    this.registerLatent('z_H', 'H_init');
    this.registerLatent('z_L', 'L_init');
  }

  /** One recursion: L_cycles × z_L = L(z_L, z_H + x), then z_H = L(z_H, z_L). */
  protected latentRecursion(z: InnerCarry, x: Tensor, cos_sin: CosSin | null, latents: Latents): void {
    for (let i = 0; i < this.config.L_cycles; i++) {
      z.z_L = latents.replace(z.z_L, this.runLevel(this.L_level, cos_sin, () => [z.z_L, z.z_H.add(x)]));
    }
    z.z_H = latents.replace(z.z_H, this.runLevel(this.L_level, cos_sin, () => [z.z_H, z.z_L]));
  }

  /** The latent the heads read. */
  protected outputLatent(z: InnerCarry): Tensor {
    return z.z_H;
  }

  protected recurse(carry: InnerCarry, x: Tensor, cos_sin: CosSin | null): { latents: InnerCarry; output: Tensor } {
    const z: InnerCarry = { ...carry };
    const latents = new Latents();
    torch.noGrad(() => {
      for (let h = 0; h < this.config.H_cycles - 1; h++) this.latentRecursion(z, x, cos_sin, latents);
    });
    this.latentRecursion(z, x, cos_sin, latents);
    return { latents: z, output: this.outputLatent(z) };
  }
}

export class TinyRecursiveReasoningModel_ACTV1 extends ACTModel {
  static readonly FIELDS = TRM_FIELDS;

  constructor(config_dict: Record<string, unknown>) {
    const config = parseConfig(TRM_FIELDS, config_dict, 'recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1');
    super(config, new TinyRecursiveReasoningModel_ACTV1_Inner(config));
  }
}
