// Issue 5 item 7: with DISABLE_COMPILE=1, float32 on CPU and a fixed seed, runs are bit-identical,
// and a run stopped at step 25 and resumed from step_25 continues with exactly the losses of the
// uninterrupted run (weights, optimizer moments, schedule step, RNG, ACT carry, data position).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as torch from '../../lib/torch';
import { readMetrics } from '../../lib/train/metrics_log';
import { makeSudokuData, runCli, runRecorded, StepRecord, tempDir, tinyConfig, tinyOverrides } from './helpers';

type Tensor = torch.Tensor;

function losses(steps: StepRecord[]): Array<[number, number, number]> {
  return steps.map((s) => [s.step, s.metrics['train/lm_loss'], s.metrics['train/q_halt_loss']]);
}

function assertSameSteps(actual: StepRecord[], expected: StepRecord[], what: string): void {
  assert.deepStrictEqual(actual.map((s) => s.step), expected.map((s) => s.step), `${what}: steps`);
  for (let i = 0; i < expected.length; i++) {
    assert.deepStrictEqual(actual[i].metrics, expected[i].metrics, `${what}: metrics of step ${expected[i].step}`);
  }
}

/** A state dict file as name → plain numbers, to compare two checkpoints exactly. */
function weights(file: string): Record<string, number[]> {
  const sd = torch.load(file) as Map<string, Tensor>;
  const out: Record<string, number[]> = {};
  for (const [k, v] of sd) {
    out[k] = Array.from(v.toTypedArray() as Float32Array);
    v.dispose();
  }
  return out;
}

/** What the stop at step 25 (end of iteration 0 of 2 epochs) saved beside step_25. */
function checkResumeFile(file: string): void {
  const saved = torch.load(file) as Map<string, unknown>;
  try {
    assert.strictEqual(saved.get('step'), 25);
    assert.strictEqual(saved.get('iter'), 0);
    assert.strictEqual(saved.get('batches_in_iter'), 25);
    assert.ok(saved.get('rng_state') instanceof torch.Tensor);
    const carry = saved.get('carry') as Map<string, unknown>;
    assert.deepStrictEqual([...carry.keys()].sort(), ['current_data', 'halted', 'inner_carry', 'steps']);
    const optimizers = saved.get('optimizers') as unknown[];
    assert.strictEqual(optimizers.length, 2, 'sign-SGD for the puzzle embedding and AdamATan2');
  } finally {
    torch.dispose(saved);
  }
}

describe('[slow] trm-train determinism and exact resume', () => {
  let root: string;
  let data: string;
  let full: StepRecord[];
  let fullEval: unknown;
  let fullDir: string;
  const savedEnv = process.env.DISABLE_COMPILE;

  before(async () => {
    process.env.DISABLE_COMPILE = '1';
    root = tempDir('det');
    data = makeSudokuData(root);
    fullDir = path.join(root, 'full');
    const run = await runRecorded(tinyConfig(data, fullDir));
    full = run.steps;
    fullEval = run.result.evalMetrics;
  });
  after(() => {
    if (savedEnv === undefined) delete process.env.DISABLE_COMPILE;
    else process.env.DISABLE_COMPILE = savedEnv;
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('runs the 50 steps the schedule asks for, and the loss goes down', () => {
    assert.deepStrictEqual(full.map((s) => s.step), Array.from({ length: 50 }, (_, i) => i + 1));
    for (const s of full) assert.ok(Number.isFinite(s.metrics['train/lm_loss']), `step ${s.step}`);
    const first = full.slice(0, 5).reduce((a, s) => a + s.metrics['train/lm_loss'], 0);
    const last = full.slice(-5).reduce((a, s) => a + s.metrics['train/lm_loss'], 0);
    assert.ok(last < first, `lm_loss ${first / 5} -> ${last / 5}`);
  });

  it('gives identical per-step losses and metrics when run twice with the same seed', async () => {
    const again = await runRecorded(tinyConfig(data, path.join(root, 'again')));
    assertSameSteps(again.steps, full, 'second run');
    assert.deepStrictEqual(again.result.evalMetrics, fullEval);
    assert.deepStrictEqual(weights(path.join(root, 'again', 'step_50')), weights(path.join(fullDir, 'step_50')));
  });

  it('gives other losses with another seed (the comparison can fail)', async () => {
    const other = await runRecorded(tinyConfig(data, path.join(root, 'seed1'), ['seed=1']), { stopAtStep: 10 });
    assert.notDeepStrictEqual(losses(other.steps), losses(full.slice(0, 10)));
  });

  it('stops at step 25 with step_25 and step_25.resume (step, optimizers, RNG, carry, data position), and the resumed run continues with exactly the same losses', async () => {
    const dir = path.join(root, 'stopped');
    const first = await runRecorded(tinyConfig(data, dir), { stopAtStep: 25 });
    assert.strictEqual(first.result.stopped, true);
    assert.strictEqual(first.result.step, 25);
    assertSameSteps(first.steps, full.slice(0, 25), 'before the stop');
    assert.ok(fs.existsSync(path.join(dir, 'step_25')));
    assert.ok(fs.existsSync(path.join(dir, 'step_25.resume')));
    checkResumeFile(path.join(dir, 'step_25.resume'));

    const config = { ...tinyConfig(data, dir), resume: path.join(dir, 'step_25') };
    const second = await runRecorded(config);
    assert.ok(second.logs.some((l) => /Resumed from .*step_25 at step 25/.test(l)), second.logs.join('\n'));
    assertSameSteps(second.steps, full.slice(25), 'after resuming');
    assert.deepStrictEqual(second.result.evalMetrics, fullEval);
    assert.deepStrictEqual(weights(path.join(dir, 'step_50')), weights(path.join(fullDir, 'step_50')));
  });

  it('resumes exactly from the middle of an iteration, with EMA on', async () => {
    const extra = ['ema=True'];
    const ref = await runRecorded(tinyConfig(data, path.join(root, 'ema-full'), extra));
    const dir = path.join(root, 'ema-stop');
    const first = await runRecorded(tinyConfig(data, dir, extra), { stopAtStep: 13 });
    const second = await runRecorded({ ...tinyConfig(data, dir, extra), resume: path.join(dir, 'step_13') });
    assertSameSteps([...first.steps, ...second.steps], ref.steps, 'EMA run stopped at 13');
    assert.deepStrictEqual(second.result.evalMetrics, ref.result.evalMetrics, 'evaluation on the EMA weights');
    assert.deepStrictEqual(weights(path.join(dir, 'step_50')), weights(path.join(root, 'ema-full', 'step_50')));
  });

  it('does not reproduce the losses from the weights alone (load_checkpoint), so the resume state matters', async () => {
    const dir = path.join(root, 'weights-only');
    const run = await runRecorded(tinyConfig(data, dir, [`+load_checkpoint=${path.join(root, 'stopped', 'step_25')}`]), { stopAtStep: 5 });
    assert.notDeepStrictEqual(losses(run.steps), losses(full.slice(25, 30)));
  });

  it('resumes from the CLI with +resume=…/step_25 and logs the uninterrupted losses to metrics.jsonl', () => {
    // Both halves run in trm-train processes: the CLI picks its OpenBLAS kernels (blas_env), which
    // may round differently from this process, so its losses are compared with its own.
    const fullCli = path.join(root, 'cli-full');
    const r1 = runCli(tinyOverrides(data, fullCli));
    assert.strictEqual(r1.status, 0, r1.stderr);
    const dir = path.join(root, 'cli-resumed');
    const r2 = runCli([...tinyOverrides(data, dir), `+resume=${path.join(fullCli, 'step_25')}`]);
    assert.strictEqual(r2.status, 0, r2.stderr);
    assert.match(r2.stderr, /Resumed from .*step_25 at step 25/);
    const trainLosses = (file: string) => readMetrics(file).filter((m) => 'train/lm_loss' in m).map((m) => [m.step, m['train/lm_loss'], m['train/q_halt_loss']]);
    const expected = trainLosses(path.join(fullCli, 'metrics.jsonl'));
    assert.strictEqual(expected.length, 50);
    assert.deepStrictEqual(trainLosses(path.join(dir, 'metrics.jsonl')), expected.slice(25));
  });
});
