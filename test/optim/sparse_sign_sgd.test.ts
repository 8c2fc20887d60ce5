import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Rng } from '../../lib/data/random';
import { CastedSparseEmbeddingSignSGD, SparseEmbeddingLike } from '../../lib/optim';
import * as torch from '../../lib/torch';
import { gaussian, hasReference, runPython, tmpDir, values } from './helpers';

/** A table [rows, dim] = 0, 1, 2, … and a batch with the given ids and local grads. */
function embedding(rows: number, dim: number, ids: number[], grads: number[][], idDtype: torch.DType = 'int32') {
  const weights = torch.arange(0, rows * dim, 1, { dtype: 'float32' }).reshape([rows, dim]);
  const localWeights = torch.zeros([ids.length, dim]).requiresGrad_(true);
  localWeights.grad = torch.tensor(grads);
  const localIds = torch.tensor(ids, { dtype: idDtype });
  return { weights, localWeights, localIds };
}

const rowsOf = (t: torch.Tensor) => t.tolist() as number[][];

describe('CastedSparseEmbeddingSignSGD', () => {
  it('sums the grads of repeated ids, then decays and steps by the sign on those rows only', () => {
    const lr = 0.5;
    const wd = 0.2;
    const emb = embedding(6, 3, [1, 4, 1, 5], [[1, -2, 0], [0.5, 0, -1e-30], [-3, 1, 0], [2, 2, 2]]);
    const before = rowsOf(emb.weights);
    new CastedSparseEmbeddingSignSGD(emb, { lr, weightDecay: wd }).step();
    const after = rowsOf(emb.weights);
    // float32 arithmetic, as the kernel: w·fround(1 − lr·wd), then + (−lr)·sign
    const expect = (row: number, sign: number[]) => before[row].map((w, j) => Math.fround(Math.fround(w * Math.fround(1 - lr * wd)) - lr * sign[j]));
    assert.deepEqual(after[1], expect(1, [-1, -1, 0])); // [1,-2,0] + [-3,1,0] = [-2,-1,0]
    assert.deepEqual(after[4], expect(4, [1, 0, -1])); // a tiny gradient still gives a full step
    assert.deepEqual(after[5], expect(5, [1, 1, 1]));
    for (const r of [0, 2, 3]) assert.deepEqual(after[r], before[r], `row ${r} was not in the batch: no decay either`);
  });

  it('opposite grads on a repeated id cancel: the row only decays', () => {
    const emb = embedding(3, 2, [2, 2], [[1, -1], [-1, 1]]);
    new CastedSparseEmbeddingSignSGD(emb, { lr: 0.1, weightDecay: 1 }).step();
    assert.deepEqual(rowsOf(emb.weights)[2], [4, 5].map((w) => Math.fround(w * Math.fround(0.9))));
  });

  it('takes the official three-buffer form [weights, local_weights, local_ids] in any order', () => {
    const a = embedding(5, 2, [0, 3, 3], [[1, 2], [-1, 0], [-1, 1]]);
    const b = embedding(5, 2, [0, 3, 3], [[1, 2], [-1, 0], [-1, 1]], 'int64');
    new CastedSparseEmbeddingSignSGD(a, { lr: 0.25, weightDecay: 0.1 }).step();
    new CastedSparseEmbeddingSignSGD([b.localIds, b.weights, b.localWeights], { lr: 0.25, weightDecay: 0.1 }).step();
    assert.deepEqual(rowsOf(b.weights), rowsOf(a.weights));
    assert.throws(() => new CastedSparseEmbeddingSignSGD([b.weights, b.localIds], { lr: 1 }).step(), /must be \[weights \(2-d\)/);
  });

  it('reads the embedding object at every step (a fresh local_weights per batch works)', () => {
    const emb = embedding(4, 1, [1], [[1]]);
    const holder: SparseEmbeddingLike & { localWeights: torch.Tensor; localIds: torch.Tensor } = { ...emb };
    const opt = new CastedSparseEmbeddingSignSGD(holder, { lr: 1, weightDecay: 0 });
    opt.step();
    holder.localWeights = torch.zeros([1, 1]).requiresGrad_(true);
    holder.localWeights.grad = torch.tensor([[-1]]);
    holder.localIds = torch.tensor([3], { dtype: 'int32' });
    opt.step();
    assert.deepEqual(values(emb.weights), [0, 0, 2, 4]);
    opt.zeroGrad();
    assert.equal(holder.localWeights.grad, null);
    opt.step(); // no grad: nothing happens
    assert.deepEqual(values(emb.weights), [0, 0, 2, 4]);
  });

  it('all-gathers grads and ids through the injected hook (two simulated ranks)', () => {
    const mine = embedding(6, 2, [0, 2], [[1, 1], [-1, 2]]);
    const other = { grads: torch.tensor([[-3, 1], [1, 1]]), ids: torch.tensor([2, 5], { dtype: 'int32' }) };
    const calls: number[][] = [];
    const allGather = (t: torch.Tensor) => {
      calls.push(t.shape);
      return torch.cat([t, t.dtype === 'int32' ? other.ids : other.grads], 0);
    };
    new CastedSparseEmbeddingSignSGD(mine, { lr: 0.5, weightDecay: 0, allGather }).step();
    assert.deepEqual(calls, [[2, 2], [2]]);
    const single = embedding(6, 2, [0, 2, 2, 5], [[1, 1], [-1, 2], [-3, 1], [1, 1]]);
    new CastedSparseEmbeddingSignSGD(single, { lr: 0.5, weightDecay: 0 }).step();
    assert.deepEqual(rowsOf(mine.weights), rowsOf(single.weights));
  });

  it('steps without leaking tensor handles', () => {
    const emb = embedding(6, 2, [0, 2], [[1, 1], [-1, 2]]);
    const opt = new CastedSparseEmbeddingSignSGD([emb.weights, emb.localWeights, emb.localIds], { lr: 0.5 });
    const before = torch.memory().tensors;
    for (let i = 0; i < 5; i++) {
      const g = torch.tensor([[1, -1], [0.5, 2]]);
      emb.localWeights.grad = g;
      g.dispose();
      opt.step();
      opt.zeroGrad();
    }
    assert.equal(torch.memory().tensors, before);
  });

  it('rejects ids out of range and non-integer ids, leaving the table as it was', () => {
    const emb = embedding(3, 2, [0, 7], [[1, 1], [1, 1]]);
    const before = rowsOf(emb.weights);
    assert.throws(() => new CastedSparseEmbeddingSignSGD(emb, { lr: 1 }).step(), /ids must lie in \[0, 3\)/);
    const floats = { ...embedding(3, 2, [0, 1], [[1, 1], [1, 1]]), localIds: torch.tensor([0.5, 1]) };
    assert.throws(() => new CastedSparseEmbeddingSignSGD(floats, { lr: 1 }).step(), /integer ids/);
    assert.deepEqual(rowsOf(emb.weights), before);
    assert.throws(() => new CastedSparseEmbeddingSignSGD(emb, { lr: -1 }), /lr of group 0/);
    assert.throws(() => new CastedSparseEmbeddingSignSGD(emb, { weightDecay: -1 }), /weightDecay/);
  });

  it('matches the reference signsgd_sparse_step on random data with repeated ids', function () {
    if (!hasReference()) this.skip();
    const rng = new Rng(5);
    const rows = 40;
    const dim = 16;
    const batch = 64;
    const table = gaussian(rng, rows * dim, 0.1);
    const grads = gaussian(rng, batch * dim, 1e-3);
    const ids = Int32Array.from({ length: batch }, () => rng.int(0, rows));
    const dir = tmpDir('trm-signsgd-');
    try {
      for (const [name, data] of [['w', table], ['g', grads], ['i', ids]] as const) {
        fs.writeFileSync(path.join(dir, `${name}.bin`), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      }
      runPython(
        `
import sys, types, numpy as np, torch
from trm_ref import signsgd_sparse_step
d = sys.argv[1]
emb = types.SimpleNamespace(
    weights=torch.from_numpy(np.fromfile(d + '/w.bin', dtype=np.float32)).view(${rows}, ${dim}).clone(),
    local_weights=torch.zeros(${batch}, ${dim}, requires_grad=True),
    local_ids=torch.from_numpy(np.fromfile(d + '/i.bin', dtype=np.int32)).long())
emb.local_weights.grad = torch.from_numpy(np.fromfile(d + '/g.bin', dtype=np.float32)).view(${batch}, ${dim})
signsgd_sparse_step(emb, lr=0.01, weight_decay=0.1)
emb.weights.numpy().tofile(d + '/out.bin')
`,
        dir
      );
      const buf = fs.readFileSync(path.join(dir, 'out.bin'));
      const expected = Array.from(new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)));
      const emb = {
        weights: torch.tensor(table).reshape([rows, dim]),
        localWeights: torch.zeros([batch, dim]).requiresGrad_(true),
        localIds: torch.tensor(ids),
      };
      emb.localWeights.grad = torch.tensor(grads).reshape([batch, dim]);
      new CastedSparseEmbeddingSignSGD(emb, { lr: 0.01, weightDecay: 0.1 }).step();
      const got = values(emb.weights);
      assert.deepEqual(got, expected);
      assert.ok(got.some((v, i) => v !== table[i]), 'rows moved');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
