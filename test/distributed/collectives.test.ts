// Two Node ranks over gloo on 127.0.0.1: every collective (Promise and blocking forms, avg/max/min,
// bfloat16, several dtypes in one call, non-contiguous tensors), barrier, JSON objects, and one
// Node rank with one Python (Debian python3-torch) rank in the same group.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeRun, freePort, hasPythonTorch, killAll, nodeRank, PYTHON, runRanks } from './helpers';

describe('distributed: collectives across processes', function () {
  this.timeout(120000);
  after(killAll);

  it('two Node ranks agree on allReduce, broadcast, reduce, allGather, barrier and objects', async () => {
    const results = await runRanks([nodeRank('collectives'), nodeRank('collectives')], await freePort(), 90000);
    for (const r of results) assert.equal(r.code, 0, describeRun(results));
    const [r0, r1] = results.map((r) => r.result);
    for (const out of [r0, r1]) {
      assert.deepEqual(out.allReduce_sum, [3, 10, -1]);
      assert.deepEqual(out.allReduce_avg, [1.5, 5, -0.5]);
      assert.deepEqual(out.allReduce_max, [2, 10, 0]);
      assert.deepEqual(out.allReduce_min, [1, 0, -1]);
      assert.deepEqual(out.allReduceSync, [3]);
      // a = [[0,1],[2,3]]^T + [[1,2],[3,4]]^T, read through the transposed view
      assert.deepEqual(out.allReduceMixed, [[1, 5, 3, 7], [2], 'bfloat16', [3], 'int64']);
      assert.deepEqual(out.broadcast, [[10, 11], [1]]);
      assert.deepEqual(out.allGather, [[[1, 2], [0, 0]], [[1, 2], [1, 1]]]);
      assert.deepEqual(out.allGatherInto, [[4], 'bfloat16', [0, 0, 1, -1]]);
      assert.deepEqual(out.objects, [{ rank: 0, text: 'é0', list: [] }, { rank: 1, text: 'é1', list: [1] }]);
      assert.deepEqual(out.broadcastObject, { from: 1, nested: [1, [2]] });
    }
    assert.deepEqual(r0.reduce, [2, 2]); // max onto rank 0
    assert.deepEqual(r1.reduce, [2, 2]); // rank 1's own tensor, unchanged
    assert.deepEqual(r0.gathered, ['s0', 's1']);
    assert.equal(r1.gathered, null);
    // Rank 0 waited ~400 ms in the barrier with its event loop free.
    assert.ok(r0.ticksDuringBarrier >= 10, `only ${r0.ticksDuringBarrier} timer ticks during the barrier`);
  });

  it('one Node rank and one Python rank form one group (all_reduce, broadcast), either rank hosting the store', async function () {
    if (!hasPythonTorch()) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-dist-py-'));
    try {
      const script = path.join(dir, 'rank.py');
      fs.writeFileSync(
        script,
        [
          'import datetime, json, torch, torch.distributed as dist',
          "dist.init_process_group('gloo', init_method='env://', timeout=datetime.timedelta(seconds=60))",
          'r = dist.get_rank()',
          't = torch.tensor([r + 1.0, 10.0 * r])',
          'dist.all_reduce(t)',
          'b = torch.tensor([7.0, 8.0]) if r == 0 else torch.zeros(2)',
          'dist.broadcast(b, 0)',
          "print('RESULT ' + json.dumps({'allReduce': t.tolist(), 'broadcast': b.tolist()}), flush=True)",
          'dist.destroy_process_group()',
        ].join('\n')
      );
      const py = { argv: [PYTHON, script] };
      for (const specs of [[nodeRank('python'), py], [py, nodeRank('python')]]) {
        const results = await runRanks(specs, await freePort(), 90000);
        for (const r of results) {
          assert.equal(r.code, 0, describeRun(results));
          assert.deepEqual(r.result, { allReduce: [3, 10], broadcast: [7, 8] });
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
