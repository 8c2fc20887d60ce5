// Issue 5 item 8: each kind of bad input gets a clear error (from pretrain() and as one line from
// trm-train, exit code non-zero, no stack trace), and nothing a previous run saved is lost.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, PretrainConfig } from '../../lib/config';
import { DatasetError } from '../../lib/data/errors';
import { ACTLossHead } from '../../lib/models/losses';
import { readMetrics } from '../../lib/train/metrics_log';
import { pretrain, TrainingError } from '../../lib/train/pretrain';
import { Comm, SINGLE_PROCESS } from '../../lib/train/types';
import { errorLine, makeSudokuData, runCli, runRecorded, snapshot, tempDir, tinyConfig, tinyOverrides } from './helpers';

describe('[slow] trm-train bad input', () => {
  let root: string;
  let data: string;
  let prev: string; // a finished run whose files must survive every failed run pointed at it
  let prevFiles: Record<string, string>;

  before(async () => {
    root = tempDir('bad');
    data = makeSudokuData(root);
    prev = path.join(root, 'prev');
    await runRecorded(tinyConfig(data, prev, ['epochs=1', 'eval_interval=1']));
    prevFiles = snapshot(prev);
    assert.ok('step_12' in prevFiles && 'step_12.resume' in prevFiles);
  });
  after(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });
  afterEach(() => assert.deepStrictEqual(snapshot(prev), prevFiles, 'the previous run\'s files are untouched'));

  /** pretrain() on `config` (written into the previous run's folder) rejects with `pattern`. */
  async function rejects(config: PretrainConfig, pattern: RegExp, type: new (...a: never[]) => Error = Error, comm?: Comm): Promise<void> {
    await assert.rejects(pretrain({ ...config, checkpoint_path: prev }, { progressStream: null, log: () => {}, comm }), (e: Error) => {
      assert.ok(e instanceof type, `${e.name}: ${e.message}`);
      assert.match(e.message, pattern);
      return true;
    });
  }

  /** trm-train with the tiny overrides (+ `extra`) fails with one clear line matching `pattern`. */
  function cliFails(extra: string[], pattern: RegExp, dataPath = data): string {
    const r = runCli([...tinyOverrides(dataPath, prev), ...extra]);
    assert.notStrictEqual(r.status, 0, `exit status: ${r.stderr}`);
    assert.ok(!/^\s+at /m.test(r.stderr), `no stack trace:\n${r.stderr}`);
    const line = errorLine(r.stderr);
    assert.match(line, /^trm-train: /);
    assert.match(line, pattern);
    return line;
  }

  it('a missing data path', async () => {
    const missing = path.join(root, 'no-such-data');
    await rejects(tinyConfig(missing, prev), /dataset folder ".*no-such-data" does not exist/, DatasetError);
    cliFails([], /dataset folder ".*no-such-data" does not exist/, missing);
  });

  it('a malformed dataset.json', async () => {
    const bad = path.join(root, 'malformed');
    fs.cpSync(data, bad, { recursive: true });
    fs.writeFileSync(path.join(bad, 'train', 'dataset.json'), '{"pad_id": 0,');
    await rejects(tinyConfig(bad, prev), /dataset metadata is not valid JSON.*malformed.train.dataset\.json/, DatasetError);
    cliFails([], /not valid JSON.*dataset\.json/, bad);
  });

  it('data paths whose metadata disagree', async () => {
    const six = makeSudokuData(root, { size: 6, numTrain: 40, numTest: 8, name: 'sudoku6' });
    const config = { ...tinyConfig(data, prev), data_paths: [data, six] };
    await rejects(config, /seq_len is 36 but .* has 16; merged datasets must agree/, DatasetError);
    cliFails([`data_paths=[${data},${six}]`], /seq_len is 36 but .* has 16/);
    // a test set that does not fit the model built for the training data
    await rejects({ ...tinyConfig(data, prev), data_paths_test: [six] }, /test split has seq_len 36 but the training data has 16/, DatasetError);
  });

  it('global_batch_size not divisible by the world size', async () => {
    const comm: Comm = { ...SINGLE_PROCESS, worldSize: 3 };
    await rejects(tinyConfig(data, prev), /global_batch_size \(16\) must be divisible by the world size \(3\)/, TrainingError, comm);
  });

  it('eval_interval that does not divide epochs', async () => {
    assert.throws(() => tinyConfig(data, prev, ['eval_interval=3']), (e: Error) => e instanceof ConfigError && /eval_interval \(3\) must divide epochs \(4\)/.test(e.message));
    // pretrain checks it too, for configs built in code
    await rejects({ ...tinyConfig(data, prev), eval_interval: 3 }, /eval_interval \(3\) must divide epochs \(4\)/, TrainingError);
    cliFails(['eval_interval=3'], /eval_interval \(3\) must divide epochs \(4\)/);
  });

  it('an unknown arch name, with a suggestion', async () => {
    const config = tinyConfig(data, prev);
    const wrong = 'recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV2';
    await rejects({ ...config, arch: { ...config.arch, name: wrong as never } }, /unknown model .*Did you mean 'recursive_reasoning\.trm@TinyRecursiveReasoningModel_ACTV1'/);
    cliFails([`arch.name=${wrong}`], /arch\.name.*Did you mean 'recursive_reasoning\.trm@TinyRecursiveReasoningModel_ACTV1'/);
    cliFails(['arch=trn'], /Could not find 'arch\/trn'.*Did you mean 'trm'/);
  });

  it('a checkpoint that does not fit the model, or is not a checkpoint', async () => {
    await rejects(tinyConfig(data, prev, ['arch.L_layers=2', `+load_checkpoint=${path.join(prev, 'step_12')}`]), /does not fit this model: .*Missing key\(s\) in state_dict: "model\.inner\.L_level\.layers\.1\./, TrainingError);
    cliFails(['arch.hidden_size=64', `+load_checkpoint=${path.join(prev, 'step_12')}`], /does not fit this model: .*size mismatch for model\.inner\.H_init.*\(and \d+ more\)$/);
    cliFails([`+load_checkpoint=${path.join(prev, 'metrics.jsonl')}`], /cannot read checkpoint '.*metrics\.jsonl': .*not a zip file/);
    cliFails([`+resume=${path.join(root, 'nowhere', 'step_5')}`], /cannot resume: '.*step_5\.resume' does not exist/);
  });

  describe('a NaN loss', () => {
    const original = ACTLossHead.prototype.forward;
    afterEach(() => (ACTLossHead.prototype.forward = original));

    it('stops naming the step, keeps the last good checkpoint intact and logs no NaN', async () => {
      // From training step 15 on, the reported lm_loss is NaN (the model itself is untouched).
      let trainCalls = 0;
      ACTLossHead.prototype.forward = function (this: ACTLossHead, ...args: Parameters<typeof original>) {
        const r = original.apply(this, args);
        if (this.training && ++trainCalls >= 15) {
          const old = r.metrics.lm_loss;
          r.metrics.lm_loss = old.mul(NaN);
          old.dispose();
        }
        return r;
      };
      const dir = path.join(root, 'nan');
      let saved: Record<string, string> = {};
      // eval_interval=1 with checkpoint_every_eval: step_12 is saved before the NaN at step 15
      const run = pretrain(tinyConfig(data, dir, ['eval_interval=1']), {
        progressStream: null,
        log: () => {},
        onTrainStep: (step) => {
          if (step === 13) saved = snapshot(dir);
        },
      });
      await assert.rejects(run, (e: Error) => {
        assert.ok(e instanceof TrainingError, e.message);
        assert.strictEqual(e.step, 15);
        assert.match(e.message, /NaN or infinite at step 15 .*The last good checkpoint, .*step_12, is kept\./);
        return true;
      });
      ACTLossHead.prototype.forward = original;
      assert.ok('step_12' in saved && 'step_12.resume' in saved);
      const after = snapshot(dir);
      for (const f of ['step_12', 'step_12.resume', 'all_config.yaml']) assert.strictEqual(after[f], saved[f], `${f} unchanged`);
      assert.deepStrictEqual(Object.keys(after).filter((f) => /^step_(?!12)/.test(f)), [], 'no checkpoint after the last good one');
      const rows = readMetrics(path.join(dir, 'metrics.jsonl'));
      assert.strictEqual(Math.max(...rows.map((r) => r.step as number)), 14);
      assert.ok(rows.every((r) => Object.values(r).every((v) => v !== null)), 'no NaN written');
      // the kept checkpoint resumes
      const resumed = await runRecorded({ ...tinyConfig(data, dir, ['eval_interval=1']), resume: path.join(dir, 'step_12') }, { stopAtStep: 13 });
      assert.deepStrictEqual(resumed.steps.map((s) => s.step), [13]);
      assert.ok(Number.isFinite(resumed.steps[0].metrics['train/lm_loss']));
    });

    it('trm-train reports it in one line and exits non-zero (lr=1e30 after resuming in place)', () => {
      const dir = path.join(root, 'nan-cli');
      fs.cpSync(prev, dir, { recursive: true });
      const before = snapshot(dir);
      const r = runCli([...tinyOverrides(data, dir), 'epochs=2', 'eval_interval=1', 'lr=1e30', `+resume=${path.join(dir, 'step_12')}`]);
      assert.strictEqual(r.status, 1, r.stderr);
      assert.ok(!/^\s+at /m.test(r.stderr), r.stderr);
      assert.match(errorLine(r.stderr), /^trm-train: the loss became NaN or infinite at step 1[34] .*The last good checkpoint, .*step_12, is kept\.$/);
      const after = snapshot(dir);
      for (const f of ['step_12', 'step_12.resume']) assert.strictEqual(after[f], before[f], `${f} unchanged`);
    });
  });
});
