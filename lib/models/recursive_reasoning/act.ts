// The ACT (adaptive computation time) wrapper shared by every architecture: one forward is one
// ACT step for each sequence of the batch. Halted sequences restart from the init latents and
// take the new batch's example; the rest continue where they were.
//
// Lifetime: forward(carry, batch) never frees or aliases its inputs. The returned carry and
// outputs are new tensors the caller owns: after a step, dispose the previous carry
// (`torch.dispose(oldCarry)`) and the outputs when done with them. `logits` and the q logits
// hold the autograd graph of the step.
import * as torch from '../../torch';
import { newFull } from '../../nn/like';
import { Module } from '../../nn/module';
import type { CastedSparseEmbedding } from '../sparse_embedding';
import { ReasoningModelConfig } from './config';
import { Batch, InnerCarry, ReasoningInner } from './inner';

type Tensor = torch.Tensor;

export interface ACTCarry {
  inner_carry: InnerCarry;
  /** [B] int32: ACT steps taken by the current example. */
  steps: Tensor;
  /** [B] bool: the example is finished; the next step resets the row and takes a new example. */
  halted: Tensor;
  /** The example each row is working on, same keys and shapes as the batch. */
  current_data: Batch;
}

export interface ACTOutputs {
  logits: Tensor;
  q_halt_logits: Tensor;
  q_continue_logits: Tensor;
  /** Bootstrapped Q target (training, when the model learns a continue logit). */
  target_q_continue?: Tensor;
  /** transformers_baseline with act_inference: steps taken (float32), in eval. */
  actual_steps?: Tensor;
}

export interface ACTForwardOptions {
  /** Overrides config.halt_max_steps for this call, e.g. to run deeper recursion at test time. */
  halt_max_steps?: number;
  /** Compute target_q_continue (default: the architecture's official choice). */
  compute_target_q?: boolean;
}

export interface ACTStep {
  carry: ACTCarry;
  outputs: ACTOutputs;
}

export abstract class ACTModel extends Module {
  readonly inner: ReasoningInner;

  constructor(readonly config: ReasoningModelConfig, inner: ReasoningInner) {
    super();
    this.inner = this.registerModule('inner', inner);
  }

  get puzzle_emb(): CastedSparseEmbedding | null {
    return this.inner.puzzle_emb;
  }

  /** Whether halting is decided by the Q head in the current mode (else every row runs halt_max_steps). */
  protected adaptive(halt_max_steps: number): boolean {
    return this.training && halt_max_steps > 1;
  }

  /** [B] bool: the Q head votes to halt. */
  protected haltSignal(q_halt: Tensor, q_continue: Tensor): Tensor {
    return this.config.no_ACT_continue ? q_halt.gt(0) : q_halt.gt(q_continue);
  }

  /** Whether this (training, adaptive) step computes target_q_continue. */
  protected wantsTargetQ(options: ACTForwardOptions): boolean {
    return options.compute_target_q ?? !this.config.no_ACT_continue;
  }

  /** The carry before the first step: all rows halted, so the first forward loads the batch. On the batch's device. */
  initialCarry(batch: Batch): ACTCarry {
    return torch.tidy(() => {
      const inputs = requireKey(batch, 'inputs');
      const B = inputs.size(0);
      const current_data: Batch = {};
      for (const [k, v] of Object.entries(batch)) current_data[k] = torch.zerosLike(v);
      return {
        inner_carry: this.inner.emptyCarry(B),
        steps: newFull(inputs, [B], 0, 'int32'),
        halted: newFull(inputs, [B], true, 'bool'),
        current_data,
      };
    });
  }

  forward(carry: ACTCarry, batch: Batch, options: ACTForwardOptions = {}): ACTStep {
    const halt_max_steps = options.halt_max_steps ?? this.config.halt_max_steps;
    if (!Number.isInteger(halt_max_steps) || halt_max_steps < 1) throw new TypeError(`Expected positive integer for halt_max_steps but received ${halt_max_steps}`);
    return torch.tidy(() => {
      // Halted rows restart: init latents, step 0, and the batch's example.
      const reset = this.inner.resetCarry(carry.halted, carry.inner_carry);
      let steps = torch.where(carry.halted, 0, carry.steps);
      const current_data: Batch = {};
      for (const [k, v] of Object.entries(carry.current_data)) {
        const flag = carry.halted.view([-1, ...new Array<number>(v.ndim - 1).fill(1)]); // [B, 1, ...]
        current_data[k] = torch.where(flag, requireKey(batch, k), v);
      }

      const { carry: inner_carry, logits, q_halt_logits, q_continue_logits } = this.inner.forward(reset, current_data);
      const outputs: ACTOutputs = { logits, q_halt_logits, q_continue_logits };

      const halted = torch.noGrad(() => {
        steps = steps.add(1);
        const is_last_step = steps.ge(halt_max_steps);
        let halted = is_last_step;
        if (!this.adaptive(halt_max_steps)) return halted;
        halted = halted.logicalOr(this.haltSignal(q_halt_logits, q_continue_logits));
        if (!this.training) {
          outputs.actual_steps = steps.to('float32');
          return halted;
        }
        // Exploration: with probability halt_exploration_prob a row must run at least
        // uniform[2, halt_max_steps] steps. Same draws, in the same order, as the official code.
        const explore = torch.randLike(q_halt_logits).lt(this.config.halt_exploration_prob);
        const min_halt_steps = explore.mul(torch.call('aten::randint_like.low_dtype', steps, 2, halt_max_steps + 1) as Tensor);
        halted = halted.logicalAnd(steps.ge(min_halt_steps));
        if (this.wantsTargetQ(options)) {
          // Q target from one more step on the new carry (no replay buffer, no target network).
          const next = this.inner.forward(inner_carry, current_data);
          const best = torch.where(is_last_step, next.q_halt_logits, next.q_halt_logits.maximum(next.q_continue_logits));
          outputs.target_q_continue = best.sigmoid();
        }
        return halted;
      });
      return { carry: { inner_carry, steps, halted, current_data }, outputs };
    });
  }
}

function requireKey(batch: Batch, key: string): Tensor {
  const t = batch[key];
  if (t === undefined) throw new TypeError(`batch is missing '${key}' (it has ${Object.keys(batch).join(', ') || 'no keys'})`);
  return t;
}
