import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MetricsLog, readMetrics } from '../../lib/train/metrics_log';

describe('metrics.jsonl', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes one JSON object per line, step first, and appends on reopen', () => {
    const file = path.join(dir, 'run', 'metrics.jsonl');
    const log = new MetricsLog(file);
    log.append(1, { 'train/lm_loss': 2.5, 'train/lr': 1e-4 });
    log.append(2, { 'train/lm_loss': NaN, 'ARC/pass@2': 0.25 });
    log.close();
    const again = new MetricsLog(file);
    again.append(3, { 'all/exact_accuracy': 1 });
    again.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    assert.strictEqual(lines[0], '{"step":1,"train/lm_loss":2.5,"train/lr":0.0001}');
    assert.deepStrictEqual(readMetrics(file), [
      { step: 1, 'train/lm_loss': 2.5, 'train/lr': 1e-4 },
      { step: 2, 'train/lm_loss': null, 'ARC/pass@2': 0.25 },
      { step: 3, 'all/exact_accuracy': 1 },
    ]);
    assert.throws(() => again.append(4, {}), /append\(\) after close\(\)/);
  });

  it('ignores a torn last line and rejects a bad step', () => {
    const file = path.join(dir, 'metrics.jsonl');
    fs.writeFileSync(file, '{"step":1,"a":1}\n{"step":2,"a"');
    assert.deepStrictEqual(readMetrics(file), [{ step: 1, a: 1 }]);
    const log = new MetricsLog(file);
    assert.throws(() => log.append(1.5, {}), /Expected integer step but received 1.5/);
    log.close();
  });
});
