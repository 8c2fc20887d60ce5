// Failures never hang: a killed peer fails the survivor at once, a stalled one at the timeout,
// the group is dead afterwards, and a port already taken is reported as such.
import { strict as assert } from 'assert';
import * as net from 'net';
import { initProcessGroup, initProcessGroupSync } from '../../lib/distributed';
import { TorchError } from '../../lib/torch';
import { describeRun, freePort, killAll, nodeRank, runRanks } from './helpers';

describe('distributed: faults', function () {
  this.timeout(120000);
  after(killAll);

  it('a killed peer makes the survivor fail with a clear TorchError, well within the timeout', async () => {
    const timeoutMs = 20000;
    const results = await runRanks([nodeRank('kill', String(timeoutMs)), nodeRank('kill', String(timeoutMs))], await freePort(), 60000);
    const [r0, r1] = results;
    assert.equal(r1.signal, 'SIGKILL', describeRun(results));
    assert.equal(r0.code, 0, describeRun(results));
    const { first, elapsedMs, after } = r0.result;
    assert.match(first, /^TorchError: allReduce: a peer rank exited or lost its connection/);
    assert.ok(elapsedMs < timeoutMs / 2, `took ${elapsedMs} ms`);
    assert.match(after, /^barrier: the process group failed earlier and cannot be used again/);
  });

  it('a stalled peer makes the survivor fail at the configured timeout, not hang', async () => {
    const timeoutMs = 2000;
    // Rank 1 stops itself (SIGSTOP); it is killed once rank 0 has exited on its own.
    const results = await runRanks([nodeRank('stop', String(timeoutMs)), nodeRank('stop', String(timeoutMs))], await freePort(), 60000, [0]);
    assert.equal(results[0].code, 0, describeRun(results));
    const { first, elapsedMs, after } = results[0].result;
    assert.match(first, /^TorchError: allReduce: timed out after 2000 ms: a peer rank is stalled or gone/);
    assert.ok(elapsedMs >= timeoutMs - 50 && elapsedMs < timeoutMs + 5000, `took ${elapsedMs} ms`);
    assert.match(after, /failed earlier/);
  });

  it('a port already in use gives a clear error (and a free one works)', async () => {
    const server = net.createServer();
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
    try {
      const env = { MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) };
      await assert.rejects(initProcessGroup({ rank: 0, worldSize: 1, timeoutMs: 5000, env }), (e: Error) => {
        assert.ok(e instanceof TorchError, String(e));
        assert.match(e.message, new RegExp(`could not host the rendezvous store on 127\\.0\\.0\\.1:${port} \\(is MASTER_PORT already in use\\?\\).*Address already in use`));
        return true;
      });
    } finally {
      server.close();
    }
    const pg = initProcessGroupSync({ rank: 0, worldSize: 1, timeoutMs: 5000, env: { MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(await freePort()) } });
    assert.equal(pg.worldSize, 1);
    pg.destroy();
    assert.throws(() => pg.barrierSync(), /barrier: process group used after destroy\(\)/);
  });

  it('bad arguments are rejected before any network work', async () => {
    await assert.rejects(initProcessGroup({ rank: 2, worldSize: 2, env: {} }), /Expected rank in 0\.\.1 but received 2/);
    await assert.rejects(initProcessGroup({ backend: 'mpi' as 'gloo', env: {} }), /Expected 'gloo' or 'nccl' for backend/);
    await assert.rejects(initProcessGroup({ initMethod: 'file:///tmp/x', env: {} }), /Expected initMethod 'env:\/\/' or 'tcp:\/\/host:port'/);
    await assert.rejects(initProcessGroup({ timeoutMs: -1, env: {} }), /positive number of milliseconds/);
  });
});
