// Issue 5 item 5, through a real run: metrics.jsonl holds train/… metrics every step and the
// eval sets' metrics after each evaluation; the TensorBoard event file parses back with every CRC
// checked and holds the same scalars; progress is plain lines when not a TTY, a bar on a TTY.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { readMetrics } from '../../lib/train/metrics_log';
import { readEventFile, TfEvent } from '../../lib/train/tensorboard';
import { makeSudokuData, runCli, runRecorded, tempDir, tinyConfig, tinyOverrides } from './helpers';

class FakeStream {
  out: string[] = [];
  constructor(readonly isTTY: boolean, readonly columns = 100) {}
  write(s: string): boolean {
    this.out.push(s);
    return true;
  }
}

const TRAIN_KEYS = ['train/accuracy', 'train/count', 'train/exact_accuracy', 'train/lm_loss', 'train/lr', 'train/q_halt_accuracy', 'train/q_halt_loss', 'train/steps'];
const EVAL_KEYS = ['all/accuracy', 'all/exact_accuracy', 'all/lm_loss', 'all/q_halt_accuracy', 'all/q_halt_loss', 'all/steps'];

describe('[slow] trm-train logging', () => {
  let root: string;
  let data: string;
  let dir: string;
  let progress: FakeStream;
  let logs: string[];

  before(async () => {
    root = tempDir('log');
    data = makeSudokuData(root);
    dir = path.join(root, 'run');
    progress = new FakeStream(false);
    // 2 epochs, evaluation after each: 24 steps (12 full batches an epoch; the schedule's total is
    // floor(2·200/16) = 25, as the official total_steps), evaluations at 12 and 24.
    logs = (await runRecorded(tinyConfig(data, dir, ['epochs=2', 'eval_interval=1']), { progressStream: progress as unknown as NodeJS.WritableStream })).logs;
  });
  after(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('writes train/… metrics for every step and eval metrics per evaluation to metrics.jsonl', () => {
    const rows = readMetrics(path.join(dir, 'metrics.jsonl'));
    assert.deepStrictEqual(Object.keys(rows[0]), ['step', 'num_params']);
    const train = rows.filter((r) => 'train/lm_loss' in r);
    assert.deepStrictEqual(train.map((r) => r.step), Array.from({ length: 24 }, (_, i) => i + 1));
    for (const r of train) {
      assert.deepStrictEqual(Object.keys(r).filter((k) => k !== 'step').sort(), TRAIN_KEYS);
      assert.ok(Object.values(r).every((v) => typeof v === 'number' && Number.isFinite(v)), JSON.stringify(r));
    }
    assert.ok(train.every((r) => (r['train/lr'] as number) > 0));
    const evals = rows.filter((r) => 'all/exact_accuracy' in r);
    assert.deepStrictEqual(evals.map((r) => r.step), [12, 24]);
    for (const r of evals) assert.deepStrictEqual(Object.keys(r).filter((k) => k !== 'step').sort(), EVAL_KEYS);
  });

  it('writes a TensorBoard event file that parses back (CRCs checked) with the same scalars', () => {
    const files = fs.readdirSync(dir).filter((f) => f.startsWith('events.out.tfevents.'));
    assert.strictEqual(files.length, 1);
    const events: TfEvent[] = readEventFile(path.join(dir, files[0]));
    assert.strictEqual(events[0].fileVersion, 'brain.Event:2');
    const fromTb = new Map<string, number>();
    for (const e of events.slice(1)) for (const v of e.summary ?? []) fromTb.set(`${e.step} ${v.tag}`, v.simpleValue);
    const fromJsonl = new Map<string, number>();
    for (const r of readMetrics(path.join(dir, 'metrics.jsonl'))) {
      for (const [k, v] of Object.entries(r)) if (k !== 'step' && k !== 'num_params') fromJsonl.set(`${r.step} ${k}`, Math.fround(v as number));
    }
    assert.strictEqual(fromTb.size, 24 * TRAIN_KEYS.length + 2 * EVAL_KEYS.length);
    assert.deepStrictEqual(new Map([...fromTb].sort()), new Map([...fromJsonl].sort()));
  });

  it('detects a corrupted event file', () => {
    const file = path.join(dir, fs.readdirSync(dir).find((f) => f.startsWith('events.out.tfevents.'))!);
    const bad = path.join(root, 'corrupt.tfevents');
    const buf = fs.readFileSync(file);
    buf[buf.length - 10] ^= 0xff;
    fs.writeFileSync(bad, buf);
    assert.throws(() => readEventFile(bad), /CRC mismatch/);
  });

  it('prints plain progress lines when not a TTY', () => {
    const text = progress.out.join('');
    assert.ok(!/[\r\x1b]/.test(text), 'no control characters');
    assert.ok(progress.out.every((s) => s.endsWith('\n')));
    const lines = text.trimEnd().split('\n');
    for (const l of lines) assert.match(l, /^step \d+\/25 \| loss \d+\.\d{4} \| exact \d+\.\d% \| (\d+\.\d\d|--) steps\/s \| ETA \S+$/);
    assert.match(lines[lines.length - 1], /^step 24\/25 /);
    assert.strictEqual(new Set(lines).size, lines.length, 'no line printed twice');
    assert.ok(logs.includes('EVALUATE') && logs.some((l) => /^Saved checkpoint .*step_24$/.test(l)), logs.join('\n'));
  });

  it('draws a bar on a TTY and prints messages on lines of their own', async () => {
    const tty = new FakeStream(true);
    const out = path.join(root, 'tty');
    // The run's messages go to the same stream as the bar, as on a terminal.
    await runRecorded(tinyConfig(data, out, ['epochs=1', 'eval_interval=1']), {
      progressStream: tty as unknown as NodeJS.WritableStream,
      log: (m) => tty.write(`${m}\n`),
    });
    const text = tty.out.join('');
    assert.match(text, /\r\[#+\] 12\/12 \| loss /);
    assert.ok(text.endsWith('\n'));
    // every message starts at column 0: right after a cleared line or a newline
    for (const m of ['EVALUATE\n', `Saved checkpoint ${path.join(out, 'step_12')}\n`]) {
      const i = tty.out.indexOf(m);
      assert.ok(i > 0, `${JSON.stringify(m)} written`);
      assert.ok(tty.out[i - 1] === '\r\x1b[K' || tty.out[i - 1].endsWith('\n'), `before ${JSON.stringify(m)}: ${JSON.stringify(tty.out[i - 1])}`);
    }
  });

  it('trm-train (not a TTY) prints plain progress lines and the eval exact accuracy', () => {
    const out = path.join(root, 'cli');
    const r = runCli([...tinyOverrides(data, out), 'epochs=1', 'eval_interval=1']);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.ok(!/[\r\x1b]/.test(r.stderr), 'no control characters');
    assert.match(r.stderr, /^step 12\/12 \| loss /m);
    assert.match(r.stderr, /^Trained 12 steps\b.*checkpoints in /m);
    assert.match(r.stdout, /^Eval exact accuracy: \d+\.\d%$/m);
    assert.ok(fs.existsSync(path.join(out, 'step_12')));
  });
});
