// Run by gpu_check.sh on a machine with CUDA GPUs (not by mocha), as one rank of WORLD_SIZE (1
// unless launched). An NCCL group; collectives on this process's GPU; then the trainer itself on
// a generated 4x4 Sudoku set: a few steps on the GPU next to the same steps on the CPU (world
// size 1: the losses must agree), and a run with bfloat16, EMA, evaluation, a checkpoint and a
// resume, checking that every parameter, buffer and ACT carry tensor lives on the GPU. Prints what
// it saw; exits non-zero on a miss. TRM_GPU_CHECK_ON_CPU=1 runs it all on the CPU over gloo (a
// dry run of the script itself on a machine without a GPU).
import * as fs from 'fs';
import * as path from 'path';
import * as torch from '../../lib/torch';
import { native } from '../../lib/torch/native';
import { backendFor, initProcessGroup, ProcessGroup, ProcessGroupComm, readDistEnv, selectDevice } from '../../lib/distributed';
import { ACTLossHead } from '../../lib/models/losses';
import { pretrain, PretrainResult } from '../../lib/train/pretrain';
import { SINGLE_PROCESS, type Comm } from '../../lib/train/types';
import { makeSudokuData, tinyConfig } from '../train/helpers';

const env = readDistEnv();
const say = (m: string) => console.log(`[rank ${env.rank}] ${m}`);

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

/** Devices seen, with counts: { 'cuda:0': 40 }. */
function tally(tensors: Iterable<torch.Tensor>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tensors) out[t.device] = (out[t.device] ?? 0) + 1;
  return out;
}

function tensorsIn(v: unknown, out: torch.Tensor[] = []): torch.Tensor[] {
  if (v instanceof torch.Tensor) out.push(v);
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => tensorsIn(x, out));
  return out;
}

async function collectives(pg: ProcessGroup, device: string): Promise<void> {
  const ws = pg.worldSize;
  const x = torch.tensor([pg.rank + 1, 2], { dtype: 'float32', device });
  await pg.allReduce(x, 'sum');
  const got = x.toArray();
  const expected = [(ws * (ws + 1)) / 2, 2 * ws];
  say(`${pg.backend} allReduce sum on ${x.device}: ${JSON.stringify(got)} (expected ${JSON.stringify(expected)})`);
  check(JSON.stringify(got) === JSON.stringify(expected), 'allReduce mismatch');
  const avg = torch.tensor([pg.rank * 2], { dtype: 'bfloat16', device });
  await pg.allReduce(avg, 'avg');
  say(`${pg.backend} allReduce avg bfloat16: ${avg.toArray()} (expected ${ws - 1})`);
  const b = torch.tensor([pg.rank === 0 ? 7 : 0], { dtype: 'float32', device });
  await pg.broadcast(b, 0);
  say(`${pg.backend} broadcast: ${b.toArray()}`);
  const g = await pg.allGatherIntoTensor(torch.tensor([pg.rank], { dtype: 'float32', device }));
  say(`${pg.backend} allGatherIntoTensor: ${g.toArray()} on ${g.device}`);
  say(`allGatherObject (staged on ${pg.device}): ${JSON.stringify(await pg.allGatherObject({ rank: pg.rank }))}`);
  await pg.barrier();
}

/** Records the device of every ACT carry tensor the loss head is given or returns. */
function watchCarries(): { devices: Record<string, number>; stop(): void } {
  const original = ACTLossHead.prototype.forward;
  const devices: Record<string, number> = {};
  ACTLossHead.prototype.forward = function (this: ACTLossHead, ...args: Parameters<typeof original>) {
    const r = original.apply(this, args);
    for (const t of [...tensorsIn(args[0]), ...tensorsIn(r.carry), ...tensorsIn(args[1])]) devices[t.device] = (devices[t.device] ?? 0) + 1;
    return r;
  };
  return { devices, stop: () => (ACTLossHead.prototype.forward = original) };
}

interface Run {
  result: PretrainResult;
  losses: number[];
  /** The model's parameters and buffers (as broadcast at the start). */
  tensors: torch.Tensor[];
}

async function train(label: string, base: Comm, device: string, extra: string[], data: string, dir: string, options: { stopAtStep?: number; resume?: string } = {}): Promise<Run> {
  let tensors: torch.Tensor[] = [];
  const comm = Object.create(base, {
    broadcastTensors: { value: async (ts: torch.Tensor[]) => ((tensors = ts), base.broadcastTensors(ts)) },
  }) as Comm;
  const ranks = base.worldSize;
  const config = tinyConfig(data, dir, [`global_batch_size=${8 * ranks}`, ...extra]);
  if (options.resume) config.resume = options.resume;
  const losses: number[] = [];
  const started = Date.now();
  const result = await pretrain(config, {
    comm,
    device,
    progressStream: null,
    stopAtStep: options.stopAtStep,
    log: (m) => say(`${label}: ${m}`),
    onTrainStep: (step, m) => {
      losses.push(m['train/lm_loss']);
      say(`${label} step ${step}: lm_loss ${m['train/lm_loss'].toFixed(5)} q_halt_loss ${m['train/q_halt_loss'].toFixed(5)} accuracy ${m['train/accuracy'].toFixed(3)} lr ${m['train/lr'].toExponential(2)}`);
    },
  });
  say(`${label}: ${result.step} steps in ${((Date.now() - started) / 1000).toFixed(1)} s; eval ${JSON.stringify(result.evalMetrics)}`);
  if (env.rank === 0) check(losses.every(Number.isFinite), `${label}: a loss is not finite`);
  return { result, losses, tensors };
}

async function main(): Promise<void> {
  const info = native.buildInfo();
  const device = selectDevice();
  say(`LibTorch ${info.torchVersion}, cuda ${info.cuda}, ${info.cudaDeviceCount} GPU(s), nccl ${info.nccl}; LOCAL_RANK ${env.localRank} -> ${device}, backend ${backendFor(device)}`);
  if (process.env.TRM_GPU_CHECK_ON_CPU !== '1') {
    check(info.cuda && info.nccl, 'this build has no CUDA/NCCL: build against a CUDA LibTorch first (see gpu_check.sh)');
    check(device.startsWith('cuda'), `expected a GPU, selected ${device}`);
  }
  const pg = await initProcessGroup({ backend: backendFor(device), device, timeoutMs: 120000 });
  await collectives(pg, device);

  const root = path.join(process.env.TRM_GPU_CHECK_DIR ?? fs.mkdtempSync('/tmp/trm-gpu-check-'), `world${pg.worldSize}`);
  const data = path.join(root, 'sudoku');
  if (env.rank === 0) makeSudokuData(root, { numTrain: 320 });
  await pg.barrier();
  const comm = new ProcessGroupComm(pg);

  // 1. The same steps on the CPU and on the GPU (one rank: same batches; no exploration draws).
  const same = ['epochs=1', 'eval_interval=1', 'arch.halt_exploration_prob=0'];
  const gpu = await train('gpu float32', comm, device, same, data, path.join(root, 'gpu-f32'), { stopAtStep: 6 });
  const placed = tally(gpu.tensors);
  say(`parameters and buffers: ${JSON.stringify(placed)}`);
  check(Object.keys(placed).length === 1 && placed[device] > 0, `the model is not all on ${device}`);
  if (pg.worldSize === 1) {
    const cpu = await train('cpu float32', SINGLE_PROCESS, 'cpu', same, data, path.join(root, 'cpu-f32'), { stopAtStep: 6 });
    // Step 1 depends only on the (CPU-drawn) init and the batch; later steps may drift a little
    // (sign-like first Adam steps and sign-SGD amplify rounding differences near zero).
    const rel = cpu.losses.map((l, i) => Math.abs(l - gpu.losses[i]) / Math.max(Math.abs(l), 1e-6));
    say(`lm_loss CPU ${cpu.losses.map((l) => l.toFixed(5)).join(' ')}`);
    say(`lm_loss GPU ${gpu.losses.map((l) => l.toFixed(5)).join(' ')} (relative differences ${rel.map((r) => r.toExponential(1)).join(' ')})`);
    check(cpu.losses.length === 6 && gpu.losses.length === 6, 'a run did not take 6 steps');
    check(rel[0] < 1e-4 && Math.max(...rel) < 2e-2, 'the GPU losses do not match the CPU ones');
  }

  // 2. The official defaults' kind of run on the GPU: bfloat16, EMA, evaluation and a checkpoint
  // after each epoch, then a resume from the first checkpoint.
  const dir = path.join(root, 'gpu-bf16');
  const carries = watchCarries();
  const full = await train('gpu bf16+ema', comm, device, ['epochs=2', 'eval_interval=1', 'checkpoint_every_eval=true', 'ema=true', 'arch.forward_dtype=bfloat16'], data, dir);
  check(full.result.evalMetrics !== null || env.rank !== 0, 'no evaluation result');
  await pg.barrier(); // rank 0 has written its last checkpoint
  const steps = fs.readdirSync(dir).map((f) => /^step_(\d+)$/.exec(f)).filter((m) => m !== null).map((m) => Number(m![1]));
  const first = Math.min(...steps);
  check(steps.length === 2 && first < full.result.step, `expected 2 checkpoints in ${dir}, found steps ${steps}`);
  const firstCheckpoint = path.join(dir, `step_${first}`);
  const resumed = await train('gpu resume', comm, device, ['epochs=2', 'eval_interval=1', 'checkpoint_every_eval=true', 'ema=true', 'arch.forward_dtype=bfloat16'], data, path.join(root, 'gpu-resume'), {
    resume: firstCheckpoint,
    stopAtStep: first + 2,
  });
  carries.stop();
  say(`ACT carries and batches: ${JSON.stringify(carries.devices)}`);
  check(Object.keys(carries.devices).length === 1 && carries.devices[device] > 0, `an ACT carry or batch is not on ${device}`);
  check(resumed.result.step === first + 2, `resume stopped at step ${resumed.result.step}, not ${first + 2}`);
  say(`checkpoint ${firstCheckpoint}: ${fs.statSync(firstCheckpoint).size} bytes; resumed to step ${resumed.result.step}`);

  await pg.barrier();
  pg.destroy();
  say('OK');
}

main().catch((e) => {
  console.error(`[rank ${env.rank}] gpu check failed: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
