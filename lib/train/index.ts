// Training: the pretraining loop and what it writes.
export { pretrain, TrainingError } from './pretrain';
export type { PretrainOptions, PretrainResult } from './pretrain';
export { saveModelCheckpoint, loadModelCheckpoint, latestCheckpoint, COMPILED_PREFIX } from './checkpoint';
export type { Comm, BatchSource, BatchItem } from './types';
export { SINGLE_PROCESS } from './types';
export { EventWriter, readEventFile } from './tensorboard';
export { MetricsLog, readMetrics } from './metrics_log';
