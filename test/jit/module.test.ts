// jit.load / loadAsync of a module Python scripted: methods, parameters and buffers, train/eval,
// to(), save and the round trip back into Python.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { torch, Tensor, TorchError } from '../../lib';
import * as jit from '../../lib/jit';
import { spawnSync } from 'child_process';
import { PYTHON, pythonHasTorch, runTorchPython } from '../helpers/torch';

const SCRIPT = `import json, sys
from typing import Dict, List, Tuple
import torch
class Inner(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)
        self.register_buffer('offset', torch.tensor([0.5, -0.5]))
    def forward(self, x):
        return self.lin(x) + self.offset

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Inner()
        self.scale = torch.nn.Parameter(torch.tensor(2.0))
        self.register_buffer('calls', torch.zeros([], dtype=torch.int64))
        self.tag = 'net'
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.inner(x) * self.scale
        return y * 10 if self.training else y
    @torch.jit.export
    def stats(self, xs: Dict[str, torch.Tensor], k: int) -> Tuple[List[float], str]:
        return [float(v.sum()) * k for v in xs.values()], self.tag

torch.manual_seed(0)
m = torch.jit.script(Net()).eval()
x = torch.arange(6, dtype=torch.float32).view(2, 3)
m.save(sys.argv[1])
print(json.dumps({'eval': m(x).flatten().tolist(), 'train': m.train()(x).flatten().tolist(),
                  'params': {k: v.flatten().tolist() for k, v in m.named_parameters()},
                  'buffers': sorted(k for k, _ in m.named_buffers())}))
`;

describe('jit.load (a module scripted by Python)', function () {
  let dir: string;
  let file: string;
  let expected: { eval: number[]; train: number[]; params: Record<string, number[]>; buffers: string[] };
  let live = 0;

  before(function () {
    if (!pythonHasTorch()) this.skip();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-jit-'));
    file = path.join(dir, 'net.pt');
    // torch.jit.script reads the classes' source: it must be a file.
    const script = path.join(dir, 'make_net.py');
    fs.writeFileSync(script, SCRIPT);
    const r = spawnSync(PYTHON, [script, file], { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: '1' } });
    if (r.status !== 0) throw new Error(`python failed:\n${r.stderr}`);
    expected = JSON.parse(r.stdout);
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => (live = torch.memory().tensors));
  afterEach(() => assert.strictEqual(torch.memory().tensors, live, 'a test leaked tensors'));

  const input = () => torch.arange(0, 6, 1, { dtype: 'float32' }).view(2, 3);
  const close = (a: number[], b: number[]) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, `${v} vs ${b[i]}`));

  it('runs forward and other methods with the same outputs as Python', () =>
    torch.tidy(() => {
      const m = jit.load(file);
      assert.strictEqual(m.training, false);
      close((m.forward(input()) as Tensor).toArray(), expected.eval);
      assert.deepStrictEqual(m.methods.map((f) => f.name).sort(), ['forward', 'stats']);
      const [sums, tag] = m.call('stats', { a: torch.ones([2]), b: torch.full([3], 2) }, 3) as [number[], string];
      assert.deepStrictEqual(sums, [6, 18]);
      assert.strictEqual(tag, 'net');
      assert.strictEqual(m.attr('tag'), 'net');
      assert.strictEqual(m.attr('nope'), undefined);
      assert.throws(() => m.call('nope'), (e: unknown) => e instanceof TorchError && /no method 'nope'/.test(e.message));
    }));

  it('names parameters and buffers as Python does', () =>
    torch.tidy(() => {
      const m = jit.load(file);
      const params = m.namedParameters();
      assert.deepStrictEqual(params.map(([k]) => k).sort(), Object.keys(expected.params).sort());
      for (const [k, t] of params) close(t.toArray(), expected.params[k]);
      assert.deepStrictEqual(m.namedBuffers().map(([k]) => k).sort(), expected.buffers);
      assert.deepStrictEqual(m.namedParameters(false).map(([k]) => k), ['scale']);
      // The handles share the module's storage: an in-place change shows in forward.
      torch.noGrad(() => m.namedParameters(false)[0][1].fill_(0));
      assert.ok((m.forward(input()) as Tensor).toArray().every((v) => v === 0));
    }));

  it('train() / eval() switch the mode the methods see', () =>
    torch.tidy(() => {
      const m = jit.load(file);
      assert.strictEqual(m.train().training, true);
      close((m.forward(input()) as Tensor).toArray(), expected.train);
      assert.strictEqual(m.eval().training, false);
      close((m.forward(input()) as Tensor).toArray(), expected.eval);
    }));

  it('to() casts parameters and buffers', () =>
    torch.tidy(() => {
      const m = jit.load(file).to('float64');
      assert.ok(m.parameters().every((p) => p.dtype === 'float64'));
      assert.strictEqual(m.namedBuffers().find(([k]) => k === 'calls')![1].dtype, 'int64');
      const out = m.forward(input().to('float64')) as Tensor;
      assert.strictEqual(out.dtype, 'float64');
      close(out.toArray(), expected.eval);
      m.to({ dtype: 'float32', device: 'cpu' });
      assert.strictEqual((m.forward(input()) as Tensor).dtype, 'float32');
    }));

  it('save() round-trips, here and in Python', () =>
    torch.tidy(() => {
      const m = jit.load(file);
      torch.noGrad(() => m.namedParameters(false)[0][1].fill_(3));
      const saved = path.join(dir, 'resaved.pt');
      m.save(saved);
      const back = jit.load(saved);
      const want = (m.forward(input()) as Tensor).toArray();
      assert.deepStrictEqual((back.forward(input()) as Tensor).toArray(), want);
      const py = JSON.parse(runTorchPython(`m = torch.jit.load(${JSON.stringify(saved)})\nprint(json.dumps(m(torch.arange(6, dtype=torch.float32).view(2, 3)).flatten().tolist()))`));
      close(py, want);
    }));

  it('loadAsync and forwardAsync settle on the JS thread', async () => {
    const m = await jit.loadAsync(file);
    const x = torch.tidy(input);
    const out = (await m.forwardAsync(x)) as Tensor;
    close(out.toArray(), expected.eval);
    torch.dispose([x, out]);
    const bad = path.join(dir, 'not-a-module.pt');
    fs.writeFileSync(bad, 'hello');
    await assert.rejects(jit.loadAsync(bad), (e: unknown) => e instanceof TorchError && e.op === 'jit.load' && e.message.includes(bad));
    assert.throws(() => jit.load(path.join(dir, 'missing.pt')), (e: unknown) => e instanceof TorchError && /no such file/.test(e.message));
  });
});
