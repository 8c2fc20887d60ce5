// What each exportable architecture adds to the shared inference script (inference_source.ts):
// its latents and their init buffers, its reasoning modules, and the TorchScript of one ACT step's
// recursion. Written as the model files in lib/models/recursive_reasoning recurse, with the same
// order of additions (so the same sums); in inference the no-grad / grad split does not matter.
import type { FieldTable, ReasoningModelConfig } from '../models/recursive_reasoning/config';
import type { ReasoningInner } from '../models/recursive_reasoning/inner';
import { HierarchicalReasoningModel_ACTV1, HierarchicalReasoningModel_ACTV1_Inner } from '../models/recursive_reasoning/hrm';
import { Model_ACTV2, Model_ACTV2_Inner } from '../models/recursive_reasoning/transformers_baseline';
import * as trm from '../models/recursive_reasoning/trm';
import * as trm_hier6 from '../models/recursive_reasoning/trm_hier6';
import * as trm_singlez from '../models/recursive_reasoning/trm_singlez';

export interface Recursion {
  /** The inner module class the architecture builds; export refuses any other (a re-registered model may recurse differently). */
  inner: abstract new (...args: never[]) => ReasoningInner;
  /** The architecture's config keys (defaults included). */
  fields: FieldTable;
  /** Latent name → the buffer it starts from, in carry order. */
  latents: [string, string][];
  /** Reasoning modules of the inner model; each becomes a method `name(h)` that runs its blocks. */
  levels: string[];
  /** One ACT step: TorchScript lines updating the latents from the input embedding `x` [B, L, D]. */
  step(c: ReasoningModelConfig): string[];
  /** The latent the lm and q heads read. */
  output: string;
  /** Halting by the Q head in evaluation (else every row runs every step). */
  adaptive?(c: ReasoningModelConfig): boolean;
}

/** TRM's recursion, H_cycles times: L_cycles × z_L = L(z_L + (z_H + x)), then z_H = L(z_H + z_L). HRM's with H_level for z_H. */
const twoLevel = (H: string) => (c: ReasoningModelConfig) => [
  `for _h in range(${c.H_cycles}):`,
  `    for _l in range(${c.L_cycles}):`,
  '        z_L = self.L_level(z_L + (z_H + x))',
  `    z_H = self.${H}(z_H + z_L)`,
];

const Z_L = Array.from({ length: trm_hier6.HIER_LEVELS }, (_, i) => `z_L${i + 1}`);
/** z_L1 + … + z_L6, left to right as trm_hier6.ts sums. */
const SUM_L = Z_L.join(' + ');

export const RECURSIONS: Record<string, Recursion> = {
  'recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1': {
    inner: trm.TinyRecursiveReasoningModel_ACTV1_Inner,
    fields: trm.TRM_FIELDS,
    latents: [['z_H', 'H_init'], ['z_L', 'L_init']],
    levels: ['L_level'],
    step: twoLevel('L_level'),
    output: 'z_H',
  },
  'recursive_reasoning.trm_singlez@TinyRecursiveReasoningModel_ACTV1': {
    inner: trm_singlez.TinyRecursiveReasoningModel_ACTV1_Inner,
    fields: trm.TRM_FIELDS,
    latents: [['z_L', 'L_init']],
    levels: ['L_level'],
    step: (c) => [
      `for _h in range(${c.H_cycles}):`,
      `    for _l in range(${c.L_cycles}):`,
      '        z_L = self.L_level(z_L + x)',
      '    z_L = self.L_level(z_L)',
    ],
    output: 'z_L',
  },
  'recursive_reasoning.trm_hier6@TinyRecursiveReasoningModel_ACTV1': {
    inner: trm_hier6.TinyRecursiveReasoningModel_ACTV1_Inner,
    fields: trm.TRM_FIELDS,
    latents: [['z_H', 'H_init'], ...Z_L.map((z, i): [string, string] => [z, `L${i + 1}_init`])],
    levels: ['L_level'],
    // L cycle i rewrites z_L(i+1); unrolled, as TorchScript has no list of latents to index.
    step: (c) => [
      `for _h in range(${c.H_cycles}):`,
      ...Z_L.slice(0, c.L_cycles).map((z) => `    ${z} = self.L_level(${SUM_L} + (z_H + x))`),
      `    z_H = self.L_level(z_H + (${SUM_L}))`,
    ],
    output: 'z_H',
  },
  'recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1': {
    inner: HierarchicalReasoningModel_ACTV1_Inner,
    fields: HierarchicalReasoningModel_ACTV1.FIELDS,
    latents: [['z_H', 'H_init'], ['z_L', 'L_init']],
    levels: ['H_level', 'L_level'],
    step: twoLevel('H_level'),
    output: 'z_H',
  },
  'recursive_reasoning.transformers_baseline@Model_ACTV2': {
    inner: Model_ACTV2_Inner,
    fields: Model_ACTV2.FIELDS,
    latents: [['z_H', 'H_init']],
    levels: ['H_level'],
    step: () => ['z_H = self.H_level(z_H + x)'],
    output: 'z_H',
    adaptive: (c) => c.act_inference,
  },
};
