// Run by gpu_check.sh on a machine with CUDA GPUs (not by mocha): an NCCL group of WORLD_SIZE
// (1 unless launched), collectives on cuda:LOCAL_RANK tensors, and a few autograd steps on the
// GPU whose gradients are all-reduced through NCCL. Prints what it saw; exits non-zero on a miss.
import * as torch from '../../lib/torch';
import { native } from '../../lib/torch/native';
import { initProcessGroup, readDistEnv } from '../../lib/distributed';

async function main(): Promise<void> {
  const info = native.buildInfo();
  const env = readDistEnv();
  const device = `cuda:${env.localRank}`;
  const say = (m: string) => console.log(`[rank ${env.rank}] ${m}`);
  say(`LibTorch ${info.torchVersion}, cuda ${info.cuda}, ${info.cudaDeviceCount} GPU(s), nccl ${info.nccl}; using ${device}`);
  if (!info.cuda || !info.nccl) throw new Error('this build has no CUDA/NCCL: build against a CUDA LibTorch first (see gpu_check.sh)');
  const pg = await initProcessGroup({ backend: 'nccl', timeoutMs: 120000 });
  const ws = pg.worldSize;
  const x = torch.tensor([pg.rank + 1, 2], { dtype: 'float32', device });
  await pg.allReduce(x, 'sum');
  const expectSum = [(ws * (ws + 1)) / 2, 2 * ws];
  const got = x.to('cpu').toArray();
  say(`allReduce sum ${JSON.stringify(got)} (expected ${JSON.stringify(expectSum)})`);
  if (JSON.stringify(got) !== JSON.stringify(expectSum)) throw new Error('allReduce mismatch');
  const avg = torch.tensor([pg.rank * 2], { dtype: 'bfloat16', device });
  await pg.allReduce(avg, 'avg');
  say(`allReduce avg bf16 ${avg.to('cpu').toArray()}`);
  const b = torch.tensor([pg.rank === 0 ? 7 : 0], { dtype: 'float32', device });
  await pg.broadcast(b, 0);
  say(`broadcast ${b.to('cpu').toArray()}`);
  const g = await pg.allGatherIntoTensor(torch.tensor([pg.rank], { dtype: 'float32', device }));
  say(`allGatherIntoTensor ${g.to('cpu').toArray()} on ${g.device}`);
  await pg.barrier();
  // A few steps of least squares on the GPU, data-parallel: grads summed over ranks.
  const w = torch.zeros([4, 1], { dtype: 'float32', device, requiresGrad: true });
  const data = torch.randn([64, 4], { dtype: 'float32', device });
  const target = data.matmul(torch.tensor([[1], [2], [3], [4]], { dtype: 'float32', device }));
  for (let step = 0; step < 5; step++) {
    const loss = data.matmul(w).sub(target).pow(2).mean();
    loss.backward();
    await pg.allReduce(w.grad!, 'avg');
    torch.noGrad(() => w.sub_(w.grad!.mul(0.1)));
    w.grad!.zero_();
    say(`step ${step} loss ${loss.to('cpu').toArray()[0].toFixed(4)}`);
  }
  pg.destroy();
  say('OK');
}

main().catch((e) => {
  console.error(`gpu check failed: ${e && e.message ? e.message : e}`);
  process.exit(1);
});
