// Token losses and the ACT loss head: lm_loss (each sequence's token loss averaged over its
// labelled tokens, summed over the batch) + 0.5 · (q_halt BCE + q_continue BCE), plus the
// official metrics, counted on the sequences that halted this step.
import * as torch from '../torch';
import { Module } from '../nn/module';
import type { ACTCarry, ACTForwardOptions, ACTModel, ACTOutputs } from './recursive_reasoning/act';
import type { Batch } from './recursive_reasoning/inner';

type Tensor = torch.Tensor;

export const IGNORE_LABEL_ID = -100;

/**
 * s(x) = x + 1 for x ≥ 0, 1 / (1 − x + ε) for x < 0: a softmax replacement that never overflows.
 * (1 − x) + ε in that order, as the official code: folding 1 + ε first rounds ε away, and at a
 * logit of exactly 1 (common in bfloat16) the unused branch's 1/0 turned the gradient into NaN.
 */
function s(x: Tensor, epsilon = 1e-30): Tensor {
  return torch.tidy(() => torch.where(x.lt(0), x.neg().add(1).add(epsilon).reciprocal(), x.add(1)));
}

/** log(s(x) / Σ s(x)) along `dim`. */
export function logStablemax(x: Tensor, dim = -1): Tensor {
  return torch.tidy(() => {
    const s_x = s(x);
    return s_x.div(s_x.sum(dim, { keepdim: true })).log();
  });
}

/**
 * Per-token −log stablemax(logits)[label], computed in float64; 0 where the label is
 * ignore_index (or valid_mask is false). logits [..., V], labels [...] → [...] float64.
 */
export function stablemaxCrossEntropy(logits: Tensor, labels: Tensor, ignore_index = IGNORE_LABEL_ID, valid_mask?: Tensor): Tensor {
  return torch.tidy(() => {
    const logprobs = logStablemax(logits.to('float64'), -1);
    const mask = valid_mask ?? labels.ne(ignore_index);
    const safe = torch.where(mask, labels, 0).to('int64').unsqueeze(-1); // [..., 1]
    const picked = logprobs.gather(-1, safe).squeeze(-1);
    return torch.where(mask, picked, 0).neg();
  });
}

/** Per-token softmax cross-entropy in float32; 0 where the label is ignore_index (or valid_mask is false). */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, ignore_index = IGNORE_LABEL_ID, valid_mask?: Tensor): Tensor {
  return torch.tidy(() => {
    const V = logits.size(-1);
    const target = valid_mask ? torch.where(valid_mask, labels, ignore_index) : labels;
    const flat = torch.crossEntropy(logits.to('float32').reshape(-1, V), target.to('int64').reshape(-1), { ignoreIndex: ignore_index, reduction: 'none' }); // [N]
    return flat.view(labels.shape);
  });
}
export { stablemaxCrossEntropy as stablemax_cross_entropy, softmaxCrossEntropy as softmax_cross_entropy };

export type LossType = 'stablemax_cross_entropy' | 'softmax_cross_entropy';
export const LOSS_FUNCTIONS: Record<LossType, typeof stablemaxCrossEntropy> = {
  stablemax_cross_entropy: stablemaxCrossEntropy,
  softmax_cross_entropy: softmaxCrossEntropy,
};

export interface ACTLossMetrics {
  /** Halted sequences with at least one label (the ones the other metrics count). */
  count: Tensor;
  accuracy: Tensor;
  exact_accuracy: Tensor;
  q_halt_accuracy: Tensor;
  steps: Tensor;
  lm_loss: Tensor;
  q_halt_loss: Tensor;
  q_continue_loss?: Tensor;
}

export interface ACTLossOptions extends ACTForwardOptions {
  /** Outputs to return, detached: any of logits, q_halt_logits, q_continue_logits, target_q_continue, preds. */
  return_keys?: readonly string[];
}

export interface ACTLossResult {
  carry: ACTCarry;
  /** Scalar with the step's graph: lm_loss + 0.5·(q_halt_loss + q_continue_loss), summed over the batch. */
  loss: Tensor;
  /** Sums over the batch (divide by count on the reducing side), detached. */
  metrics: ACTLossMetrics;
  outputs: Partial<Record<keyof ACTOutputs | 'preds', Tensor>>;
  /** Scalar bool: every sequence halted. */
  all_halted: Tensor;
}

export class ACTLossHead extends Module {
  readonly model: ACTModel;
  readonly loss_fn: typeof stablemaxCrossEntropy;

  constructor(model: ACTModel, readonly loss_type: LossType) {
    super();
    const fn = LOSS_FUNCTIONS[loss_type];
    if (!fn) throw new TypeError(`Expected loss_type to be one of ${Object.keys(LOSS_FUNCTIONS).join(', ')} but received ${JSON.stringify(loss_type)}`);
    this.loss_fn = fn;
    this.model = this.registerModule('model', model);
  }

  initialCarry(batch: Batch): ACTCarry {
    return this.model.initialCarry(batch);
  }

  /**
   * One ACT step plus its loss. Like the model's forward it never frees its inputs; every
   * returned tensor is new and owned by the caller (dispose the old carry after the step).
   */
  forward(carry: ACTCarry, batch: Batch, options: ACTLossOptions = {}): ACTLossResult {
    return torch.tidy(() => {
      const { carry: new_carry, outputs } = this.model.forward(carry, batch, options);
      const labels = new_carry.current_data.labels;
      if (labels === undefined) throw new TypeError("ACTLossHead: the batch needs 'labels'");
      const all: Partial<Record<string, Tensor>> = { ...outputs };

      const m = torch.noGrad(() => {
        const preds = outputs.logits.argmax(-1); // [B, seq_len]
        all.preds = preds;
        const mask = labels.ne(IGNORE_LABEL_ID);
        const loss_counts = mask.sum(-1); // [B]
        const loss_divisor = loss_counts.clamp(1).unsqueeze(-1); // [B, 1]
        const is_correct = mask.logicalAnd(preds.eq(labels));
        const seq_is_correct = is_correct.sum(-1).eq(loss_counts);
        const valid = new_carry.halted.logicalAnd(loss_counts.gt(0));
        return {
          mask,
          loss_divisor,
          seq_is_correct,
          metrics: {
            count: valid.sum(),
            accuracy: torch.where(valid, is_correct.to('float32').div(loss_divisor).sum(-1), 0).sum(),
            exact_accuracy: valid.logicalAnd(seq_is_correct).sum(),
            q_halt_accuracy: valid.logicalAnd(outputs.q_halt_logits.ge(0).eq(seq_is_correct)).sum(),
            steps: torch.where(valid, new_carry.steps, 0).sum(),
          },
        };
      });

      const lm_loss = this.loss_fn(outputs.logits, labels, IGNORE_LABEL_ID, m.mask).div(m.loss_divisor).sum();
      const q_halt_loss = torch.binaryCrossEntropyWithLogits(outputs.q_halt_logits, m.seq_is_correct.to(outputs.q_halt_logits.dtype), { reduction: 'sum' });
      const metrics: ACTLossMetrics = { ...m.metrics, lm_loss: lm_loss.detach(), q_halt_loss: q_halt_loss.detach() };
      let q_sum = q_halt_loss;
      if (outputs.target_q_continue) {
        const q_continue_loss = torch.binaryCrossEntropyWithLogits(outputs.q_continue_logits, outputs.target_q_continue, { reduction: 'sum' });
        metrics.q_continue_loss = q_continue_loss.detach();
        q_sum = q_halt_loss.add(q_continue_loss);
      }
      const loss = lm_loss.add(q_sum.mul(0.5));

      const returned: ACTLossResult['outputs'] = {};
      for (const k of options.return_keys ?? []) {
        const t = all[k];
        if (t !== undefined) returned[k as keyof ACTLossResult['outputs']] = t.detach();
      }
      return { carry: new_carry, loss, metrics, outputs: returned, all_halted: new_carry.halted.all() };
    });
  }
}
