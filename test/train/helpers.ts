// Shared fixtures for the training tests: a tiny 4x4 Sudoku dataset in a temp folder, the overrides
// of a model small enough that 50 steps take about a second on one core, and ways to run
// pretrain() and the trm-train CLI on them.
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { composeConfig, PretrainConfig } from '../../lib/config';
import { buildSudokuDataset } from '../../lib/data/builders/sudoku';
import { generateSudokuCsv } from '../../lib/data/generators/sudoku';
import { pretrain, PretrainOptions, PretrainResult } from '../../lib/train/pretrain';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(REPO, 'bin', 'trm-train.js');
export const PYTHON = '/usr/bin/python3';

/** A temp folder removed in the suite's `after` hook. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `trm-train-${prefix}-`));
}

/**
 * 200 train + 32 test 4x4 Sudoku puzzles (seq_len 16, vocab 6, one puzzle identifier). With
 * global_batch_size 16: 12 steps per epoch, 50 steps in 4 epochs (25 per iteration of 2 epochs).
 */
export function makeSudokuData(root: string, opts: { size?: number; numTrain?: number; numTest?: number; name?: string } = {}): string {
  const csv = path.join(root, `${opts.name ?? 'sudoku'}-csv`);
  const out = path.join(root, opts.name ?? 'sudoku');
  const size = opts.size ?? 4;
  generateSudokuCsv({ outputDir: csv, size, numTrain: opts.numTrain ?? 200, numTest: opts.numTest ?? 32, seed: 0, verbose: false, givens: size === 4 ? undefined : 20 });
  buildSudokuDataset({ sourceRepo: csv, outputDir: out, seed: 0, verbose: false });
  return out;
}

/** Overrides of a tiny float32 TRM (hidden 32, one layer, 4 ACT steps) on `data`. */
export function tinyOverrides(data: string, checkpointPath: string): string[] {
  return [
    `data_paths=[${data}]`,
    'evaluators=[]',
    'global_batch_size=16',
    'epochs=4',
    'eval_interval=2',
    'lr=1e-3',
    'lr_warmup_steps=5',
    'lr_min_ratio=0.1',
    'arch.hidden_size=32',
    'arch.num_heads=2',
    'arch.expansion=2',
    'arch.L_layers=1',
    'arch.H_cycles=2',
    'arch.L_cycles=2',
    'arch.halt_max_steps=4',
    'arch.puzzle_emb_ndim=32',
    'arch.puzzle_emb_len=1',
    'arch.forward_dtype=float32',
    `+checkpoint_path=${checkpointPath}`,
    '+run_name=test',
  ];
}

export function tinyConfig(data: string, checkpointPath: string, extra: string[] = []): PretrainConfig {
  return composeConfig({ overrides: [...tinyOverrides(data, checkpointPath), ...extra] });
}

export interface StepRecord {
  step: number;
  metrics: Record<string, number>;
}

/** Runs pretrain quietly, recording every training step's metrics. */
export async function runRecorded(config: PretrainConfig, options: PretrainOptions = {}): Promise<{ steps: StepRecord[]; result: PretrainResult; logs: string[] }> {
  const steps: StepRecord[] = [];
  const logs: string[] = [];
  const result = await pretrain(config, {
    progressStream: null,
    log: (m) => logs.push(m),
    onTrainStep: (step, metrics) => steps.push({ step, metrics: { ...metrics } }),
    ...options,
  });
  return { steps, result, logs };
}

/** Runs `node bin/trm-train.js args…` with DISABLE_COMPILE=1 (plus `env`). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = REPO): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, DISABLE_COMPILE: '1', OMP_NUM_THREADS: '1', ...env },
    timeout: 120_000,
  });
}

export function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Hashes of every file in a folder (name → sha256), to show nothing saved was touched. */
export function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort().map((f) => [f, sha256(path.join(dir, f))]));
}

let pythonTorch: boolean | undefined;
/** Whether Debian's python3-torch is importable (the Python interop tests skip otherwise). */
export function hasPythonTorch(): boolean {
  if (pythonTorch === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import torch'], { env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' }, encoding: 'utf8', timeout: 60_000 });
    pythonTorch = r.status === 0;
  }
  return pythonTorch;
}

/** Runs a Python script (stdin) with torch; its stdout parsed as JSON. */
export function python(script: string, args: string[] = []): unknown {
  const r = spawnSync(PYTHON, ['-', ...args], { input: script, encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: '1' }, timeout: 120_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The last line of a CLI's stderr that is not a progress line. */
export function errorLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() && !/^step \d+\//.test(l));
  return lines[lines.length - 1] ?? '';
}
