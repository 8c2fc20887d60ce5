// What every recursive-reasoning model shares inside its ACT wrapper: token / puzzle / position
// embeddings, the lm and q heads, the initial latent states, carry reset, and the forward pass
// around an architecture-specific recursion (`recurse`).
import * as torch from '../../torch';
import type { DType } from '../../torch';
import { CastedEmbedding } from '../../nn/embedding';
import { truncNormal } from '../../nn/init';
import { newZeros } from '../../nn/like';
import { CastedLinear } from '../../nn/linear';
import { Module } from '../../nn/module';
import { CosSin, RotaryEmbedding } from '../../nn/rotary';
import { CastedSparseEmbedding } from '../sparse_embedding';
import { ReasoningModelConfig, puzzleEmbLen } from './config';
import type { ReasoningModule } from './blocks';

type Tensor = torch.Tensor;

/** A batch: `inputs` [B, seq_len] and `puzzle_identifiers` [B] (and `labels` for the loss), integer tensors. */
export type Batch = Record<string, Tensor>;

/** The latent states carried between ACT steps, by name (z_H, z_L, ...): [B, L, hidden] each. */
export type InnerCarry = Record<string, Tensor>;

export interface InnerOutput {
  /** The detached latents after this step (the next step's carry). */
  carry: InnerCarry;
  /** [B, seq_len, vocab] in forward_dtype (puzzle positions dropped). */
  logits: Tensor;
  /** [B] float32. */
  q_halt_logits: Tensor;
  /** [B] float32. */
  q_continue_logits: Tensor;
}

/** Tracks the latents a recursion makes, so each superseded one is freed at once. */
export class Latents {
  private readonly owned = new Set<Tensor>();

  /** Returns `next`, freeing `old` if this recursion made it (a carry the caller passed is never freed). */
  replace(old: Tensor, next: Tensor): Tensor {
    if (this.owned.delete(old)) old.dispose();
    this.owned.add(next);
    return next;
  }
}

export abstract class ReasoningInner extends Module {
  readonly forward_dtype: DType;
  readonly embed_scale: number;
  readonly puzzle_emb_len: number;
  readonly embed_tokens: CastedEmbedding;
  readonly lm_head: CastedLinear;
  readonly q_head: CastedLinear;
  readonly puzzle_emb: CastedSparseEmbedding | null = null;
  readonly rotary_emb: RotaryEmbedding | null = null;
  readonly embed_pos: CastedEmbedding | null = null;
  /** Latent name → the buffer it is reset to, e.g. [['z_H', 'H_init'], ['z_L', 'L_init']]. */
  protected readonly latentInits: [string, string][] = [];

  constructor(readonly config: ReasoningModelConfig) {
    super();
    const c = config;
    this.forward_dtype = c.forward_dtype;
    this.embed_scale = Math.sqrt(c.hidden_size);
    const embed_init_std = 1 / this.embed_scale;
    this.puzzle_emb_len = puzzleEmbLen(c);
    if (c.puzzle_emb_ndim === 0 && this.puzzle_emb_len > 0) {
      throw new TypeError(`puzzle_emb_len=${c.puzzle_emb_len} needs puzzle_emb_ndim > 0; set puzzle_emb_len=0 when the puzzle embedding is off`);
    }
    if (c.puzzle_emb_ndim > this.puzzle_emb_len * c.hidden_size) {
      throw new TypeError(`puzzle_emb_ndim=${c.puzzle_emb_ndim} does not fit in puzzle_emb_len=${this.puzzle_emb_len} positions of hidden_size=${c.hidden_size}`);
    }

    this.embed_tokens = this.registerModule('embed_tokens', new CastedEmbedding(c.vocab_size, c.hidden_size, embed_init_std, this.forward_dtype));
    this.lm_head = this.registerModule('lm_head', new CastedLinear(c.hidden_size, c.vocab_size, false));
    this.q_head = this.registerModule('q_head', new CastedLinear(c.hidden_size, 2, true));
    if (c.puzzle_emb_ndim > 0) {
      // Zero init: every puzzle starts from the same (empty) embedding.
      this.puzzle_emb = this.registerModule('puzzle_emb', new CastedSparseEmbedding(c.num_puzzle_identifiers, c.puzzle_emb_ndim, c.batch_size, 0, this.forward_dtype));
    }
    const positions = c.seq_len + this.puzzle_emb_len;
    if (c.pos_encodings === 'rope') {
      this.rotary_emb = this.registerModule('rotary_emb', new RotaryEmbedding(Math.floor(c.hidden_size / c.num_heads), positions, c.rope_theta));
    } else if (c.pos_encodings === 'learned') {
      this.embed_pos = this.registerModule('embed_pos', new CastedEmbedding(positions, c.hidden_size, embed_init_std, this.forward_dtype));
    }
    // Q head starts (almost) at "don't halt": zero weight, bias −5.
    torch.noGrad(() => {
      this.q_head.weight.zero_();
      this.q_head.bias!.fill_(-5);
    });
  }

  /** Registers the buffer a latent resets to: [hidden] in forward_dtype, truncated normal std 1. */
  protected registerLatent(latent: string, init: string): void {
    this.registerBuffer(init, truncNormal([this.config.hidden_size], 1, { dtype: this.forward_dtype }));
    this.latentInits.push([latent, init]);
  }

  /** Latent names in carry order. */
  get latentNames(): string[] {
    return this.latentInits.map(([z]) => z);
  }

  /** Sequence length of the latents: seq_len plus the puzzle positions. */
  get totalLen(): number {
    return this.config.seq_len + this.puzzle_emb_len;
  }

  /** (inputs [B, seq_len], puzzle_identifiers [B]) → [B, L, hidden], scaled by √hidden. */
  inputEmbeddings(input: Tensor, puzzle_identifiers: Tensor): Tensor {
    return torch.tidy(() => {
      const c = this.config;
      let embedding = this.embed_tokens.forward(input.to('int32')); // [B, seq_len, D]
      if (this.puzzle_emb) {
        let puzzle = this.puzzle_emb.forward(puzzle_identifiers); // [B, ndim]
        const pad = this.puzzle_emb_len * c.hidden_size - puzzle.size(-1);
        if (pad > 0) puzzle = torch.call('aten::constant_pad_nd', puzzle, [0, pad], 0) as Tensor; // [B, P·D]
        const B = puzzle.size(0);
        embedding = torch.cat([puzzle.view(B, this.puzzle_emb_len, c.hidden_size), embedding], -2); // [B, P + seq_len, D]
      }
      if (this.embed_pos) {
        // 1/√2 keeps the forward variance of the sum.
        embedding = embedding.add(this.embed_pos.embedding_weight.to(this.forward_dtype)).mul(0.707106781);
      }
      return embedding.mul(this.embed_scale);
    });
  }

  /** Latents of a fresh batch (zeros; every row is halted, so the first step resets it), on the init buffers' device. */
  emptyCarry(batch_size: number): InnerCarry {
    const carry: InnerCarry = {};
    for (const [z, init] of this.latentInits) carry[z] = newZeros(this.getBuffer(init)!, [batch_size, this.totalLen, this.config.hidden_size], this.forward_dtype);
    return carry;
  }

  /** Rows where reset_flag [B] is set go back to the init states. New tensors; the input is untouched. */
  resetCarry(reset_flag: Tensor, carry: InnerCarry): InnerCarry {
    return torch.tidy(() => {
      const flag = reset_flag.view(-1, 1, 1); // [B, 1, 1]
      const out: InnerCarry = {};
      for (const [z, init] of this.latentInits) out[z] = torch.where(flag, this.getBuffer(init)!, carry[z]);
      return out;
    });
  }

  /**
   * The architecture's recursion for one ACT step: from the carry's latents and the input
   * embeddings x [B, L, D] to the final latents (graph attached where gradients flow) and the
   * latent the heads read. Must not dispose the carry's tensors (Latents.replace helps).
   */
  protected abstract recurse(carry: InnerCarry, x: Tensor, cos_sin: CosSin | null): { latents: InnerCarry; output: Tensor };

  /** `level(hidden, injection)`, freeing the temporaries `args` makes (e.g. z_H + x) right away. */
  protected runLevel(level: ReasoningModule, cos_sin: CosSin | null, args: () => [Tensor, Tensor | null]): Tensor {
    return torch.tidy(() => {
      const [hidden, injection] = args();
      return level.forward(hidden, injection, cos_sin);
    });
  }

  /** One ACT step of the inner model. The returned tensors are new; `carry` and `batch` are not freed. */
  forward(carry: InnerCarry, batch: Batch): InnerOutput {
    for (const key of this.puzzle_emb ? ['inputs', 'puzzle_identifiers'] : ['inputs']) {
      if (batch[key] === undefined) throw new TypeError(`batch is missing '${key}' (it has ${Object.keys(batch).join(', ') || 'no keys'})`);
    }
    return torch.tidy(() => {
      const cos_sin = this.rotary_emb ? this.rotary_emb.forward() : null;
      const x = this.inputEmbeddings(batch.inputs, batch.puzzle_identifiers);
      const { latents, output } = this.recurse(carry, x, cos_sin);
      const next: InnerCarry = {};
      for (const z of this.latentNames) next[z] = latents[z].detach();
      const logits = this.lm_head.forward(output).narrow(1, this.puzzle_emb_len, this.config.seq_len); // [B, seq_len, vocab]
      const q = this.q_head.forward(output.select(1, 0)).to('float32'); // [B, 2], from the first (puzzle) position
      return { carry: next, logits, q_halt_logits: q.select(-1, 0), q_continue_logits: q.select(-1, 1) };
    });
  }
}
