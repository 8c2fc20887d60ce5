// Loads the native addon once. What the thread pools and BLAS read when they load must be in the
// environment first: how OpenMP's threads wait (threadWaitDefaults) and OPENBLAS_CORETYPE
// (blas_env.ts).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chooseOpenblasKernels } from './blas_env';
import { TorchError } from './errors';

export interface OpArg {
  name: string;
  type: string;
  realType: string;
  kwargOnly: boolean;
  hasDefault: boolean;
  mutates: boolean;
}

export interface OpInfo {
  handle: number;
  schema: string;
  args: OpArg[];
  returns: OpArg[];
}

/** An opaque c10d process group (native/distributed.cc). */
export type ProcessGroupHandle = { readonly __processGroup: true };

/** What native/distributed.cc needs to join a group as torch.distributed's env:// does. */
export interface NativeGroupOptions {
  backend: 'gloo' | 'nccl';
  masterAddr: string;
  masterPort: number;
  rank: number;
  worldSize: number;
  timeoutMs: number;
  /** This process hosts the TCPStore (rank 0, unless an agent hosts it). */
  hostStore: boolean;
  /** The agent store's prefix ("/worker/attempt_N"), or '' for a store of our own. */
  storePrefix: string;
  glooInterfaces?: string[];
  glooHostname?: string;
}

/** An opaque TorchScript compilation unit or module (native/jit.cc). */
export type JitHandle = { readonly __jit: true };

/** A TorchScript function's or method's signature (`self` left out); types as TorchScript writes them. */
export interface JitFunctionInfo {
  name: string;
  schema: string;
  args: { name: string; type: string; hasDefault: boolean }[];
  returns: string[];
}

/** One output of native/data.cc's gatherRows (see lib/torch/mmap.ts). */
export interface NativeRowGather {
  source: number;
  index: Int32Array;
  rows: number;
  fill: number;
  replace?: [number, number];
}

/** Turns a returned tensor handle into a Tensor (tracked by the current scope). */
export type JitWrap = (id: number) => unknown;

/** The addon's surface (native/*.cc). Tensors are integer handles into a native table. */
export interface Native {
  setErrorClass(ctor: typeof TorchError): void;
  fromBuffer(data: ArrayBufferView, dtype: string, shape: number[]): number;
  toArrayBuffer(id: number): ArrayBuffer;
  dispose(id: number): void;
  shape(id: number): number[];
  strides(id: number): number[];
  dim(id: number): number;
  numel(id: number): number;
  dtype(id: number): string;
  device(id: number): string;
  isContiguous(id: number): boolean;
  sameStorage(a: number, b: number): boolean;
  memory(): { tensors: number; bytes: number };
  findOp(name: string, overload: string): OpInfo | null;
  overloads(name: string): string[];
  allOps(): string[];
  call(handle: number, ...args: unknown[]): unknown;
  backward(id: number, grad: number | null, retainGraph: boolean, createGraph: boolean): void;
  grad(id: number): number | null;
  setGrad(id: number, grad: number | null): void;
  requiresGrad(id: number): boolean;
  setRequiresGrad(id: number, flag: boolean): void;
  isLeaf(id: number): boolean;
  retainGrad(id: number): void;
  gradFn(id: number): string | null;
  isGradEnabled(): boolean;
  setGradEnabled(flag: boolean): void;
  enterInferenceMode(flag: boolean): void;
  exitInferenceMode(): void;
  isInferenceModeEnabled(): boolean;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  manualSeed(seed: number): void;
  getRngState(): number;
  setRngState(id: number): void;
  mmapFile(path: string, byteOffset: number, dtype: string, shape: number[]): number;
  gatherRows(gathers: NativeRowGather[], dtype: string): Promise<{ tensors: number[]; seconds: number }>;
  buildInfo(): import('./runtime').BuildInfo;
  // native/kernels.cc: fused autograd kernels of the reasoning blocks.
  fusedKernelsSupported(): boolean;
  fusedRmsNorm(x: number, residual: number | null, eps: number): number;
  fusedSwiGLU(gateUp: number): number;
  fusedAttention(qkv: number, numHeads: number, numKvHeads: number, cos: number | null, sin: number | null, scale: number, dtype: string): number;
  fusedMlp(x: number, gateUpWeight: number, downWeight: number): number;
  amxSupported(): boolean;
  // native/distributed.cc: a process group is an opaque handle; `async` picks a Promise over blocking.
  initProcessGroup(options: NativeGroupOptions, async: boolean): ProcessGroupHandle | Promise<ProcessGroupHandle>;
  pgAllReduce(pg: ProcessGroupHandle, tensors: number[], op: string, timeoutMs: number, async: boolean): void | Promise<void>;
  pgBroadcast(pg: ProcessGroupHandle, tensors: number[], root: number, timeoutMs: number, async: boolean): void | Promise<void>;
  pgReduce(pg: ProcessGroupHandle, tensor: number, root: number, op: string, timeoutMs: number, async: boolean): void | Promise<void>;
  pgAllGather(pg: ProcessGroupHandle, tensor: number, intoOne: boolean, timeoutMs: number, async: boolean): number | number[] | Promise<number | number[]>;
  pgBarrier(pg: ProcessGroupHandle, timeoutMs: number, async: boolean): void | Promise<void>;
  pgInfo(pg: ProcessGroupHandle): { rank: number; worldSize: number; backend: string; destroyed: boolean; failure: string | null };
  destroyProcessGroup(pg: ProcessGroupHandle): void;
  // native/jit.cc: TorchScript; tensors in arguments are handles, results come back through `wrap`.
  jitCompile(source: string): { handle: JitHandle; functions: JitFunctionInfo[] };
  jitFunctions(handle: JitHandle): JitFunctionInfo[];
  jitCall(handle: JitHandle, name: string, args: unknown[], kwargs: Record<string, unknown> | undefined, wrap: JitWrap): unknown;
  jitCallAsync(handle: JitHandle, name: string, args: unknown[], kwargs: Record<string, unknown> | undefined, wrap: JitWrap): Promise<unknown>;
  jitLoad(path: string, device?: string): JitHandle;
  jitLoadAsync(path: string, device?: string): Promise<JitHandle>;
  jitNamedTensors(handle: JitHandle, kind: 'parameters' | 'buffers', recurse: boolean, wrap: JitWrap): [string, unknown][];
  jitTrain(handle: JitHandle, on?: boolean): boolean;
  jitTo(handle: JitHandle, dtype: string | null, device: string | null): void;
  jitSave(handle: JitHandle, path: string): void;
  jitAttr(handle: JitHandle, name: string, wrap: JitWrap): unknown;
  jitBuildModule(className: string, parameters: [string, number][], buffers: [string, number][], attributes: Record<string, number | boolean | string>, source: string): JitHandle;
  [fused: string]: unknown;
}

/** The package root: dist/lib/torch -> ../../.. */
export const packageRoot = path.resolve(__dirname, '..', '..', '..');

function candidates(): string[] {
  const list = [];
  if (process.env.TRM_NATIVE) list.push(path.resolve(process.env.TRM_NATIVE));
  list.push(path.join(packageRoot, 'build', 'Release', 'trm_native.node'));
  list.push(path.join(packageRoot, 'build-cmake', 'Release', 'trm_native.node'));
  return list;
}

/** OMP_WAIT_POLICY and GOMP_SPINCOUNT as the caller set them, before threadWaitDefaults. */
export const callerThreadWait = { OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY, GOMP_SPINCOUNT: process.env.GOMP_SPINCOUNT };

/**
 * How OpenMP's threads wait between parallel regions, where the user has not said (libgomp reads it
 * once, when it loads): passive, since with its default 3 ms of spinning 2 threads ran slower than
 * 1 (SPEC §11), but spinning briefly first (GOMP_SPINCOUNT=30000, well under a millisecond). A
 * worker asleep when the next op starts must be woken through the kernel, hundreds of times a
 * step: B's step took 5–9% less time with the short spin, A's too.
 */
function threadWaitDefaults(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.OMP_WAIT_POLICY !== undefined) return {};
  return { OMP_WAIT_POLICY: 'PASSIVE', GOMP_SPINCOUNT: env.GOMP_SPINCOUNT ?? '30000' };
}

function load(): Native {
  Object.assign(process.env, threadWaitDefaults(process.env));
  chooseOpenblasKernels();
  const tried = candidates();
  const found = tried.find((p) => fs.existsSync(p));
  if (!found) {
    throw new TorchError(
      'the native addon is not built. Looked for:\n' +
        tried.map((p) => `  - ${p}`).join('\n') +
        '\nPossible solutions: run `npm install` (or `npm run build`) in ' + packageRoot +
        ', or set TRM_NATIVE to a built trm_native.node'
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const addon = require(found) as Native;
  addon.setErrorClass(TorchError);
  // Threads: every core this process may use, unless OMP_NUM_THREADS says otherwise (LibTorch's
  // own default counted 1 on this 2-core machine). One count for both pools (OpenBLAS keeps its
  // own pthreads, all cores by default, spinning between GEMMs), unless OPENBLAS_NUM_THREADS is set.
  addon.setNumThreads(process.env.OMP_NUM_THREADS === undefined ? os.availableParallelism() : addon.getNumThreads());
  return addon;
}

export const native: Native = load();
