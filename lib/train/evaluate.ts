// Evaluation as the official `evaluate`: every test batch runs ACT steps from a fresh carry until
// all sequences halt (eval always runs halt_max_steps), metric sums per set, requested outputs
// saved per rank, then the evaluators.
import * as fs from 'fs';
import * as path from 'path';
import * as torch from '../torch';
import type { PuzzleDatasetMetadata } from '../data/metadata';
import type { Evaluator } from '../evaluators/types';
import type { ACTLossHead } from '../models/losses';
import { evalMetrics, stackMetrics } from './metrics';
import type { BatchSource, Comm } from './types';

type Tensor = torch.Tensor;

export interface EvaluateOptions {
  model: ACTLossHead;
  data: BatchSource;
  metadata: PuzzleDatasetMetadata;
  evaluators: Evaluator[];
  saveOutputs: readonly string[];
  checkpointPath: string | null;
  step: number;
  rank: number;
  comm: Comm;
  log: (msg: string) => void;
}

const asPlain = (t: Tensor) => ({ shape: t.shape, data: t.dtype === 'int64' ? Int32Array.from(t.toArray()) : t.toTypedArray() as ArrayLike<number> });

export async function evaluate(o: EvaluateOptions): Promise<Record<string, unknown> | null> {
  const returnKeys = new Set(o.saveOutputs);
  for (const e of o.evaluators) {
    e.beginEval();
    for (const k of e.requiredOutputs) returnKeys.add(k);
  }
  const sets = o.metadata.sets;
  const saved = new Map<string, Tensor[]>();
  let keys: string[] = [];
  const sums = new Map<string, number[]>();
  let batches = 0;

  for await (const { setName, batch } of o.data) {
    batches++;
    try {
      const { metrics, outputs } = torch.noGrad(() => runToHalt(o.model, batch, [...returnKeys]));
      const stacked = stackMetrics(metrics as unknown as Record<string, Tensor>);
      keys = stacked.keys;
      const values = stacked.values.toArray();
      stacked.values.dispose();
      const acc = sums.get(setName) ?? new Array(keys.length).fill(0);
      values.forEach((v, i) => (acc[i] += v));
      sums.set(setName, acc);
      const plainBatch = Object.fromEntries(Object.entries(batch).filter(([k]) => returnKeys.has(k)).map(([k, v]) => [k, asPlain(v)]));
      const plainPreds = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, asPlain(v!)]));
      for (const e of o.evaluators) e.updateBatch(plainBatch, plainPreds);
      for (const [k, v] of [...Object.entries(batch), ...Object.entries(outputs)]) {
        if (!o.saveOutputs.includes(k) || !v) continue;
        const list = saved.get(k) ?? [];
        list.push(torch.keep(v.clone()));
        saved.set(k, list);
      }
      torch.dispose([metrics, outputs]);
    } finally {
      torch.dispose(batch);
    }
  }
  if (batches === 0) return null;

  if (o.checkpointPath !== null && saved.size) {
    fs.mkdirSync(o.checkpointPath, { recursive: true });
    const all = new Map([...saved].map(([k, list]) => [k, torch.cat(list, 0)]));
    torch.save(all, path.join(o.checkpointPath, `step_${o.step}_all_preds.${o.rank}`));
    torch.dispose([all, [...saved.values()]]);
  }

  // Sum the per-set vectors over ranks (in set order) onto rank 0.
  const ordered = sets.map((s) => sums.get(s) ?? new Array(keys.length).fill(0));
  const reduced = await o.comm.reduceSum(ordered.flat());
  let result: Record<string, unknown> | null = null;
  if (o.rank === 0 && reduced) {
    const perSet = new Map(sets.map((s, i) => [s, reduced.slice(i * keys.length, (i + 1) * keys.length)] as [string, number[]]).filter(([, v]) => v[keys.indexOf('count')] > 0));
    result = evalMetrics(keys, perSet);
  }

  for (const e of o.evaluators) {
    const merged = await o.comm.gatherStrings(e.serializeState());
    if (o.rank !== 0 || !merged) continue;
    merged.slice(1).forEach((s) => e.mergeState(s));
    let savePath: string | undefined;
    if (o.checkpointPath !== null) {
      savePath = path.join(o.checkpointPath, `evaluator_${e.constructor.name}_step_${o.step}`);
      fs.mkdirSync(savePath, { recursive: true });
    }
    const m = e.result(savePath);
    if (m) result = { ...(result ?? {}), ...m };
  }
  return result;
}

/** ACT steps from a fresh carry until every sequence halted; the last step's metrics and outputs. */
function runToHalt(model: ACTLossHead, batch: Record<string, Tensor>, returnKeys: string[]) {
  let carry = model.initialCarry(batch);
  for (;;) {
    const r = model.forward(carry, batch, { return_keys: returnKeys });
    torch.dispose(carry);
    carry = r.carry;
    const done = r.all_halted.item() !== 0;
    r.all_halted.dispose();
    r.loss.dispose();
    if (done) {
      torch.dispose(carry);
      return { metrics: r.metrics, outputs: r.outputs };
    }
    torch.dispose([r.metrics, r.outputs]);
  }
}
