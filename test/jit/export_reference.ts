// What the export tests compare against: small checkpoints with random weights, and our eval
// forward on them. Also a script, `node export_reference.js <checkpoint> <io.pt>`, that adds our
// eval forward's `logits` (float32) and `q` for io.pt's `inputs` and `puzzle_identifiers` to the
// file: run with TRM_GEMM=blas, its float32 GEMMs are the system BLAS's, as Python's torch's are
// (our default, oneDNN, rounds differently, and the recursions grow a 1e-7 difference past 1e-5).
// The forward runs the composed ops, not the fused kernels: the export writes the composed ops, so
// they are the same computation (test/torch/fused.test.ts checks the kernels against them).
import * as fs from 'fs';
import * as path from 'path';
import { torch, Tensor } from '../../lib';
import { composeConfigYaml, parseConfigYaml } from '../../lib/config';
import * as jit from '../../lib/jit';
import { createModel } from '../../lib/models/registry';
import type { ACTModel } from '../../lib/models/recursive_reasoning/act';
import { Module } from '../../lib/nn/module';
import { saveModelCheckpoint } from '../../lib/train/checkpoint';
import { modelConfig } from '../../lib/train/train_state';

export const META = { vocab_size: 11, seq_len: 9, num_puzzle_identifiers: 5 };
const COMMON = ['arch.hidden_size=16', 'arch.num_heads=2', 'arch.expansion=2', 'arch.halt_max_steps=3', '++arch.forward_dtype=float32', 'global_batch_size=4'];

class Holder extends Module {
  constructor(model: ACTModel) {
    super();
    this.registerModule('model', model);
  }
}

/** A checkpoint folder as a run leaves it: step_1 and all_config.yaml (weights randomised, heads included). */
export function makeRun(dir: string, overrides: string[]): string {
  fs.mkdirSync(dir, { recursive: true });
  const yaml = composeConfigYaml({ overrides: [...COMMON, ...overrides, `data_paths=[${path.join(dir, 'data')}]`], resolve: true });
  fs.writeFileSync(path.join(dir, 'all_config.yaml'), yaml);
  const config = parseConfigYaml(yaml);
  torch.manualSeed(3);
  const model = createModel(config.arch.name, modelConfig(config, META as never, 1));
  torch.noGrad(() =>
    torch.tidy(() => {
      model.inner.q_head.weight.copy_(torch.randn(model.inner.q_head.weight.shape).mul(0.1));
      if (model.inner.puzzle_emb) model.inner.puzzle_emb.weights.copy_(torch.randn(model.inner.puzzle_emb.weights.shape));
    })
  );
  return saveModelCheckpoint(new Holder(model), dir, 1);
}

export interface Outputs {
  logits: Tensor;
  q_halt_logits: Tensor;
  /** ACT steps each row ran (the step it first halted at). */
  steps: number[];
}

/**
 * Our model's eval: the ACT loop from a fresh carry up to halt_max_steps steps, each row's outputs
 * from the step it first halts at (the last step, unless the model halts adaptively in eval).
 */
export function evalForward(model: ACTModel, inputs: Tensor, puzzle_identifiers: Tensor): Outputs {
  const fused = torch.fusedKernels();
  torch.setFusedKernels(false);
  try {
    return composedEvalForward(model, inputs, puzzle_identifiers);
  } finally {
    torch.setFusedKernels(fused);
  }
}

function composedEvalForward(model: ACTModel, inputs: Tensor, puzzle_identifiers: Tensor): Outputs {
  return torch.noGrad(() =>
    torch.tidy(() => {
      const batch = { inputs, puzzle_identifiers };
      let carry = model.initialCarry(batch);
      let out: { logits: Tensor; q_halt_logits: Tensor; done: Tensor; steps: Tensor } | null = null;
      for (let i = 0; i < model.config.halt_max_steps && !(out && out.done.all().item()); i++) {
        const step = model.forward(carry, batch);
        carry = step.carry;
        const { logits, q_halt_logits } = step.outputs;
        out = out
          ? {
              logits: torch.where(out.done.view(-1, 1, 1), out.logits, logits),
              q_halt_logits: torch.where(out.done, out.q_halt_logits, q_halt_logits),
              steps: torch.where(out.done, out.steps, carry.steps),
              done: out.done.logicalOr(carry.halted),
            }
          : { logits, q_halt_logits, steps: carry.steps, done: carry.halted };
      }
      return { logits: out!.logits, q_halt_logits: out!.q_halt_logits, steps: out!.steps.toArray() as number[] };
    })
  );
}

if (require.main === module) {
  const [checkpoint, io] = process.argv.slice(2);
  const { model } = jit.loadTrainedModel(checkpoint, { metadata: META });
  const d = torch.load(io) as Map<string, Tensor>;
  const ours = evalForward(model, d.get('inputs')!, d.get('puzzle_identifiers')!);
  d.set('logits', ours.logits.to('float32'));
  d.set('q', ours.q_halt_logits);
  torch.save(d, io);
}
