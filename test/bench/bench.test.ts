// The benchmark's parts (not its timings): FLOP counts against the hand count, argument errors,
// one tiny side-by-side run through both sides' processes, and the SVG plot.
import * as assert from 'assert';
import { parseBenchArgs, runBench, BenchUsageError } from '../../lib/bench/cli';
import { CONFIGS, type BenchConfig } from '../../lib/bench/configs';
import { evalStepFlops, levelFlops, trainStepFlops } from '../../lib/bench/flops';
import { chartSvg } from '../../lib/bench/plot';
import { findReference, sideBySide } from '../../lib/bench/side_by_side';
import { pythonHasTorch } from '../helpers/torch';

describe('bench', () => {
  it("counts config A's matmul FLOPs as SPEC §11 does (7.1 GFLOP per L_level pass, ~250 per step)", () => {
    // per layer: qkv 2·6208·128·384 + scores and PV 4·64·97²·128 + o 2·6208·128² + SwiGLU 2·6208·128·1024 + 2·6208·512·128
    const perLayer = 2 * 6208 * 128 * 384 + 4 * 64 * 97 * 97 * 128 + 2 * 6208 * 128 * 128 + 2 * 6208 * 128 * 1024 + 2 * 6208 * 512 * 128;
    assert.strictEqual(levelFlops(CONFIGS.A), 2 * perLayer);
    const head = 2 * 6208 * 128 * 11;
    assert.strictEqual(evalStepFlops(CONFIGS.A), 21 * 2 * perLayer + head);
    assert.strictEqual(trainStepFlops(CONFIGS.A), 21 * 2 * perLayer + head + 2 * (7 * 2 * perLayer + head));
    assert.ok(Math.abs(trainStepFlops(CONFIGS.A) / 1e9 - 250) < 2);
    // HRM (one puzzle position): 21 passes forward, the last L and H passes backward (2×), and the
    // continue target's second forward; the head three times.
    const hrmHead = 2 * 64 * 82 * 128 * 11;
    assert.strictEqual(trainStepFlops(CONFIGS.E), (21 + 2 * 2 + 21) * levelFlops(CONFIGS.E) + 3 * hrmHead);
  });

  it('rejects bad arguments with the flag named', () => {
    assert.throws(() => parseBenchArgs(['--configs', 'A,Z']), (e: Error) => e instanceof BenchUsageError && /unknown configuration Z/.test(e.message));
    assert.throws(() => parseBenchArgs(['--rounds', '0']), /--rounds expects an integer ≥ 1, got '0'/);
    assert.throws(() => parseBenchArgs(['--json']), /--json needs a value/);
    assert.throws(() => parseBenchArgs(['--fast']), /unknown option '--fast'/);
    assert.deepStrictEqual(parseBenchArgs(['--configs', 'b,e', '--no-scaling']).configs, ['B', 'E']);
  });

  it('--help prints the options and runs nothing; a bad flag exits 2', async () => {
    const lines: string[] = [];
    const [log, error] = [console.log, console.error];
    console.log = (m: string) => lines.push(m);
    console.error = (m: string) => lines.push(m);
    try {
      assert.strictEqual(await runBench(['--help']), 0);
      assert.match(lines.join('\n'), /Usage: trm bench \[options\][\s\S]*--no-eager/);
      assert.strictEqual(await runBench(['--rounds', 'x']), 2);
    } finally {
      [console.log, console.error] = [log, error];
    }
  });

  it('runs a tiny configuration on both sides, each in its own process, and reduces them to ratios', function () {
    this.timeout(300_000);
    const tiny: BenchConfig = { ...CONFIGS.A, id: 'tiny', hidden: 32, heads: 2, batch: 4, seq: 9, puzzleEmbLen: 2, H_cycles: 1, L_cycles: 1 };
    const reference = pythonHasTorch() ? findReference() : null;
    const r = sideBySide(tiny, { rounds: 2, warmup: 1, steps: 2, reference });
    assert.strictEqual(r.ours.roundMedians.length, 2);
    assert.ok(r.ours.stepsPerSecond > 0 && r.ours.evalStepsPerSecond > 0 && r.ours.peakRssMb > 50);
    assert.ok(r.ours.peakGflops! > 0);
    assert.strictEqual(r.ours.roundPeaks!.length, 2);
    assert.strictEqual(r.ours.peakGflops, (r.ours.roundPeaks![0] + r.ours.roundPeaks![1]) / 2); // the median of two
    assert.ok(Math.abs(r.ours.gflops - (trainStepFlops(tiny) * r.ours.stepsPerSecond) / 1e9) < 1e-9);
    if (reference) {
      assert.ok(r.reference, r.referenceError);
      assert.ok(Math.abs(r.ratio! - r.ours.stepsPerSecond / r.reference.stepsPerSecond) < 1e-12);
    } else {
      assert.strictEqual(r.reference, null);
    }
  });

  it('draws the scaling plot as SVG with a point and a label per measurement', () => {
    const svg = chartSvg([{ title: 'step time vs batch', xLabel: 'batch', yLabel: 's', points: [{ x: 32, y: 0.5 }, { x: 64, y: 1.1 }] }], 1);
    assert.ok(svg.startsWith('<svg') && svg.trim().endsWith('</svg>'));
    assert.strictEqual((svg.match(/<circle/g) ?? []).length, 2);
    assert.ok(svg.includes('>1.10<') && svg.includes('>64<') && svg.includes('step time vs batch'));
  });
});
