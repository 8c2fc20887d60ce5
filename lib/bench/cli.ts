// `npm run bench` / `trm bench`: the boundary cost, configurations A–E side by side with the
// PyTorch reference, the matmul peaks, the scaling sweep (table + SVG plot), and optionally JSON.
import * as fs from 'fs';
import * as path from 'path';
import { buildInfo, defaultThreads } from '../torch/runtime';
import { measureBoundary } from './boundary';
import { CONFIGS } from './configs';
import { chartSvg } from './plot';
import { measureScaling, type ScalingPoint } from './scaling';
import { makeBenchDataset } from './data_wait';
import { findReference, runOurs, sideBySide, type SideBySide } from './side_by_side';

const USAGE = `Usage: trm bench [options]
  --configs A,B,…    configurations to run side by side (default: A,B,C,D,E)
  --rounds N         alternating rounds per side (default 3)
  --warmup N         untimed steps per run (default 2)
  --steps N          timed steps per run (default 5)
  --no-boundary      skip the per-call cost
  --no-scaling       skip the scaling sweep
  --no-data          skip the data-wait measurement
  --no-eager         skip ours with DISABLE_COMPILE=1 (composed ops instead of fused kernels)
  --plot FILE        where the scaling plot goes (default bench-scaling.svg)
  --json FILE        also write every figure as JSON
  --help             this text`;

interface Options {
  configs: string[];
  rounds: number;
  warmup: number;
  steps: number;
  boundary: boolean;
  scaling: boolean;
  data: boolean;
  eager: boolean;
  plot: string;
  json?: string;
}

export class BenchUsageError extends Error {}
class BenchHelp extends Error {}

export function parseBenchArgs(argv: string[]): Options {
  const o: Options = { configs: Object.keys(CONFIGS), rounds: 3, warmup: 2, steps: 5, boundary: true, scaling: true, data: true, eager: true, plot: 'bench-scaling.svg' };
  const value = (i: number, flag: string) => {
    if (i >= argv.length || argv[i].startsWith('--')) throw new BenchUsageError(`${flag} needs a value`);
    return argv[i];
  };
  const count = (i: number, flag: string, min: number) => {
    const v = Number(value(i, flag));
    if (!Number.isInteger(v) || v < min) throw new BenchUsageError(`${flag} expects an integer ≥ ${min}, got '${argv[i]}'`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--help' || flag === '-h') throw new BenchHelp();
    if (flag === '--configs') {
      o.configs = value(++i, flag).split(',').map((s) => s.trim().toUpperCase());
      const unknown = o.configs.filter((c) => !(c in CONFIGS));
      if (unknown.length) throw new BenchUsageError(`unknown configuration ${unknown.join(', ')} (known: ${Object.keys(CONFIGS).join(', ')})`);
    } else if (flag === '--rounds') o.rounds = count(++i, flag, 1);
    else if (flag === '--warmup') o.warmup = count(++i, flag, 0);
    else if (flag === '--steps') o.steps = count(++i, flag, 1);
    else if (flag === '--no-boundary') o.boundary = false;
    else if (flag === '--no-scaling') o.scaling = false;
    else if (flag === '--no-data') o.data = false;
    else if (flag === '--no-eager') o.eager = false;
    else if (flag === '--plot') o.plot = value(++i, flag);
    else if (flag === '--json') o.json = value(++i, flag);
    else throw new BenchUsageError(`unknown option '${flag}'\n${USAGE}`);
  }
  return o;
}

const f = (v: number | null | undefined, digits = 2) => (v === null || v === undefined ? '—' : v.toFixed(digits));

function table(rows: SideBySide[]): string[] {
  const lines = [
    '| config | ours steps/s | ref steps/s | ratio | eager steps/s | ours tokens/s | ours GFLOP/s | % of peak | ref GFLOP/s | ours eval steps/s | ref eval steps/s | eval ratio | ours peak RSS MB | ref peak RSS MB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const peak = r.ours.peakGflops ?? NaN;
    lines.push(`| ${r.config.id} (${r.config.label}) | ${f(r.ours.stepsPerSecond, 3)} | ${f(r.reference?.stepsPerSecond, 3)} | ${r.ratio === null ? '—' : f(r.ratio) + '×'} | ${f(r.oursEager?.stepsPerSecond, 3)} | ` +
      `${f(r.ours.tokensPerSecond, 0)} | ${f(r.ours.gflops, 1)} | ${f((100 * r.ours.gflops) / peak, 1)}% | ${f(r.reference?.gflops, 1)} | ` +
      `${f(r.ours.evalStepsPerSecond, 3)} | ${f(r.reference?.evalStepsPerSecond, 3)} | ${r.evalRatio === null ? '—' : f(r.evalRatio) + '×'} | ` +
      `${f(r.ours.peakRssMb, 0)} | ${f(r.reference?.peakRssMb, 0)} |`);
  }
  return lines;
}

function scalingTable(points: ScalingPoint[]): string[] {
  const lines = ['| varied (rest as A) | value | step s | steps/s | peak RSS MB |', '|---|---|---|---|---|'];
  for (const p of points) lines.push(`| ${p.knob} | ${p.value} | ${f(p.stepSeconds, 3)} | ${f(1 / p.stepSeconds, 3)} | ${f(p.peakRssMb, 0)} |`);
  return lines;
}

function scalingPlot(points: ScalingPoint[]): string {
  const knobs = [...new Set(points.map((p) => p.knob))];
  const label = { batch: 'batch size', hidden: 'hidden size', seq: 'sequence length' } as const;
  return chartSvg([
    ...knobs.map((k) => ({ title: `step time vs ${label[k]}`, xLabel: label[k], yLabel: 'seconds / step', points: points.filter((p) => p.knob === k).map((p) => ({ x: p.value, y: p.stepSeconds })) })),
    ...knobs.map((k) => ({ title: `peak RSS vs ${label[k]}`, xLabel: label[k], yLabel: 'MB', points: points.filter((p) => p.knob === k).map((p) => ({ x: p.value, y: p.peakRssMb })) })),
  ], knobs.length);
}

export async function runBench(argv: string[]): Promise<number> {
  let o: Options;
  try {
    o = parseBenchArgs(argv);
  } catch (e) {
    if (e instanceof BenchHelp) {
      console.log(USAGE);
      return 0;
    }
    if (e instanceof BenchUsageError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
  const log = (line: string) => console.error(line);
  const info = buildInfo();
  const results: Record<string, unknown> = {
    machine: { threads: defaultThreads(), torch: info.torchVersion, float32Gemm: info.float32Gemm, openblasCoretype: process.env.OPENBLAS_CORETYPE ?? null },
  };

  if (o.boundary) {
    const b = measureBoundary();
    results.boundary = b;
    console.log('Per-call cost of a 1-element add (median of 5 rounds, 1 thread)');
    console.log(`  TypeScript, a.add(b) + dispose():     ${b.tsMicros.toFixed(3)} µs`);
    console.log(`  TypeScript, a.add(b) inside tidy():   ${b.tsTidyMicros.toFixed(3)} µs`);
    if (b.pythonMicros !== null) {
      console.log(`  Python PyTorch, torch.add(a, b):      ${b.pythonMicros.toFixed(3)} µs`);
      console.log(`  ratio Python / TypeScript (tidy):     ${(b.pythonMicros / b.tsTidyMicros).toFixed(2)}x`);
    } else {
      console.log(`  Python PyTorch: not measured (${b.pythonError})`);
    }
    console.log('');
  }

  const reference = findReference();
  if (!reference) log('PyTorch reference not found (set TRM_REFERENCE to trm_ref.py): ours only.');
  const rows: SideBySide[] = [];
  for (const id of o.configs) {
    log(`${id}: ${CONFIGS[id].label}`);
    const row = sideBySide(CONFIGS[id], { rounds: o.rounds, warmup: o.warmup, steps: o.steps, reference, eager: o.eager, log });
    if (row.referenceError && reference) log(`  reference failed: ${row.referenceError}`);
    rows.push(row);
  }
  results.configs = rows;
  console.log(`Training and evaluation steps, side by side (${o.rounds} alternating rounds × ${o.steps} timed steps, medians; ratio = ours / reference;`);
  console.log('eager = ours with DISABLE_COMPILE=1, the composed ATen ops instead of the fused kernels)');
  for (const line of table(rows)) console.log(line);
  const peaks = (dtype: string) => rows.filter((r) => r.config.dtype === dtype && r.ours.peakGflops).map((r) => r.ours.peakGflops!.toFixed(0));
  console.log(`% of peak: of the matmul peak measured in each run right after its steps (${defaultThreads()} threads; float32 ${peaks('float32').join(', ') || '—'}, bfloat16 ${peaks('bfloat16').join(', ') || '—'} GFLOP/s)`);
  console.log('');

  if (o.data) {
    log('Data wait (config A fed by PuzzleDataset from a generated Sudoku set)');
    const dataPath = makeBenchDataset();
    try {
      const r = runOurs({ config: CONFIGS.A, warmup: 1, steps: Math.max(4, o.steps), dataPath });
      results.dataWait = r.dataWait;
      const w = r.dataWait!;
      console.log(`Data wait: ${(100 * w.share).toFixed(2)}% of the training time (${(w.waitSeconds * 1000).toFixed(1)} ms waiting over ${w.steps} steps, ${w.elapsedSeconds.toFixed(1)} s)\n`);
    } finally {
      fs.rmSync(path.dirname(dataPath), { recursive: true, force: true });
    }
  }

  if (o.scaling) {
    log('Scaling (ours, from config A)');
    const points = measureScaling({ warmup: 1, steps: 2, log });
    results.scaling = points;
    for (const line of scalingTable(points)) console.log(line);
    fs.mkdirSync(path.dirname(path.resolve(o.plot)), { recursive: true });
    fs.writeFileSync(o.plot, scalingPlot(points));
    console.log(`\nScaling plot written to ${o.plot}`);
  }

  if (o.json) fs.writeFileSync(o.json, JSON.stringify(results, null, 2) + '\n');
  return 0;
}

if (require.main === module) {
  runBench(process.argv.slice(2)).then((code) => process.exit(code));
}
