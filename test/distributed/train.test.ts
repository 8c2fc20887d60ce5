// Data-parallel training over gloo: 2 ranks for 20 steps end with bitwise-equal parameters, equal
// within 1e-5 to one process with the same global batch (float32); a NaN loss, on one rank or on
// both, stops both in the same step with the same TrainingError.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makeSudokuData } from '../train/helpers';
import { describeRun, freePort, killAll, nodeRank, RankResult, runRanks } from './helpers';

function floats(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

describe('distributed: training', function () {
  this.timeout(300000);
  let dir = '';
  let data = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-dist-train-'));
    // 160 puzzles at global batch 16: 10 steps per epoch, 20 in 2 epochs.
    data = makeSudokuData(dir, { numTrain: 160 });
  });
  after(() => {
    killAll();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('2 gloo ranks x 20 steps: bitwise-equal parameters on both, within 1e-5 of one process', async () => {
    // No ACT exploration: its random draws are per rank, so it would make the runs differ by design.
    const extra = ['epochs=2', 'arch.halt_exploration_prob=0'];
    const spec = (name: string) => nodeRank('train', data, path.join(dir, name), ...extra);
    const two = await runRanks([spec('two'), spec('two')], await freePort(), 240000);
    for (const r of two) assert.equal(r.code, 0, describeRun(two));
    const one = await runRanks([spec('one')], await freePort(), 240000);
    assert.equal(one[0].code, 0, describeRun(one));
    const [a, b] = two.map((r) => r.result);
    const single = one[0].result;
    assert.equal(a.step, 20);
    assert.equal(single.step, 20);
    assert.deepEqual(a.params, b.params, 'ranks 0 and 1 differ');
    let worst = 0;
    let perBatch = 0;
    a.params.forEach((p: string, i: number) => {
      const x = floats(p);
      const y = floats(single.params[i]);
      // The sparse embedding's per-batch rows and ids are sized by the local batch: not weights.
      if (x.length !== y.length) return void perBatch++;
      for (let k = 0; k < x.length; k++) worst = Math.max(worst, Math.abs(x[k] - y[k]));
    });
    assert.ok(perBatch <= 2, `${perBatch} tensors differ in size`);
    assert.ok(worst <= 1e-5, `max |2 ranks - 1 process| = ${worst}`);
  });

  /** Both ranks exit 1 with one and the same TrainingError; returns its step and message. */
  function sameTrainingError(runs: RankResult[]): { step: number; message: string } {
    for (const r of runs) {
      assert.equal(r.code, 1, describeRun(runs));
      assert.equal(r.result?.error?.name, 'TrainingError', describeRun(runs));
    }
    const [a, b] = runs.map((r) => r.result.error);
    assert.deepEqual(b, a, 'the ranks stopped differently');
    return a;
  }

  it('a NaN loss on rank 1 only: both ranks stop at that step with the same error, the last checkpoint kept', async () => {
    // 10 steps per epoch, a checkpoint after each: step_10 is written before rank 1's NaN at step 13.
    const ckpt = path.join(dir, 'nan-one');
    const spec = { ...nodeRank('train', data, ckpt, 'epochs=2', 'eval_interval=1', 'checkpoint_every_eval=true'), env: { TRM_TEST_NAN_RANK: '1', TRM_TEST_NAN_STEP: '13' } };
    const runs = await runRanks([spec, spec], await freePort(), 120000);
    const e = sameTrainingError(runs);
    assert.equal(e.step, 13);
    assert.match(e.message, /^the loss became NaN or infinite at step 13 \(lm_loss NaN, q_halt_loss [\d.e-]+\); stopping\. The last good checkpoint, .*step_10, is kept\.$/);
    assert.deepEqual(fs.readdirSync(ckpt).filter((f) => f.startsWith('step_')).sort(), ['step_10', 'step_10.resume']);
  });

  it('an absurd learning rate on both ranks: both stop at the same step with the same error', async () => {
    const ckpt = path.join(dir, 'nan-lr');
    const spec = nodeRank('train', data, ckpt, 'epochs=2', 'lr=1e30', 'lr_warmup_steps=1');
    const runs = await runRanks([spec, spec], await freePort(), 120000);
    const e = sameTrainingError(runs);
    assert.match(e.message, new RegExp(`^the loss became NaN or infinite at step ${e.step} .*No checkpoint had been saved yet\\.$`));
    assert.deepEqual(fs.existsSync(ckpt) ? fs.readdirSync(ckpt).filter((f) => f.startsWith('step_')) : [], []);
  });
});
