// Our side of the side-by-side benchmark: the training step the trainer runs (ACT forward, loss,
// backward, sign-SGD on the puzzle embedding, AdamATan2) and the evaluation step (one ACT step,
// no gradient), on one random batch like the reference's `bench`, timed step by step.
import * as torch from '../torch';
import { createLossHead, createModel, type ACTCarry } from '../models';
import { createOptimizers, stepOptimizers } from '../optim/build';
import { archConfig, MODEL_NAMES, type BenchConfig } from './configs';

type Tensor = torch.Tensor;

export interface StepTimes {
  /** Seconds per timed training step. */
  train: number[];
  /** Seconds per timed evaluation step. */
  eval: number[];
}

/** The reference's OptimConfig(lr_warmup_steps=0): constant rates. */
const OPTIM = {
  lr: 1e-4, puzzle_emb_lr: 1e-2, weight_decay: 0.1, puzzle_emb_weight_decay: 0.1, beta1: 0.9, beta2: 0.95,
  lr_warmup_steps: 0, lr_min_ratio: 1.0,
};

export function randomBatch(c: BenchConfig): Record<string, Tensor> {
  return torch.keep(torch.tidy(() => ({
    inputs: torch.randint(0, c.vocab, [c.batch, c.seq], { dtype: 'int32' }),
    labels: torch.randint(1, c.vocab, [c.batch, c.seq], { dtype: 'int32' }),
    puzzle_identifiers: torch.zeros([c.batch], { dtype: 'int32' }),
  })));
}

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

/** Builds the model and optimizers for `c`, then times `warmup + steps` training steps and as
 *  many evaluation steps; `nextBatch` (default: one fixed random batch) feeds the training steps. */
export async function measureSteps(
  c: BenchConfig,
  o: { warmup: number; steps: number; evaluate?: boolean; nextBatch?: () => Promise<Record<string, Tensor>> },
): Promise<StepTimes> {
  torch.manualSeed(0);
  const inner = createModel(MODEL_NAMES[c.arch], archConfig(c));
  const head = createLossHead('losses@ACTLossHead', inner, { loss_type: 'stablemax_cross_entropy' });
  const emb = inner.puzzle_emb;
  const optim = createOptimizers(OPTIM, {
    parameters: head.parameters(),
    puzzleEmb: emb ? [emb.weights, emb.local_weights, emb.local_ids] : null,
  });
  const fixed = randomBatch(c);
  const nextBatch = o.nextBatch ?? (async () => fixed);
  const times: StepTimes = { train: [], eval: [] };
  let carry: ACTCarry | null = null;
  try {
    head.train();
    for (let i = 0; i < o.warmup + o.steps; i++) {
      const batch = await nextBatch();
      const t0 = process.hrtime.bigint();
      torch.tidy(() => {
        carry ??= torch.keep(head.initialCarry(batch));
        const out = head.forward(carry, batch, { return_keys: [] });
        torch.dispose(carry);
        carry = torch.keep(out.carry);
        out.loss.mul(1 / c.batch).backward();
        stepOptimizers(optim, OPTIM, i + 1, o.warmup + o.steps);
        (out.metrics as unknown as Record<string, Tensor>).count.item(); // the trainer reads metrics each step
      });
      if (i >= o.warmup) times.train.push(seconds(t0));
      if (batch !== fixed) torch.dispose(batch);
    }
    torch.dispose(carry);
    carry = null;

    head.eval();
    torch.noGrad(() => {
      for (let i = 0; o.evaluate !== false && i < o.warmup + o.steps; i++) {
        const t0 = process.hrtime.bigint();
        torch.tidy(() => {
          carry ??= torch.keep(head.initialCarry(fixed));
          const out = head.forward(carry, fixed, { return_keys: ['logits'] });
          torch.dispose(carry);
          carry = torch.keep(out.carry);
          (out.metrics as unknown as Record<string, Tensor>).count.item();
        });
        if (i >= o.warmup) times.eval.push(seconds(t0));
      }
    });
  } finally {
    torch.dispose(carry);
    torch.dispose(fixed);
  }
  return times;
}
