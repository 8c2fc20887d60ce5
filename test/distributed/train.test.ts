// Data-parallel training over gloo: 2 ranks for 20 steps end with bitwise-equal parameters, equal
// within 1e-5 to one process with the same global batch (float32); the launcher's behaviour.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makeSudokuData } from '../train/helpers';
import { describeRun, freePort, killAll, nodeRank, runRanks } from './helpers';

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
});
