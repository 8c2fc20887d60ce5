import { strict as assert } from 'assert';
import { computeLr, cosineScheduleWithWarmupLr, pythonRound, totalTrainSteps } from '../../lib/optim';
import { hasReference, runPython } from './helpers';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

describe('lr schedule (warmup + cosine)', () => {
  const o = { baseLr: 1e-4, numWarmupSteps: 2000, numTrainingSteps: 10_000, minRatio: 0.1 };

  it('rises linearly from 0 during warmup', () => {
    assert.equal(cosineScheduleWithWarmupLr(0, o), 0);
    close(cosineScheduleWithWarmupLr(1, o), 1e-4 / 2000, 'step 1');
    close(cosineScheduleWithWarmupLr(1000, o), 5e-5, 'mid warmup');
  });

  it('is the base rate at the end of warmup, halfway down at mid-decay, the floor at the end', () => {
    close(cosineScheduleWithWarmupLr(2000, o), 1e-4, 'peak');
    close(cosineScheduleWithWarmupLr(6000, o), 1e-4 * (0.1 + 0.9 * 0.5), 'mid decay');
    close(cosineScheduleWithWarmupLr(10_000, o), 1e-5, 'end');
    // Past the end the official formula climbs again (cos beyond π): kept as is.
    close(cosineScheduleWithWarmupLr(12_000, o), 1e-4 * (0.1 + 0.9 * 0.5 * (1 - Math.SQRT1_2)), 'past the end');
  });

  it('lr_min_ratio 1.0 (the default config) keeps the rate constant after warmup; no warmup starts at the peak', () => {
    for (const s of [2000, 5000, 10_000]) close(cosineScheduleWithWarmupLr(s, { ...o, minRatio: 1 }), 1e-4, `step ${s}`);
    assert.equal(cosineScheduleWithWarmupLr(0, { ...o, numWarmupSteps: 0 }), 1e-4);
  });

  it('rounds lr_warmup_steps like Python and estimates total steps like pretrain.py', () => {
    assert.deepEqual([2.5, 3.5, -2.5, -3.5, 2.4, 2000].map(pythonRound), [2, 4, -2, -4, 2, 2000]);
    assert.equal(totalTrainSteps(100_000, 10, 1.5, 768), Math.trunc((100_000 * 10 * 1.5) / 768));
    assert.equal(totalTrainSteps(3, 1000, 1, 7), 428);
    assert.throws(() => totalTrainSteps(1, 1, 1, 0), /global_batch_size/);
  });

  it('agrees with the reference lr_at at every step of a short run', function () {
    if (!hasReference()) this.skip();
    const cfg = { lr_warmup_steps: 7, lr_min_ratio: 0.25 };
    const total = 40;
    const ours = Array.from({ length: total + 3 }, (_, s) => computeLr(3e-3, cfg, s, total));
    const ref = JSON.parse(
      runPython(`
import json
from trm_ref import OptimConfig, lr_at
oc = OptimConfig(lr_warmup_steps=7, lr_min_ratio=0.25, total_steps=${total})
print(json.dumps([lr_at(s, 3e-3, oc) for s in range(${total + 3})]))
`)
    ) as number[];
    assert.deepEqual(ours, ref);
  });
});
