// CastedSparseEmbedding: the per-puzzle embedding table. The table is a buffer, not a parameter:
// the dense optimizer never sees it. In training each batch's rows are copied into the
// `local_weights` buffer, which requires grad; the sign-SGD optimizer reads its .grad together
// with `local_ids` and updates only those rows of `weights`.
import * as torch from '../torch';
import type { DType } from '../torch';
import { Module } from '../nn/module';
import { truncNormal } from '../nn/init';

type Tensor = torch.Tensor;

export class CastedSparseEmbedding extends Module {
  /** [num_embeddings, embedding_dim] float32, persistent. */
  readonly weights: Tensor;
  /** [batch_size, embedding_dim] float32 leaf with requiresGrad, not persistent. */
  readonly local_weights: Tensor;
  /** [batch_size] int32, not persistent. */
  readonly local_ids: Tensor;

  constructor(
    readonly num_embeddings: number,
    readonly embedding_dim: number,
    readonly batch_size: number,
    init_std: number,
    readonly cast_to: DType,
  ) {
    super();
    for (const [name, v] of Object.entries({ num_embeddings, embedding_dim, batch_size })) {
      if (!Number.isInteger(v) || v < 1) throw new TypeError(`Expected positive integer for ${name} but received ${v}`);
    }
    this.weights = this.registerBuffer('weights', truncNormal([num_embeddings, embedding_dim], init_std));
    this.local_weights = this.registerBuffer('local_weights', torch.zeros([batch_size, embedding_dim], { requiresGrad: true }), { persistent: false });
    this.local_ids = this.registerBuffer('local_ids', torch.zeros([batch_size], { dtype: 'int32' }), { persistent: false });
  }

  /**
   * ids [B] → [B, embedding_dim] in cast_to. Eval: rows of `weights`, no gradient. Training:
   * the rows are copied into `local_weights` (B must equal batch_size) and the result is
   * `local_weights` cast, so the gradient lands in `local_weights.grad` (accumulating until
   * zeroGrad()).
   */
  forward(inputs: Tensor): Tensor {
    return torch.tidy(() => {
      if (!this.training) return torch.noGrad(() => this.weights.index([inputs.to('int64')]).to(this.cast_to));
      const [B] = inputs.shape;
      if (B !== this.batch_size) {
        throw new TypeError(`CastedSparseEmbedding: expected a training batch of batch_size=${this.batch_size} puzzle ids but received ${B}`);
      }
      torch.noGrad(() => {
        this.local_weights.copy_(this.weights.index([inputs.to('int64')]));
        this.local_ids.copy_(inputs);
      });
      const out = this.local_weights.to(this.cast_to);
      return out === this.local_weights ? out.view(out.shape) : out; // a handle of its own: the caller may dispose it
    });
  }

  override extraRepr(): string {
    return `${this.num_embeddings}, ${this.embedding_dim}, batch_size=${this.batch_size}, cast_to=${this.cast_to}`;
  }
}
