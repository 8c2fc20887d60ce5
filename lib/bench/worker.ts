// One side of one benchmark run, in a process of its own so that its peak RSS is its own:
// `node worker.js '{"config": {...}, "warmup": 2, "steps": 5}'` prints one JSON line (RunResult).
import * as torch from '../torch';
import type { BenchConfig } from './configs';
import { measureDataWait, type DataWait } from './data_wait';
import { matmulPeakGflops } from './peak';
import { measureSteps } from './train_step';

export interface WorkerRequest {
  config: BenchConfig;
  warmup: number;
  steps: number;
  threads?: number;
  /** Also time evaluation steps (default true). */
  evaluate?: boolean;
  /** Feed the training steps from this dataset and report the data wait instead of timing. */
  dataPath?: string;
}

export interface RunResult {
  train: number[];
  eval: number[];
  maxRssMb: number;
  threads: number;
  /** The matmul peak for the config's dtype, measured in this process right after the steps. */
  peakGflops?: number;
  dataWait?: DataWait;
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2]) as WorkerRequest;
  torch.setNumThreads(request.threads ?? torch.defaultThreads());
  const dataWait = request.dataPath ? await measureDataWait(request.config, request.dataPath, request) : undefined;
  const times = dataWait ? { train: [], eval: [] } : await measureSteps(request.config, request);
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  const peakGflops = dataWait ? undefined : matmulPeakGflops(request.config.dtype);
  const result: RunResult = { ...times, dataWait, peakGflops, maxRssMb, threads: torch.getNumThreads() };
  console.log(JSON.stringify(result));
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
