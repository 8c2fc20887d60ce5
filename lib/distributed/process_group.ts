// Process groups over LibTorch's c10d: joining one the way torch.distributed's env:// does (so
// Node and Python ranks can share it), and collectives on Tensors and on JSON-able objects.
import { native, ProcessGroupHandle } from '../torch/native';
import { Tensor } from '../torch/tensor';
import * as torch from '../torch';
import { DistributedError, readDistEnv } from './env';
import { backendFor, selectDevice } from './device';

export type Backend = 'gloo' | 'nccl';
export type ReduceOp = 'sum' | 'avg' | 'max' | 'min' | 'product';

/** torch.distributed's default (30 min); TRM_DIST_TIMEOUT_MS overrides it. */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

export interface InitOptions {
  backend?: Backend;
  /** 'env://' (default: MASTER_ADDR/MASTER_PORT) or 'tcp://host:port'. */
  initMethod?: string;
  rank?: number;
  worldSize?: number;
  /** Rendezvous and every collective's limit; a stalled peer fails the call after this long. */
  timeoutMs?: number;
  /** The environment to read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Where the group's own small tensors live (object collectives, the trainer's metric sums):
   * default 'cpu' for gloo, this process's GPU (selectDevice's 'cuda') for nccl.
   */
  device?: string;
}

export interface CollectiveOptions {
  /** This call's limit (default: the group's). */
  timeoutMs?: number;
}

const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'avg', 'max', 'min', 'product'];

function checkTimeout(ms: number | undefined, fallback: number): number {
  if (ms === undefined) return fallback;
  if (typeof ms !== 'number' || !(ms > 0)) throw new TypeError(`Expected a positive number of milliseconds for timeoutMs but received ${ms}`);
  return ms;
}

function checkOp(op: string): ReduceOp {
  if (!REDUCE_OPS.includes(op as ReduceOp)) throw new TypeError(`Expected one of ${REDUCE_OPS.join(', ')} for op but received '${op}'`);
  return op as ReduceOp;
}

function tensorList(tensors: Tensor | Tensor[]): Tensor[] {
  const list = Array.isArray(tensors) ? tensors : [tensors];
  for (const t of list) if (!(t instanceof Tensor)) throw new TypeError('Expected a Tensor or an array of Tensors');
  return list;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The native options for joining: rank 0 hosts the store unless torchelastic's agent does. */
function nativeOptions(options: InitOptions) {
  const env = options.env ?? process.env;
  const d = readDistEnv(env);
  let masterAddr = d.masterAddr;
  let masterPort = d.masterPort;
  const method = options.initMethod ?? 'env://';
  if (method.startsWith('tcp://')) {
    const m = /^tcp:\/\/\[?([^\]]+?)\]?:(\d+)\/?$/.exec(method);
    if (!m) throw new DistributedError(`Expected initMethod 'tcp://host:port' but received '${method}'`);
    masterAddr = m[1];
    masterPort = Number(m[2]);
  } else if (method !== 'env://') {
    throw new DistributedError(`Expected initMethod 'env://' or 'tcp://host:port' but received '${method}'`);
  }
  const rank = options.rank ?? d.rank;
  const worldSize = options.worldSize ?? d.worldSize;
  if (!Number.isInteger(worldSize) || worldSize < 1) throw new DistributedError(`Expected a positive integer for worldSize but received ${worldSize}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new DistributedError(`Expected rank in 0..${worldSize - 1} but received ${rank}`);
  const backend = options.backend ?? 'gloo';
  if (backend !== 'gloo' && backend !== 'nccl') throw new DistributedError(`Expected 'gloo' or 'nccl' for backend but received '${backend}'`);
  const envTimeout = env.TRM_DIST_TIMEOUT_MS !== undefined ? Number(env.TRM_DIST_TIMEOUT_MS) : undefined;
  const timeoutMs = checkTimeout(options.timeoutMs ?? envTimeout, DEFAULT_TIMEOUT_MS);
  const ifnames = (env.GLOO_SOCKET_IFNAME ?? '').split(',').filter(Boolean);
  return {
    backend,
    masterAddr,
    masterPort,
    rank,
    worldSize,
    timeoutMs,
    hostStore: rank === 0 && !d.useAgentStore,
    storePrefix: d.useAgentStore ? `/worker/attempt_${d.restartCount}` : '',
    glooInterfaces: ifnames,
    // On loopback, bind gloo to 127.0.0.1 rather than whatever the hostname resolves to.
    glooHostname: ifnames.length === 0 && isLoopback(masterAddr) ? '127.0.0.1' : '',
  };
}

/**
 * One c10d process group. Every collective exists as a Promise (waited on off the JS thread) and
 * as a blocking `…Sync` form. A failed collective (a dead peer, a timeout) throws a TorchError
 * and leaves the group dead: later calls throw at once; every rank must start again.
 */
export class ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly backend: Backend;
  readonly timeoutMs: number;
  /** Where the group's own tensors (object collectives) are made: 'cpu' for gloo, a GPU for nccl. */
  readonly device: string;
  /** @internal */
  readonly handle: ProcessGroupHandle;

  /** @internal use initProcessGroup */
  constructor(handle: ProcessGroupHandle, timeoutMs: number, device = 'cpu') {
    const info = native.pgInfo(handle);
    this.handle = handle;
    this.rank = info.rank;
    this.worldSize = info.worldSize;
    this.backend = info.backend as Backend;
    this.timeoutMs = timeoutMs;
    this.device = device;
  }

  /** The first failure that killed the group, or null. */
  get failure(): string | null {
    return native.pgInfo(this.handle).failure;
  }

  private ms(o?: CollectiveOptions): number {
    return checkTimeout(o?.timeoutMs, this.timeoutMs);
  }

  /** Reduces `tensors` in place across ranks (one collective per dtype). */
  async allReduce(tensors: Tensor | Tensor[], op: ReduceOp = 'sum', o?: CollectiveOptions): Promise<void> {
    const list = tensorList(tensors);
    if (list.length) await native.pgAllReduce(this.handle, list.map((t) => t.handle), checkOp(op), this.ms(o), true);
  }

  allReduceSync(tensors: Tensor | Tensor[], op: ReduceOp = 'sum', o?: CollectiveOptions): void {
    const list = tensorList(tensors);
    if (list.length) native.pgAllReduce(this.handle, list.map((t) => t.handle), checkOp(op), this.ms(o), false);
  }

  /** Overwrites `tensors` with rank `src`'s. */
  async broadcast(tensors: Tensor | Tensor[], src = 0, o?: CollectiveOptions): Promise<void> {
    const list = tensorList(tensors);
    if (list.length) await native.pgBroadcast(this.handle, list.map((t) => t.handle), src, this.ms(o), true);
  }

  broadcastSync(tensors: Tensor | Tensor[], src = 0, o?: CollectiveOptions): void {
    const list = tensorList(tensors);
    if (list.length) native.pgBroadcast(this.handle, list.map((t) => t.handle), src, this.ms(o), false);
  }

  /** Reduces onto rank `dst`'s tensor; the others' are left unchanged. */
  async reduce(tensor: Tensor, dst = 0, op: ReduceOp = 'sum', o?: CollectiveOptions): Promise<void> {
    await native.pgReduce(this.handle, tensorList(tensor)[0].handle, dst, checkOp(op), this.ms(o), true);
  }

  reduceSync(tensor: Tensor, dst = 0, op: ReduceOp = 'sum', o?: CollectiveOptions): void {
    native.pgReduce(this.handle, tensorList(tensor)[0].handle, dst, checkOp(op), this.ms(o), false);
  }

  /** Every rank's tensor (same shape and dtype on all ranks), in rank order. */
  async allGather(tensor: Tensor, o?: CollectiveOptions): Promise<Tensor[]> {
    const ids = (await native.pgAllGather(this.handle, tensorList(tensor)[0].handle, false, this.ms(o), true)) as number[];
    return ids.map((id) => new Tensor(id));
  }

  allGatherSync(tensor: Tensor, o?: CollectiveOptions): Tensor[] {
    const ids = native.pgAllGather(this.handle, tensorList(tensor)[0].handle, false, this.ms(o), false) as number[];
    return ids.map((id) => new Tensor(id));
  }

  /** Every rank's tensor concatenated along dim 0 ([N, …] → [worldSize·N, …]), as all_gather_into_tensor. */
  async allGatherIntoTensor(tensor: Tensor, o?: CollectiveOptions): Promise<Tensor> {
    return new Tensor((await native.pgAllGather(this.handle, tensorList(tensor)[0].handle, true, this.ms(o), true)) as number);
  }

  allGatherIntoTensorSync(tensor: Tensor, o?: CollectiveOptions): Tensor {
    return new Tensor(native.pgAllGather(this.handle, tensorList(tensor)[0].handle, true, this.ms(o), false) as number);
  }

  async barrier(o?: CollectiveOptions): Promise<void> {
    await native.pgBarrier(this.handle, this.ms(o), true);
  }

  barrierSync(o?: CollectiveOptions): void {
    native.pgBarrier(this.handle, this.ms(o), false);
  }

  /** Every rank's JSON-able value, in rank order. */
  async allGatherObject<T>(value: T, o?: CollectiveOptions): Promise<T[]> {
    const bytes = encode(value);
    const length = torch.tensor([bytes.length], { dtype: 'int64', device: this.device });
    const lengths = await this.allGatherIntoTensor(length, o);
    const sizes = lengths.toArray();
    length.dispose();
    lengths.dispose();
    const max = Math.max(...sizes, 1);
    const padded = new Uint8Array(max);
    padded.set(bytes);
    const local = torch.tensor(padded, { dtype: 'uint8', device: this.device });
    const all = await this.allGatherIntoTensor(local, o);
    const data = all.toTypedArray() as Uint8Array;
    local.dispose();
    all.dispose();
    return sizes.map((n, r) => decode(data.subarray(r * max, r * max + n)) as T);
  }

  /** Every rank's JSON-able value on rank `dst` (null elsewhere). */
  async gatherObject<T>(value: T, dst = 0, o?: CollectiveOptions): Promise<T[] | null> {
    const all = await this.allGatherObject(value, o);
    return this.rank === dst ? all : null;
  }

  /** Rank `src`'s JSON-able value on every rank (`value` is ignored elsewhere). */
  async broadcastObject<T>(value: T, src = 0, o?: CollectiveOptions): Promise<T> {
    const bytes = this.rank === src ? encode(value) : new Uint8Array(0);
    const length = torch.tensor([bytes.length], { dtype: 'int64', device: this.device });
    await this.broadcast(length, src, o);
    const n = length.toArray()[0];
    length.dispose();
    const buf = new Uint8Array(Math.max(n, 1));
    buf.set(bytes);
    const t = torch.tensor(buf, { dtype: 'uint8', device: this.device });
    await this.broadcast(t, src, o);
    const out = decode((t.toTypedArray() as Uint8Array).subarray(0, n)) as T;
    t.dispose();
    return out;
  }

  /** Releases the group now (idempotent). Later calls on it throw. */
  destroy(): void {
    native.destroyProcessGroup(this.handle);
    if (defaultGroup === this) defaultGroup = null;
  }
}

function encode(value: unknown): Uint8Array {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('Expected a JSON-able value');
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

function decode(bytes: Uint8Array): unknown {
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

let defaultGroup: ProcessGroup | null = null;

/** The group the last initProcessGroup made, or null. */
export function defaultProcessGroup(): ProcessGroup | null {
  return defaultGroup;
}

/**
 * Joins (or, on rank 0, hosts) a group the way `torch.distributed.init_process_group(backend,
 * init_method='env://')` does: same store, same keys, same barrier, so Python ranks can join it.
 * Resolves once every rank has joined; rejects after `timeoutMs`.
 */
export async function initProcessGroup(options: InitOptions = {}): Promise<ProcessGroup> {
  const o = nativeOptions(options);
  const device = groupDevice(o.backend, options);
  const handle = await native.initProcessGroup(o, true);
  defaultGroup = new ProcessGroup(handle, o.timeoutMs, device);
  return defaultGroup;
}

/** initProcessGroup, blocking the JS thread until every rank has joined. */
export function initProcessGroupSync(options: InitOptions = {}): ProcessGroup {
  const o = nativeOptions(options);
  const device = groupDevice(o.backend, options);
  const handle = native.initProcessGroup(o, false) as ProcessGroupHandle;
  defaultGroup = new ProcessGroup(handle, o.timeoutMs, device);
  return defaultGroup;
}

/** The device of a group's own tensors: as given, else the CPU for gloo and this process's GPU for nccl. */
function groupDevice(backend: Backend, options: InitOptions): string {
  if (options.device !== undefined) {
    const device = selectDevice({ override: options.device, env: options.env });
    if (backendFor(device, {}) !== backend) throw new DistributedError(`the ${backend} backend cannot reduce tensors on ${device} (gloo takes CPU tensors, nccl CUDA ones)`);
    return device;
  }
  if (backend === 'gloo') return 'cpu';
  if (!torch.cudaIsAvailable()) {
    throw new DistributedError("the nccl backend takes CUDA tensors, but this LibTorch sees no CUDA device (a CPU-only build, or no GPU visible); use 'gloo'");
  }
  return selectDevice({ override: 'cuda', env: options.env });
}
