// Sign-SGD for the sparse puzzle embedding (the official CastedSparseEmbeddingSignSGD_Distributed):
// only the rows the batch used move, by the sign of their summed gradient, with decoupled decay.
import * as torch from '../torch';
import { Tensor } from '../torch';
import { checkNonNegative, GroupOptions, Optimizer, ParamGroup, ParamsArg } from './optimizer';

/** The parts of a CastedSparseEmbedding this optimizer reads, looked up at every step. */
export interface SparseEmbeddingLike {
  /** [num_embeddings, D] the table (a buffer without grad). */
  readonly weights: Tensor;
  /** [B, D] this batch's rows, copied from `weights`; has `.grad` after backward. */
  readonly localWeights: Tensor;
  /** [B] ids of those rows (int32 or int64). */
  readonly localIds: Tensor;
}

export interface SparseSignSGDGroup extends GroupOptions {
  lr: number;
  weightDecay: number;
}

export interface SparseSignSGDOptions extends Partial<SparseSignSGDGroup> {
  /**
   * Gathers a tensor from every rank along dim 0 ([N, …] -> [world·N, …]), as
   * dist.all_gather_into_tensor; called on the local grads and on the local ids. Omit on one rank.
   */
  allGather?: (t: Tensor) => Tensor;
}

function isEmbedding(v: unknown): v is SparseEmbeddingLike {
  return v !== null && typeof v === 'object' && !(v instanceof Tensor) && 'weights' in v && 'localWeights' in v && 'localIds' in v;
}

/**
 * Per group, with g the local grads summed per unique id (across ranks when `allGather` is set):
 *   w[ids] ← w[ids]·(1 − lr·wd) − lr·sign(g)
 * Groups are either an embedding object (read at every step) or, as the official code, the three
 * buffers [weights, local_weights, local_ids] told apart the same way: the one that requires grad
 * holds the gradient, the 1-d one the ids, the 2-d one the table. Stateless.
 */
export class CastedSparseEmbeddingSignSGD extends Optimizer<SparseSignSGDGroup> {
  private readonly allGather?: (t: Tensor) => Tensor;
  /** Per group: the embedding object it came from, if it came from one. */
  private readonly sources: Array<SparseEmbeddingLike | undefined>;

  constructor(
    params: SparseEmbeddingLike | SparseEmbeddingLike[] | ParamsArg<SparseSignSGDGroup>,
    options: SparseSignSGDOptions = {}
  ) {
    const { allGather, ...group } = options;
    const list = isEmbedding(params) ? [params] : Array.isArray(params) ? params : [...(params as Iterable<Tensor>)];
    const sources = list.map((e) => (isEmbedding(e) ? e : undefined));
    const groups = sources.some(Boolean)
      ? list.map((e) => (isEmbedding(e) ? { params: [e.weights, e.localWeights, e.localIds] } : e))
      : list;
    // The official defaults.
    super(groups as ParamsArg<SparseSignSGDGroup>, { lr: 1e-3, weightDecay: 1e-2, ...group });
    if (allGather !== undefined && typeof allGather !== 'function') {
      throw new TypeError(`Expected a function for allGather but received ${typeof allGather}`);
    }
    this.allGather = allGather;
    this.sources = sources;
  }

  protected override validateGroup(group: ParamGroup<SparseSignSGDGroup>, index: number): void {
    super.validateGroup(group, index);
    checkNonNegative(group.weightDecay, `weightDecay of group ${index}`);
  }

  /** The table, local rows and ids of group `gi`. */
  private parts(gi: number): SparseEmbeddingLike {
    const source = this.sources[gi];
    if (source) return source;
    const params = this.paramGroups[gi].params;
    let weights: Tensor | undefined, localWeights: Tensor | undefined, localIds: Tensor | undefined;
    for (const p of params) {
      if (p.requiresGrad) localWeights = p;
      else if (p.dim() === 1) localIds = p;
      else if (p.dim() === 2) weights = p;
    }
    if (params.length !== 3 || !weights || !localWeights || !localIds) {
      throw new TypeError(
        `CastedSparseEmbeddingSignSGD: group ${gi} must be [weights (2-d), local_weights (requires grad), local_ids (1-d)] ` +
          `but holds ${params.map((p) => `[${p.shape}]${p.requiresGrad ? ' requiresGrad' : ''}`).join(', ')}`
      );
    }
    return { weights, localWeights, localIds };
  }

  step(): void {
    this.paramGroups.forEach((group, gi) => {
      const { weights, localWeights, localIds } = this.parts(gi);
      const grad = localWeights.grad;
      if (!grad) return;
      try {
        torch.noGrad(() => torch.tidy(() => this.update(weights, grad, localIds, group)));
      } finally {
        grad.dispose();
      }
    });
  }

  private update(weights: Tensor, localGrad: Tensor, localIds: Tensor, g: ParamGroup<SparseSignSGDGroup>): void {
    const grads = this.allGather ? this.allGather(localGrad) : localGrad; // [N, D]
    const ids = this.allGather ? this.allGather(localIds) : localIds; // [N]
    const [rows, dim] = weights.shape;
    if (weights.dim() !== 2 || grads.dim() !== 2 || grads.shape[1] !== dim || ids.dim() !== 1 || ids.shape[0] !== grads.shape[0]) {
      throw new RangeError(
        `CastedSparseEmbeddingSignSGD: expected weights [M, D], grads [N, D] and ids [N] but got weights [${weights.shape}], grads [${grads.shape}], ids [${ids.shape}]`
      );
    }
    if (!['int64', 'int32', 'int16', 'int8', 'uint8'].includes(ids.dtype)) {
      throw new TypeError(`CastedSparseEmbeddingSignSGD: expected integer ids but got ${ids.dtype}`);
    }
    const { values: unique, inverse } = torch.unique(torch.to(ids, 'int64')); // [U], [N]
    const maxId = unique.shape[0] ? torch.max(unique).item() : 0;
    const minId = unique.shape[0] ? torch.min(unique).item() : 0;
    if (minId < 0 || maxId >= rows) {
      throw new RangeError(`CastedSparseEmbeddingSignSGD: ids must lie in [0, ${rows}) but range over [${minId}, ${maxId}]`);
    }
    const summed = torch.zeros([unique.shape[0], dim], { dtype: grads.dtype, device: grads.device }); // [U, D]
    torch.indexAdd_(summed, 0, inverse, grads);
    const updated = torch.index(weights, [unique]); // [U, D]
    torch.mul_(updated, 1 - g.lr * g.weightDecay);
    torch.add_(updated, torch.sign(summed), -g.lr);
    torch.indexPut_(weights, [unique], updated);
  }

  /** Clears the local rows' gradient (and any other listed tensor's). */
  override zeroGrad(setToNone = true): void {
    super.zeroGrad(setToNone);
    this.sources.forEach((source) => {
      if (!source) return;
      if (setToNone) source.localWeights.grad = null;
      else {
        const grad = source.localWeights.grad;
        if (grad) {
          torch.zero_(grad);
          grad.dispose();
        }
      }
    });
  }
}
