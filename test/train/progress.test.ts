import * as assert from 'assert';
import { Progress, ProgressStream, formatDuration } from '../../lib/train/progress';

class FakeStream implements ProgressStream {
  out: string[] = [];
  constructor(readonly isTTY: boolean, readonly columns = 100) {}
  write(s: string): boolean {
    this.out.push(s);
    return true;
  }
}

describe('progress', () => {
  it('formats durations', () => {
    assert.strictEqual(formatDuration(5), '5s');
    assert.strictEqual(formatDuration(274), '4m34s');
    assert.strictEqual(formatDuration(3723), '1h02m03s');
    assert.strictEqual(formatDuration(NaN), '--');
  });

  it('prints one plain line every interval when not a TTY', () => {
    const stream = new FakeStream(false);
    let now = 0;
    const p = new Progress({ total: 100, stream, clock: () => now, intervalMs: 5000, label: '[trm]' });
    for (let step = 1; step <= 12; step++) {
      now += 1000; // one step per second
      p.update(step, { loss: 1 / step, exactAccuracy: step / 100 });
    }
    // drawn at t=1s (first update), 6s, 11s
    assert.deepStrictEqual(stream.out, [
      '[trm] step 1/100 | loss 1.0000 | exact 1.0% | 1.00 steps/s | ETA 1m39s\n',
      '[trm] step 6/100 | loss 0.1667 | exact 6.0% | 1.00 steps/s | ETA 1m34s\n',
      '[trm] step 11/100 | loss 0.0909 | exact 11.0% | 1.00 steps/s | ETA 1m29s\n',
    ]);
    p.finish();
    assert.strictEqual(stream.out.length, 4);
    assert.ok(!stream.out.join('').includes('\r'), 'no control characters in logs');
  });

  it('redraws one bar in place on a TTY, throttled, ending with a newline', () => {
    const stream = new FakeStream(true, 100);
    let now = 0;
    const p = new Progress({ total: 10, stream, clock: () => now, redrawMs: 100, startStep: 0 });
    for (let step = 1; step <= 10; step++) {
      now += 50; // 20 steps/s, redraw at most every 100 ms
      p.update(step, { loss: 0.5 });
    }
    p.finish();
    const draws = stream.out.filter((s) => s.startsWith('\r'));
    assert.ok(draws.length >= 5 && draws.length <= 7, `throttled: ${draws.length} draws`);
    for (const d of draws) {
      assert.ok(d.endsWith('\x1b[K'));
      assert.ok(d.length - 4 <= 100, 'fits the terminal');
    }
    const last = draws[draws.length - 1];
    assert.match(last, /\[#+\] 10\/10 \| loss 0\.5000 \| 20\.00 steps\/s \| ETA 0s/);
    assert.ok(!last.includes('-]'), 'full bar at the end');
    assert.strictEqual(stream.out[stream.out.length - 1], '\n');
    assert.ok(!stream.out.slice(0, -1).some((s) => s.includes('\n')), 'no newline while running');
  });

  it('counts steps/s from the resumed step and rejects a bad total', () => {
    const stream = new FakeStream(false);
    let now = 0;
    const p = new Progress({ total: 1000, stream, clock: () => now, startStep: 500 });
    now = 10_000;
    p.update(520);
    assert.match(stream.out[0], /520\/1000 \| 2\.00 steps\/s \| ETA 4m00s/);
    assert.throws(() => new Progress({ total: 0, stream }), /Expected positive integer for total but received 0/);
  });

  it('does not print the last plain line twice when finishing on a step already printed', () => {
    const stream = new FakeStream(false);
    let now = 0;
    const p = new Progress({ total: 3, stream, clock: () => now });
    for (let step = 1; step <= 3; step++) {
      now += 1000;
      p.update(step);
    }
    p.finish();
    assert.deepStrictEqual(stream.out.map((s) => s.split(' |')[0]), ['step 1/3', 'step 3/3']);
  });

  it('clears the bar on a TTY so a message gets its own line, and redraws on the next update', () => {
    const stream = new FakeStream(true);
    let now = 0;
    const p = new Progress({ total: 10, stream, clock: () => now, redrawMs: 1000 });
    p.update(1);
    p.clearLine();
    assert.strictEqual(stream.out[stream.out.length - 1], '\r\x1b[K');
    p.clearLine();
    assert.strictEqual(stream.out.length, 2, 'nothing to clear twice');
    now += 1; // well within redrawMs: redrawn anyway, the bar was cleared
    p.update(2);
    assert.match(stream.out[stream.out.length - 1], /^\r\[.*\] 2\/10/);
    const plain = new FakeStream(false);
    const q = new Progress({ total: 10, stream: plain });
    q.update(1);
    q.clearLine();
    assert.strictEqual(plain.out.length, 1, 'plain lines need no clearing');
  });
});
