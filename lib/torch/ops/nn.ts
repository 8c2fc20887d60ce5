// The functional neural-network ops (torch.nn.functional): matmuls, linear, softmax, embedding,
// normalisation, dropout, attention and the standard losses.
import { DType } from '../dtype';
import { native } from '../native';
import { Op } from '../op';
import { Tensor, wrap } from '../tensor';
import { A, attach, optHandle, run } from './util';

export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

function reduction(r: Reduction): number {
  const v = REDUCTION[r];
  if (v === undefined) throw new TypeError(`Expected reduction to be 'none', 'mean' or 'sum' but received ${JSON.stringify(r)}`);
  return v;
}

const MATMUL = A('matmul');
const MM = A('mm');
const BMM = A('bmm');
const LINEAR = A('linear');
const SOFTMAX = A('softmax.int');
const LOG_SOFTMAX = A('log_softmax.int');
const EMBEDDING = A('embedding');
const DROPOUT = A('dropout');
const LAYER_NORM = A('layer_norm');
const CROSS_ENTROPY = A('cross_entropy_loss');
const NLL = A('nll_loss');
const BCE_LOGITS = A('binary_cross_entropy_with_logits');
const MSE = A('mse_loss');
const LOG_SIGMOID = A('log_sigmoid');
const SOFTPLUS = A('softplus');
const ONES = A('ones');

const pair = (op: Op) => (a: Tensor, b: Tensor): Tensor => wrap(native.call(op.handle, a.handle, b.handle) as number, a, b);
export const matmul = pair(MATMUL);
export const mm = pair(MM);
export const bmm = pair(BMM);

/** x · weightᵀ + bias */
export const linear = (x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor => run(LINEAR, x, weight.handle, optHandle(bias));
export const softmax = (x: Tensor, dim: number, dtype?: DType): Tensor => run(SOFTMAX, x, dim, dtype);
export const logSoftmax = (x: Tensor, dim: number, dtype?: DType): Tensor => run(LOG_SOFTMAX, x, dim, dtype);
export const logSigmoid = (x: Tensor): Tensor => run(LOG_SIGMOID, x);
export const softplus = (x: Tensor, beta = 1, threshold = 20): Tensor => run(SOFTPLUS, x, beta, threshold);

/** Rows of `weight` picked by the integer `indices`. */
export const embedding = (indices: Tensor, weight: Tensor, paddingIdx = -1): Tensor =>
  new Tensor(native.call(EMBEDDING.handle, weight.handle, indices.handle, paddingIdx) as number);
export const dropout = (x: Tensor, p = 0.5, training = true): Tensor => run(DROPOUT, x, p, training);
export const layerNorm = (x: Tensor, normalizedShape: number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor =>
  run(LAYER_NORM, x, normalizedShape, optHandle(weight), optHandle(bias), eps);

export interface CrossEntropyOptions {
  ignoreIndex?: number;
  reduction?: Reduction;
  labelSmoothing?: number;
  weight?: Tensor | null;
}

/** Cross-entropy of logits [N, C, ...] against class indices [N, ...]. */
export const crossEntropy = (logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor =>
  run(CROSS_ENTROPY, logits, target.handle, optHandle(o.weight), reduction(o.reduction ?? 'mean'), o.ignoreIndex ?? -100, o.labelSmoothing ?? 0);

export const nllLoss = (logProbs: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor =>
  run(NLL, logProbs, target.handle, optHandle(o.weight), reduction(o.reduction ?? 'mean'), o.ignoreIndex ?? -100);

export const binaryCrossEntropyWithLogits = (logits: Tensor, target: Tensor, o: { reduction?: Reduction; weight?: Tensor | null; posWeight?: Tensor | null } = {}): Tensor =>
  run(BCE_LOGITS, logits, target.handle, optHandle(o.weight), optHandle(o.posWeight), reduction(o.reduction ?? 'mean'));

export const mseLoss = (x: Tensor, target: Tensor, r: Reduction = 'mean'): Tensor => run(MSE, x, target.handle, reduction(r));

/**
 * softmax(q·kᵀ·scale [+ mask]) · v over the last two dims; q, k, v are [..., S, D]. Non-causal by
 * default, as TRM's attention is.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, o: { mask?: Tensor | null; isCausal?: boolean; scale?: number } = {}): Tensor {
  const d = q.size(-1);
  const scale = o.scale ?? 1 / Math.sqrt(d);
  const kt = k.transpose(-2, -1);
  const scores = q.matmul(kt);
  kt.dispose();
  scores.mul_(scale);
  if (o.mask) scores.add_(o.mask);
  if (o.isCausal) {
    const s = scores.size(-1);
    const causal = new Tensor(native.call(ONES.handle, [scores.size(-2), s], 'bool') as number);
    const upper = causal.triu(1);
    scores.maskedFill_(upper, -Infinity);
    causal.dispose();
    upper.dispose();
  }
  const probs = scores.softmax(-1);
  scores.dispose();
  const out = probs.matmul(v);
  probs.dispose();
  return out;
}

declare module '../tensor' {
  interface Tensor {
    matmul(other: Tensor): Tensor;
    mm(other: Tensor): Tensor;
    bmm(other: Tensor): Tensor;
    softmax(dim: number, dtype?: DType): Tensor;
    logSoftmax(dim: number, dtype?: DType): Tensor;
  }
}

attach({ matmul, mm, bmm, softmax, logSoftmax });
