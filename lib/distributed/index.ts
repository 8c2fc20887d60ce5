// Distributed training: torchrun's env contract, the device each process trains on, c10d process
// groups, the trainer's Comm and the `trm-train --nproc-per-node` launcher.
export { readDistEnv, isDistributedLaunch, firstSlurmHost, DistributedError } from './env';
export type { DistEnv } from './env';
export { initProcessGroup, initProcessGroupSync, defaultProcessGroup, ProcessGroup, DEFAULT_TIMEOUT_MS } from './process_group';
export type { Backend, ReduceOp, InitOptions, CollectiveOptions } from './process_group';
export { ProcessGroupComm } from './comm';
export { selectDevice, backendFor, DeviceError } from './device';
export type { DeviceRequest } from './device';
