// Which device a process trains on (TRM_DEVICE or the device option, LOCAL_RANK, the GPUs LibTorch
// sees) and which backend reduces its tensors: pure functions of their inputs, errors included.
import { strict as assert } from 'assert';
import { backendFor, DeviceError, DistributedError, initProcessGroup, ProcessGroupComm, selectDevice } from '../../lib/distributed';
import { pretrain } from '../../lib/train/pretrain';
import { tempDir, tinyConfig } from '../train/helpers';
import * as fs from 'fs';
import * as path from 'path';

const pick = (env: NodeJS.ProcessEnv, cudaDeviceCount: number, override?: string) => selectDevice({ env, cudaDeviceCount, override });

describe('distributed: device selection', () => {
  it('uses the CPU when LibTorch sees no GPU, whatever LOCAL_RANK says', () => {
    assert.equal(pick({}, 0), 'cpu');
    assert.equal(pick({ LOCAL_RANK: '3', RANK: '3', WORLD_SIZE: '4' }, 0), 'cpu');
    assert.equal(pick({ TRM_DEVICE: 'auto' }, 0), 'cpu');
    assert.equal(pick({ TRM_DEVICE: '' }, 0), 'cpu');
  });

  it('gives each process the GPU of its LOCAL_RANK (or SLURM_LOCALID)', () => {
    assert.equal(pick({}, 8), 'cuda:0');
    assert.equal(pick({ RANK: '13', WORLD_SIZE: '16', LOCAL_RANK: '5' }, 8), 'cuda:5');
    assert.equal(pick({ SLURM_PROCID: '9', SLURM_NTASKS: '16', SLURM_LOCALID: '1' }, 8), 'cuda:1');
    assert.equal(pick({ LOCAL_RANK: '2', TRM_DEVICE: 'cuda' }, 4), 'cuda:2');
  });

  it('takes TRM_DEVICE, and the device option over it', () => {
    assert.equal(pick({ TRM_DEVICE: 'cpu', LOCAL_RANK: '1' }, 8), 'cpu');
    assert.equal(pick({ TRM_DEVICE: 'cuda:3', LOCAL_RANK: '1' }, 8), 'cuda:3');
    assert.equal(pick({ TRM_DEVICE: 'cuda:3' }, 8, 'cpu'), 'cpu');
    assert.equal(pick({ TRM_DEVICE: 'cpu', LOCAL_RANK: '1' }, 8, 'cuda'), 'cuda:1');
    assert.equal(pick({}, 2, 'cuda:1'), 'cuda:1');
    assert.equal(pick({}, 0, 'cpu'), 'cpu');
  });

  it('with CUDA_VISIBLE_DEVICES narrowing each process, LOCAL_RANK wraps onto the visible GPUs', () => {
    assert.equal(pick({ LOCAL_RANK: '3', CUDA_VISIBLE_DEVICES: '3' }, 1), 'cuda:0');
    assert.equal(pick({ LOCAL_RANK: '5', CUDA_VISIBLE_DEVICES: '4,5' }, 2), 'cuda:1');
  });

  it('says clearly when CUDA is asked for but absent, or the GPU does not exist', () => {
    assert.throws(() => pick({ TRM_DEVICE: 'cuda' }, 0), (e: Error) => {
      assert.ok(e instanceof DeviceError);
      assert.match(e.message, /^TRM_DEVICE=cuda asks for a GPU, but this LibTorch sees no CUDA device .*Possible solutions: build the addon against a CUDA LibTorch .*or set TRM_DEVICE=cpu$/);
      return true;
    });
    assert.throws(() => pick({}, 0, 'cuda:0'), /^DeviceError: device=cuda:0 asks for a GPU, but this LibTorch sees no CUDA device/);
    assert.throws(() => pick({ TRM_DEVICE: 'cuda:2' }, 2), /TRM_DEVICE=cuda:2: there is no such GPU, this LibTorch sees 2 CUDA device\(s\) \(cuda:0 to cuda:1\)/);
    assert.throws(() => pick({ LOCAL_RANK: '8', RANK: '8', WORLD_SIZE: '9' }, 8), /LOCAL_RANK 8 has no GPU of its own: this machine shows 8 CUDA device\(s\)\. Start at most 8 process\(es\) per node \(--nproc-per-node 8\), or set TRM_DEVICE=cpu/);
  });

  it('rejects a device it does not know, naming where it came from', () => {
    for (const bad of ['gpu', 'CUDA', 'cuda:', 'cuda:x', 'cpu:0', 'cuda:-1', 'mps']) {
      assert.throws(() => pick({ TRM_DEVICE: bad }, 1), new RegExp(`^DeviceError: Expected 'cpu', 'cuda', 'cuda:N' or 'auto' for TRM_DEVICE but received '${bad}'$`));
    }
    assert.throws(() => pick({}, 1, 'tpu'), /for device but received 'tpu'/);
  });

  it('reads this build when no device count is given (a CPU build here: cpu, or a clear error)', () => {
    const { native } = require('../../lib/torch/native') as typeof import('../../lib/torch/native');
    if (native.buildInfo().cudaDeviceCount > 0) return;
    assert.equal(selectDevice({ env: {} }), 'cpu');
    assert.throws(() => selectDevice({ env: { TRM_DEVICE: 'cuda' } }), DeviceError);
  });
});

describe('distributed: backend by device', () => {
  it('NCCL for CUDA tensors, gloo for CPU ones', () => {
    assert.equal(backendFor('cpu', {}), 'gloo');
    assert.equal(backendFor('cuda:3', {}), 'nccl');
    assert.equal(backendFor('cuda:0', { TRM_DIST_BACKEND: 'nccl' }), 'nccl');
    assert.equal(backendFor('cpu', { TRM_DIST_BACKEND: 'gloo' }), 'gloo');
  });

  it('refuses a backend that cannot reduce the device, or an unknown one', () => {
    assert.throws(() => backendFor('cuda:0', { TRM_DIST_BACKEND: 'gloo' }), (e: Error) => {
      assert.ok(e instanceof DistributedError);
      assert.match(e.message, /^TRM_DIST_BACKEND=gloo cannot all-reduce tensors on cuda:0 \(gloo takes CPU tensors, nccl CUDA ones\): unset it to use nccl, or set TRM_DEVICE=cpu$/);
      return true;
    });
    assert.throws(() => backendFor('cpu', { TRM_DIST_BACKEND: 'nccl' }), /TRM_DIST_BACKEND=nccl cannot all-reduce tensors on cpu .*set TRM_DEVICE=cuda$/);
    assert.throws(() => backendFor('cpu', { TRM_DIST_BACKEND: 'mpi' }), /Expected 'gloo' or 'nccl' for TRM_DIST_BACKEND but received 'mpi'/);
  });
});

describe('distributed: a group\'s own device', () => {
  it('gloo stages object collectives on the CPU; a device that does not fit the backend is refused', async () => {
    const pg = await initProcessGroup({ backend: 'gloo', timeoutMs: 30000, env: { MASTER_PORT: '0' } });
    try {
      assert.equal(pg.device, 'cpu');
      assert.deepEqual(await pg.allGatherObject({ a: 1 }), [{ a: 1 }]);
      assert.deepEqual(await new ProcessGroupComm(pg).allReduceSum([1.5, Infinity]), [1.5, Infinity]);
    } finally {
      pg.destroy();
    }
    await assert.rejects(initProcessGroup({ backend: 'nccl', device: 'cpu', env: { MASTER_PORT: '0' } }), /^DistributedError: the nccl backend cannot reduce tensors on cpu/);
  });

  it('nccl on a build without CUDA fails before the rendezvous, naming the fix', async function () {
    const { native } = require('../../lib/torch/native') as typeof import('../../lib/torch/native');
    if (native.buildInfo().cudaDeviceCount > 0) this.skip();
    await assert.rejects(initProcessGroup({ backend: 'nccl', env: { MASTER_PORT: '0' } }), /^DistributedError: the nccl backend takes CUDA tensors, but this LibTorch sees no CUDA device .*use 'gloo'$/);
  });
});

describe('train: device option', () => {
  it('fails before training when the device cannot be had', async function () {
    const { native } = require('../../lib/torch/native') as typeof import('../../lib/torch/native');
    if (native.buildInfo().cudaDeviceCount > 0) this.skip();
    const root = tempDir('device');
    try {
      const config = tinyConfig(path.join(root, 'no-data-needed'), path.join(root, 'ckpt'));
      await assert.rejects(pretrain(config, { device: 'cuda', progressStream: null, log: () => {} }), (e: Error) => {
        assert.ok(e instanceof DeviceError);
        assert.match(e.message, /^device=cuda asks for a GPU/);
        return true;
      });
      assert.ok(!fs.existsSync(path.join(root, 'ckpt')), 'nothing written');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
