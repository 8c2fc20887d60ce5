// Process-wide settings: threads, seeding and RNG state, and what this LibTorch build offers.
import * as os from 'os';
import { native } from './native';
import { Tensor } from './tensor';

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`Expected a positive integer for threads but received ${n}`);
  native.setNumThreads(n);
}

export const getNumThreads = (): number => native.getNumThreads();

/** Seeds LibTorch's default generator (rand, randn, randint, dropout, ...). */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new TypeError(`Expected a non-negative integer for seed but received ${seed}`);
  native.manualSeed(seed);
}

/** The default CPU generator's state (a uint8 tensor), for exact resume. */
export const getRngState = (): Tensor => new Tensor(native.getRngState());
export const setRngState = (state: Tensor): void => native.setRngState(state.handle);

export interface BuildInfo {
  torchVersion: string;
  cuda: boolean;
  cudaDeviceCount: number;
  nccl: boolean;
  parallelInfo: string;
  /** Who runs float32 matrix products: 'onednn' (default, see native/gemm.cc) or 'blas' (TRM_GEMM=blas). */
  float32Gemm: 'onednn' | 'blas';
  /** Float32 GEMMs LibTorch has made so far in this process. */
  float32GemmCalls: number;
}

export const buildInfo = (): BuildInfo => native.buildInfo();
export const cudaIsAvailable = (): boolean => native.buildInfo().cudaDeviceCount > 0;

/** Threads default to the cores this process may use (LibTorch's own default can oversubscribe). */
export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}
