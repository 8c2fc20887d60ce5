// One side of one benchmark run, in a process of its own so that its peak RSS is its own:
// `node worker.js '{"config": {...}, "warmup": 2, "steps": 5}'` prints one JSON line (RunResult).
import * as torch from '../torch';
import type { BenchConfig } from './configs';
import { measureSteps } from './train_step';

export interface WorkerRequest {
  config: BenchConfig;
  warmup: number;
  steps: number;
  threads?: number;
}

export interface RunResult {
  train: number[];
  eval: number[];
  maxRssMb: number;
  threads: number;
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2]) as WorkerRequest;
  torch.setNumThreads(request.threads ?? torch.defaultThreads());
  const times = await measureSteps(request.config, request);
  const result: RunResult = { ...times, maxRssMb: process.resourceUsage().maxRSS / 1024, threads: torch.getNumThreads() };
  console.log(JSON.stringify(result));
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
