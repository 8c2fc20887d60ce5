// Which device a process trains on, and which c10d backend can all-reduce its tensors: one process
// per GPU as torchrun runs them (LOCAL_RANK picks the GPU), the CPU on builds without CUDA, and
// TRM_DEVICE ('cpu', 'cuda', 'cuda:N') or a `device` option to choose.
import type { Backend } from './process_group';
import { DistributedError, readDistEnv } from './env';

/** A device was asked for that this LibTorch build or machine does not have. */
export class DeviceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceError';
  }
}

export interface DeviceRequest {
  /** Where TRM_DEVICE, LOCAL_RANK (or SLURM_LOCALID) and CUDA_VISIBLE_DEVICES are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** CUDA devices this LibTorch sees (default: the addon's buildInfo().cudaDeviceCount). */
  cudaDeviceCount?: number;
  /** 'cpu', 'cuda', 'cuda:N' or 'auto'; wins over TRM_DEVICE. */
  override?: string;
}

const FORM = /^(cpu|auto|cuda)(?::(\d+))?$/;

function nativeCudaDeviceCount(): number {
  return (require('../torch/native') as typeof import('../torch/native')).native.buildInfo().cudaDeviceCount;
}

/**
 * The device string this process trains on. Unset or 'auto': `cuda:${LOCAL_RANK}` when LibTorch
 * sees CUDA devices, else 'cpu'. 'cuda' is `cuda:${LOCAL_RANK}` too, but an error without a GPU;
 * 'cuda:N' is that GPU. A LOCAL_RANK past the visible GPUs is an error, unless CUDA_VISIBLE_DEVICES
 * is set (a launcher that gives each process its own GPUs): then `LOCAL_RANK % count`.
 */
export function selectDevice(request: DeviceRequest = {}): string {
  const env = request.env ?? process.env;
  const fromOption = request.override !== undefined && request.override !== '';
  const raw = fromOption ? request.override! : env.TRM_DEVICE ?? '';
  const source = fromOption ? 'device' : 'TRM_DEVICE';
  const m = FORM.exec(raw === '' ? 'auto' : raw);
  if (!m || (m[1] !== 'cuda' && m[2] !== undefined)) {
    throw new DeviceError(`Expected 'cpu', 'cuda', 'cuda:N' or 'auto' for ${source} but received '${raw}'`);
  }
  const kind = m[1];
  if (kind === 'cpu') return 'cpu';
  const count = request.cudaDeviceCount ?? nativeCudaDeviceCount();
  if (count <= 0) {
    if (kind === 'auto') return 'cpu';
    throw new DeviceError(
      `${source}=${raw} asks for a GPU, but this LibTorch sees no CUDA device (a CPU-only build, or no GPU visible: ` +
        'check nvidia-smi and CUDA_VISIBLE_DEVICES). Possible solutions: build the addon against a CUDA LibTorch ' +
        `(LIBTORCH=/path/to/libtorch or TRM_LIBTORCH=python, then node bin/setup.js), or set ${source}=cpu`
    );
  }
  if (m[2] !== undefined) {
    const index = Number(m[2]);
    if (index >= count) throw new DeviceError(`${source}=${raw}: there is no such GPU, this LibTorch sees ${count} CUDA device(s) (cuda:0 to cuda:${count - 1})`);
    return `cuda:${index}`;
  }
  const localRank = readDistEnv(env).localRank;
  if (localRank < count) return `cuda:${localRank}`;
  if (env.CUDA_VISIBLE_DEVICES) return `cuda:${localRank % count}`;
  throw new DeviceError(
    `LOCAL_RANK ${localRank} has no GPU of its own: this machine shows ${count} CUDA device(s). ` +
      `Start at most ${count} process(es) per node (--nproc-per-node ${count}), or set TRM_DEVICE=cpu`
  );
}

/**
 * The process-group backend for tensors on `device`: NCCL for CUDA, gloo for the CPU (gloo cannot
 * all-reduce CUDA tensors, nor NCCL CPU ones). TRM_DIST_BACKEND may name it, but not a mismatch.
 */
export function backendFor(device: string, env: NodeJS.ProcessEnv = process.env): Backend {
  const natural: Backend = device.startsWith('cuda') ? 'nccl' : 'gloo';
  const chosen = env.TRM_DIST_BACKEND;
  if (chosen === undefined || chosen === '') return natural;
  if (chosen !== 'gloo' && chosen !== 'nccl') {
    throw new DistributedError(`Expected 'gloo' or 'nccl' for TRM_DIST_BACKEND but received '${chosen}'`);
  }
  if (chosen !== natural) {
    throw new DistributedError(
      `TRM_DIST_BACKEND=${chosen} cannot all-reduce tensors on ${device} (gloo takes CPU tensors, nccl CUDA ones): ` +
        `unset it to use ${natural}, or set TRM_DEVICE=${chosen === 'nccl' ? 'cuda' : 'cpu'}`
    );
  }
  return chosen;
}
