// One rank of the distributed tests (spawned by helpers.runRanks with torchrun's variables): runs
// the scenario named in argv and prints `RESULT <json>`.
import * as torch from '../../lib/torch';
import { initProcessGroup, ProcessGroup, ProcessGroupComm } from '../../lib/distributed';
import { ACTLossHead } from '../../lib/models/losses';
import { pretrain } from '../../lib/train/pretrain';
import { SINGLE_PROCESS, type Comm } from '../../lib/train/types';
import { tinyConfig } from '../train/helpers';

const t = (data: number[], dtype: torch.DType = 'float32') => torch.tensor(data, { dtype });

async function collectives(pg: ProcessGroup): Promise<unknown> {
  const r = pg.rank;
  const out: Record<string, unknown> = {};
  for (const op of ['sum', 'avg', 'max', 'min'] as const) {
    const x = t([r + 1, 10 * r, -r]);
    await pg.allReduce(x, op);
    out[`allReduce_${op}`] = x.toArray();
  }
  const sync = t([r + 1]);
  pg.allReduceSync(sync, 'sum');
  out.allReduceSync = sync.toArray();
  // Several tensors of two dtypes, one non-contiguous, one bfloat16.
  const a = t([r, r + 1, r + 2, r + 3]).reshape([2, 2]).transpose(0, 1);
  const b = t([r + 0.5], 'bfloat16');
  const c = t([r + 1], 'int64');
  await pg.allReduce([a, b, c], 'sum');
  out.allReduceMixed = [a.toArray(), b.toArray(), b.dtype, c.toArray(), c.dtype];
  const bc = [t([r * 10, r * 10 + 1]), t([r], 'int64')];
  await pg.broadcast(bc, 1);
  out.broadcast = bc.map((x) => x.toArray());
  const red = t([r + 1, 2]);
  await pg.reduce(red, 0, 'max');
  out.reduce = red.toArray();
  const list = await pg.allGather(t([r, r]).reshape([1, 2]));
  out.allGather = list.map((x) => [x.shape, x.toArray()]);
  const into = pg.allGatherIntoTensorSync(t([r, -r], 'bfloat16'));
  out.allGatherInto = [into.shape, into.dtype, into.toArray()];
  // The event loop keeps turning while a collective waits: rank 1 joins the barrier 400 ms late.
  if (r === 1) await new Promise((res) => setTimeout(res, 400));
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  await pg.barrier();
  clearInterval(timer);
  out.ticksDuringBarrier = ticks;
  pg.barrierSync();
  out.objects = await pg.allGatherObject({ rank: r, text: `é${r}`, list: Array(r).fill(r) });
  out.gathered = await pg.gatherObject(`s${r}`, 0);
  out.broadcastObject = await pg.broadcastObject(r === 1 ? { from: 1, nested: [1, [2]] } : null, 1);
  return out;
}

async function python(pg: ProcessGroup): Promise<unknown> {
  const x = t([pg.rank + 1, 10 * pg.rank]);
  await pg.allReduce(x);
  const y = pg.rank === 0 ? t([7, 8]) : torch.zeros([2]);
  await pg.broadcast(y, 0);
  return { allReduce: x.toArray(), broadcast: y.toArray() };
}

/** Rank 1 dies (SIGKILL) or stalls (SIGSTOP); rank 0 reports how its next collective failed. */
async function fault(pg: ProcessGroup, how: string): Promise<unknown> {
  if (pg.rank === 1) process.kill(process.pid, how === 'kill' ? 'SIGKILL' : 'SIGSTOP');
  await new Promise((res) => setTimeout(res, 200));
  const started = Date.now();
  let first = '';
  try {
    await pg.allReduce(t([1, 2, 3]));
  } catch (e) {
    first = `${(e as Error).name}: ${(e as Error).message}`;
  }
  const elapsedMs = Date.now() - started;
  let after = '';
  try {
    pg.barrierSync();
  } catch (e) {
    after = (e as Error).message;
  }
  return { first, elapsedMs, after };
}

/** From training step `step` on, this rank's reported lm_loss is NaN (the model itself is untouched). */
function poisonLoss(step: number): void {
  const original = ACTLossHead.prototype.forward;
  let trainCalls = 0;
  ACTLossHead.prototype.forward = function (this: ACTLossHead, ...args: Parameters<typeof original>) {
    const r = original.apply(this, args);
    if (this.training && ++trainCalls >= step) {
      const old = r.metrics.lm_loss;
      r.metrics.lm_loss = old.mul(NaN);
      old.dispose();
    }
    return r;
  };
}

/**
 * Trains the tiny TRM of the train tests (argv: data, checkpoint folder, extra overrides...) as one
 * rank of WORLD_SIZE (one process when 1) and returns its final parameters as base64 float32, or
 * the error it stopped with. TRM_TEST_NAN_RANK and TRM_TEST_NAN_STEP poison that rank's loss.
 */
async function train(data: string, checkpoints: string, extra: string[]): Promise<unknown> {
  if (process.env.TRM_TEST_NAN_RANK === process.env.RANK) poisonLoss(Number(process.env.TRM_TEST_NAN_STEP));
  const worldSize = Number(process.env.WORLD_SIZE ?? 1);
  const base: Comm = worldSize > 1 ? new ProcessGroupComm(await initProcessGroup({ timeoutMs: 60000 })) : SINGLE_PROCESS;
  // The live parameters: the trainer broadcasts them (from rank 0) right after building the model.
  let params: torch.Tensor[] = [];
  const comm = Object.create(base, {
    broadcastTensors: { value: async (ts: torch.Tensor[]) => ((params = ts), base.broadcastTensors(ts)) },
  }) as Comm;
  const config = tinyConfig(data, checkpoints, extra);
  try {
    const result = await pretrain(config, { comm, progressStream: null, log: () => {} });
    return { step: result.step, params: params.map((p) => Buffer.from((p.toTypedArray() as Float32Array).buffer).toString('base64')) };
  } catch (e) {
    process.exitCode = 1;
    const { name, message, step } = e as Error & { step?: number };
    return { error: { name, message, step } };
  }
}

async function main(): Promise<void> {
  const scenario = process.argv[2];
  if (scenario === 'train') {
    console.log(`RESULT ${JSON.stringify(await train(process.argv[3], process.argv[4], process.argv.slice(5)))}`);
    return;
  }
  const timeoutMs = Number(process.argv[3] ?? 60000);
  const pg = await initProcessGroup({ backend: 'gloo', timeoutMs });
  let result: unknown;
  if (scenario === 'collectives') result = await collectives(pg);
  else if (scenario === 'python') result = await python(pg);
  else if (scenario === 'kill' || scenario === 'stop') result = await fault(pg, scenario);
  else throw new Error(`unknown scenario ${scenario}`);
  console.log(`RESULT ${JSON.stringify(result)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
