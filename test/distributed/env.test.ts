// torchrun's variables and their SLURM stand-ins.
import { strict as assert } from 'assert';
import { firstSlurmHost, readDistEnv } from '../../lib/distributed/env';

describe('distributed: env contract', () => {
  it('reads torchrun variables', () => {
    const e = readDistEnv({ RANK: '3', WORLD_SIZE: '8', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2', MASTER_ADDR: 'h0', MASTER_PORT: '1234' });
    assert.deepEqual(
      { ...e },
      { rank: 3, worldSize: 8, localRank: 1, localWorldSize: 2, masterAddr: 'h0', masterPort: 1234, useAgentStore: false, restartCount: 0, source: 'torchrun' }
    );
  });

  it('defaults to one process on 127.0.0.1:29500', () => {
    const e = readDistEnv({});
    assert.deepEqual([e.rank, e.worldSize, e.localRank, e.masterAddr, e.masterPort, e.source], [0, 1, 0, '127.0.0.1', 29500, 'default']);
  });

  it('maps SLURM when torchrun variables are absent', () => {
    const e = readDistEnv({ SLURM_PROCID: '5', SLURM_NTASKS: '8', SLURM_LOCALID: '1', SLURM_TASKS_PER_NODE: '4(x2)', SLURM_JOB_NODELIST: 'gpu[07-08]', SLURM_JOB_ID: '123456' });
    assert.deepEqual([e.rank, e.worldSize, e.localRank, e.localWorldSize, e.masterAddr, e.masterPort, e.source], [5, 8, 1, 4, 'gpu07', 15000 + (123456 % 20000), 'slurm']);
    assert.equal(firstSlurmHost('a1,b2'), 'a1');
    assert.equal(firstSlurmHost('n[3,5-6]'), 'n3');
  });

  it('reads the torchelastic agent store flags', () => {
    const e = readDistEnv({ RANK: '0', WORLD_SIZE: '2', TORCHELASTIC_USE_AGENT_STORE: 'True', TORCHELASTIC_RESTART_COUNT: '2' });
    assert.equal(e.useAgentStore, true);
    assert.equal(e.restartCount, 2);
  });

  it('rejects malformed values with the variable named', () => {
    assert.throws(() => readDistEnv({ RANK: 'x' }), /Expected an integer 0\.\.\d+ for RANK but received 'x'/);
    assert.throws(() => readDistEnv({ RANK: '2', WORLD_SIZE: '2' }), /RANK \(2\) must be below WORLD_SIZE \(2\)/);
    assert.throws(() => readDistEnv({ MASTER_PORT: '70000' }), /for MASTER_PORT/);
  });
});
