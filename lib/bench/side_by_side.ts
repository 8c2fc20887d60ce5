// Runs each configuration on both sides in alternating rounds (ours, reference, reference, ours, …),
// each run a fresh process, and reduces them to medians and ratios.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { defaultThreads } from '../torch/runtime';
import type { BenchConfig } from './configs';
import { evalStepFlops, trainStepFlops } from './flops';
import { PYTHON, referenceEnv } from './python';
import type { RunResult, WorkerRequest } from './worker';

export interface SideFigures {
  stepsPerSecond: number;
  tokensPerSecond: number;
  gflops: number;
  evalStepsPerSecond: number;
  evalGflops: number;
  peakRssMb: number;
  /** The matmul peak measured beside the steps (median over rounds; ours only). */
  peakGflops: number | null;
  /** That peak in each round (ours only): it moved between about 600 and 1,500 GFLOP/s in bf16 here. */
  roundPeaks: number[] | null;
  /** Median step time of each round, in seconds. */
  roundMedians: number[];
}

export interface SideBySide {
  config: BenchConfig;
  /** Default mode: the fused native kernels (our counterpart of torch.compile). */
  ours: SideFigures;
  /** DISABLE_COMPILE=1: the composed ATen ops, eager (null when not run). */
  oursEager: SideFigures | null;
  reference: SideFigures | null;
  referenceError?: string;
  /** Reference step time / ours (higher is better for us), training and evaluation. */
  ratio: number | null;
  evalRatio: number | null;
}

export interface RunOptions {
  rounds: number;
  warmup: number;
  steps: number;
  threads?: number;
  /** trm_ref.py; null skips the reference. */
  reference: string | null;
  /** Also run ours with DISABLE_COMPILE=1. */
  eager?: boolean;
  log?: (line: string) => void;
}

/** Where the PyTorch reference lives: TRM_REFERENCE, else ../shared/reference beside the checkout. */
export function findReference(): string | null {
  const candidates = [process.env.TRM_REFERENCE, path.resolve(__dirname, '../../../../shared/reference/trm_ref.py')];
  return candidates.find((p): p is string => !!p && fs.existsSync(p)) ?? null;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function parseLast(stdout: string): RunResult {
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as RunResult;
}

/** Each side runs with its best thread settings unless the caller set them: ours with the
 *  package's (threadWaitDefaults: this process's environment), the reference's (referenceEnv). */
export function runOurs(request: WorkerRequest, env: NodeJS.ProcessEnv = {}): RunResult {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'worker.js'), JSON.stringify(request)], {
    encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`benchmark worker failed for ${request.config.id}: ${r.stderr.trim() || r.error?.message}`);
  return parseLast(r.stdout);
}

export function runReference(reference: string, request: WorkerRequest): RunResult {
  const script = path.resolve(__dirname, '../../../lib/bench/reference_bench.py');
  const args = [script, reference, JSON.stringify(request.config), String(request.warmup), String(request.steps), String(request.threads ?? defaultThreads())];
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', env: referenceEnv(), maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(r.error?.message ?? r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
  return parseLast(r.stdout);
}

function figures(c: BenchConfig, runs: RunResult[]): SideFigures {
  const roundMedians = runs.map((r) => median(r.train));
  const step = median(roundMedians);
  const evalStep = median(runs.map((r) => median(r.eval)));
  return {
    stepsPerSecond: 1 / step,
    tokensPerSecond: (c.batch * c.seq) / step,
    gflops: trainStepFlops(c) / step / 1e9,
    evalStepsPerSecond: 1 / evalStep,
    evalGflops: evalStepFlops(c) / evalStep / 1e9,
    peakRssMb: Math.max(...runs.map((r) => r.maxRssMb)),
    peakGflops: runs.every((r) => r.peakGflops) ? median(runs.map((r) => r.peakGflops!)) : null,
    roundPeaks: runs.every((r) => r.peakGflops) ? runs.map((r) => r.peakGflops!) : null,
    roundMedians,
  };
}

export function sideBySide(c: BenchConfig, o: RunOptions): SideBySide {
  const request: WorkerRequest = { config: c, warmup: o.warmup, steps: o.steps, threads: o.threads };
  const ours: RunResult[] = [];
  const reference: RunResult[] = [];
  let referenceError: string | undefined = o.reference ? undefined : 'trm_ref.py not found (set TRM_REFERENCE)';
  const runRef = () => {
    if (referenceError) return;
    try {
      reference.push(runReference(o.reference!, request));
      o.log?.(`  ${c.id} reference round ${reference.length}: ${median(reference[reference.length - 1].train).toFixed(3)} s/step`);
    } catch (e) {
      referenceError = (e as Error).message;
    }
  };
  const eager: RunResult[] = [];
  const runOwn = () => {
    ours.push(runOurs(request, { DISABLE_COMPILE: '0' }));
    const last = ours[ours.length - 1];
    o.log?.(`  ${c.id} ours      round ${ours.length}: ${median(last.train).toFixed(3)} s/step, matmul peak ${last.peakGflops?.toFixed(0) ?? '—'} GFLOP/s`);
    if (!o.eager) return;
    eager.push(runOurs(request, { DISABLE_COMPILE: '1' }));
    o.log?.(`  ${c.id} ours eager round ${eager.length}: ${median(eager[eager.length - 1].train).toFixed(3)} s/step`);
  };
  for (let round = 0; round < o.rounds; round++) {
    if (round % 2 === 0) {
      runOwn();
      runRef();
    } else {
      runRef();
      runOwn();
    }
  }
  const oursFig = figures(c, ours);
  const refFig = reference.length && !referenceError ? figures(c, reference) : null;
  return {
    config: c,
    ours: oursFig,
    oursEager: eager.length ? figures(c, eager) : null,
    reference: refFig,
    referenceError,
    ratio: refFig ? oursFig.stepsPerSecond / refFig.stepsPerSecond : null,
    evalRatio: refFig ? oursFig.evalStepsPerSecond / refFig.evalStepsPerSecond : null,
  };
}
