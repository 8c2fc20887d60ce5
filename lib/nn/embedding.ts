// CastedEmbedding: a float32 table looked up and cast to the forward dtype.
import * as torch from '../torch';
import type { DType } from '../torch';
import { truncNormal } from './init';
import { checkPositive } from './linear';
import { Module } from './module';

type Tensor = torch.Tensor;

export class CastedEmbedding extends Module {
  readonly embedding_weight: Tensor;

  /** Table [num_embeddings, embedding_dim], truncated normal with `init_std`. */
  constructor(readonly num_embeddings: number, readonly embedding_dim: number, init_std: number, readonly cast_to: DType) {
    super();
    checkPositive({ num_embeddings, embedding_dim });
    this.embedding_weight = this.registerParameter('embedding_weight', truncNormal([num_embeddings, embedding_dim], init_std));
  }

  /** Integer ids [...] → [..., embedding_dim] in cast_to. */
  forward(input: Tensor): Tensor {
    return torch.tidy(() => torch.embedding(input, this.embedding_weight.to(this.cast_to)));
  }

  override extraRepr(): string {
    return `${this.num_embeddings}, ${this.embedding_dim}, cast_to=${this.cast_to}`;
  }
}
