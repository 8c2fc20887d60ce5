import { strict as assert } from 'assert';
import { Rng } from '../../lib/data/random';
import {
  AdamATan2, CastedSparseEmbeddingSignSGD, computeLr, createOptimizers, loadOptimizersStateDict, OptimizerConfig,
  optimizersStateDict, stepOptimizers,
} from '../../lib/optim';
import * as torch from '../../lib/torch';
import { gaussian, param, setGrad, values } from './helpers';

const config: OptimizerConfig = {
  lr: 1e-2, lr_min_ratio: 0.5, lr_warmup_steps: 3, weight_decay: 0.1, beta1: 0.9, beta2: 0.95,
  puzzle_emb_lr: 0.1, puzzle_emb_weight_decay: 0.1,
};

/** A tiny "model": two weights and a sparse embedding table with its batch rows. */
function model(seed = 1) {
  const rng = new Rng(seed);
  const weights = [param(gaussian(rng, 6, 0.1), [2, 3]), param(gaussian(rng, 3, 0.1), [3])];
  const emb = {
    weights: torch.tensor(gaussian(rng, 10, 0.1)).reshape([5, 2]),
    localWeights: torch.zeros([2, 2]).requiresGrad_(true),
    localIds: torch.tensor([1, 3], { dtype: 'int32' }),
  };
  return { weights, emb };
}

/** Fake backward: deterministic grads for the weights and the embedding rows of batch `t`. */
function backward(m: ReturnType<typeof model>, t: number) {
  const rng = new Rng(100 + t);
  m.weights.forEach((p) => setGrad(p, gaussian(rng, p.numel())));
  m.emb.localWeights.grad = torch.tensor(gaussian(rng, 4)).reshape([2, 2]);
  m.emb.localIds = torch.tensor([t % 5, (t * 3) % 5], { dtype: 'int32' });
}

const snapshot = (m: ReturnType<typeof model>) => [...m.weights.map(values), values(m.emb.weights)];

describe('optimizers of the training loop (pretrain.py create_model / train_batch)', () => {
  it('builds sign-SGD then AdamATan2, AdamATan2 alone without an embedding, sign-SGD alone under freeze_weights', () => {
    const m = model();
    const both = createOptimizers(config, { parameters: m.weights, puzzleEmb: m.emb });
    assert.ok(both.optimizers[0] instanceof CastedSparseEmbeddingSignSGD);
    assert.ok(both.optimizers[1] instanceof AdamATan2);
    assert.deepEqual(both.baseLrs, [0.1, 1e-2]);
    const adam = both.optimizers[1] as AdamATan2;
    assert.deepEqual(adam.paramGroups[0].betas, [0.9, 0.95]);
    assert.equal(adam.paramGroups[0].weightDecay, 0.1);
    const plain = createOptimizers(config, { parameters: m.weights });
    assert.equal(plain.optimizers.length, 1);
    assert.ok(plain.optimizers[0] instanceof AdamATan2);
    const frozen = createOptimizers({ ...config, freeze_weights: true }, { parameters: m.weights, puzzleEmb: m.emb });
    assert.equal(frozen.optimizers.length, 1);
    assert.ok(frozen.optimizers[0] instanceof CastedSparseEmbeddingSignSGD);
    assert.deepEqual(frozen.baseLrs, [0.1]);
  });

  it('stepOptimizers sets each scheduled rate, steps and clears the grads; returns the weights\' rate', () => {
    const m = model();
    const t = createOptimizers(config, { parameters: m.weights, puzzleEmb: m.emb });
    const before = snapshot(m);
    backward(m, 1);
    const lr = stepOptimizers(t, config, 1, 20);
    assert.equal(lr, computeLr(1e-2, config, 1, 20));
    assert.equal(t.optimizers[0].paramGroups[0].lr, computeLr(0.1, config, 1, 20));
    assert.equal(m.weights[0].grad, null);
    assert.equal(m.emb.localWeights.grad, null);
    const after = snapshot(m);
    assert.notDeepEqual(after[0], before[0]);
    assert.notDeepEqual(after[2], before[2]);
  });

  it('freeze_weights: the weights keep their values although they have gradients; the embedding trains', () => {
    const m = model();
    const t = createOptimizers({ ...config, freeze_weights: true }, { parameters: m.weights, puzzleEmb: m.emb });
    const before = snapshot(m);
    for (let step = 1; step <= 3; step++) {
      backward(m, step);
      stepOptimizers(t, config, step, 10);
    }
    const after = snapshot(m);
    assert.deepEqual(after.slice(0, 2), before.slice(0, 2));
    assert.notDeepEqual(after[2], before[2]);
  });

  it('resumes exactly: state dicts saved after 4 steps continue with the same updates as the uninterrupted run', () => {
    const a = model();
    const ta = createOptimizers(config, { parameters: a.weights, puzzleEmb: a.emb });
    for (let step = 1; step <= 4; step++) {
      backward(a, step);
      stepOptimizers(ta, config, step, 10);
    }
    // "Checkpoint": parameter values and optimizer state, copied.
    const weights = snapshot(a);
    const saved = optimizersStateDict(ta).map((sd) => ({
      state: Object.fromEntries(Object.entries(sd.state).map(([k, s]) => [k, Object.fromEntries(Object.entries(s).map(([n, v]) => [n, typeof v === 'number' ? v : torch.clone(v)]))])),
      paramGroups: structuredClone(sd.paramGroups),
    }));
    const b = model(99); // different init, overwritten by the checkpoint
    b.weights.forEach((p, i) => torch.noGrad(() => torch.copy_(p, torch.tensor(weights[i]).reshape(p.shape))));
    torch.copy_(b.emb.weights, torch.tensor(weights[2]).reshape([5, 2]));
    const tb = createOptimizers(config, { parameters: b.weights, puzzleEmb: b.emb });
    loadOptimizersStateDict(tb, saved);
    for (let step = 5; step <= 10; step++) {
      backward(a, step);
      backward(b, step);
      stepOptimizers(ta, config, step, 10);
      stepOptimizers(tb, config, step, 10);
    }
    assert.deepEqual(snapshot(b), snapshot(a));
    assert.throws(() => loadOptimizersStateDict(tb, saved.slice(1)), /Expected 2 optimizer state dicts/);
  });
});
