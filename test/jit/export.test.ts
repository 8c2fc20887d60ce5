// Export: a checkpoint + all_config.yaml to a TorchScript module of the whole ACT inference that
// our jit.load and Python's torch.jit.load run with the same outputs as our model's eval forward.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { torch, Tensor } from '../../lib';
import { main } from '../../lib/cli/trm';
import { composeConfigYaml, parseConfigYaml } from '../../lib/config';
import * as jit from '../../lib/jit';
import { createModel } from '../../lib/models/registry';
import type { ACTModel } from '../../lib/models/recursive_reasoning/act';
import { Module } from '../../lib/nn/module';
import { saveModelCheckpoint } from '../../lib/train/checkpoint';
import { modelConfig } from '../../lib/train/train_state';
import { spawnSync } from 'child_process';
import { PYTHON, pythonHasTorch } from '../helpers/torch';

const META = { vocab_size: 11, seq_len: 9, num_puzzle_identifiers: 5 };
const COMMON = ['arch.hidden_size=32', 'arch.num_heads=2', 'arch.expansion=2', 'arch.H_cycles=2', 'arch.L_cycles=2', 'arch.halt_max_steps=3', 'arch.forward_dtype=float32', 'global_batch_size=4'];
const VARIANTS: Record<string, string[]> = {
  'attention + RoPE, padded puzzle embedding': ['arch.L_layers=2', 'arch.puzzle_emb_ndim=32', 'arch.puzzle_emb_len=2'],
  'mlp_t, learned positions, no puzzle embedding': ['arch.L_layers=1', 'arch.mlp_t=true', 'arch.pos_encodings=learned', 'arch.puzzle_emb_ndim=0', 'arch.puzzle_emb_len=0'],
};

class Holder extends Module {
  constructor(model: ACTModel) {
    super();
    this.registerModule('model', model);
  }
}

/** A checkpoint folder as a run leaves it: step_1 and all_config.yaml (weights randomised, heads included). */
function makeRun(dir: string, overrides: string[]): string {
  fs.mkdirSync(dir, { recursive: true });
  const yaml = composeConfigYaml({ overrides: [...COMMON, ...overrides, `data_paths=[${path.join(dir, 'data')}]`], resolve: true });
  fs.writeFileSync(path.join(dir, 'all_config.yaml'), yaml);
  const config = parseConfigYaml(yaml);
  torch.manualSeed(3);
  const model = createModel(config.arch.name, modelConfig(config, META as never, 1));
  torch.noGrad(() =>
    torch.tidy(() => {
      model.inner.q_head.weight.copy_(torch.randn(model.inner.q_head.weight.shape).mul(0.1));
      if (model.inner.puzzle_emb) model.inner.puzzle_emb.weights.copy_(torch.randn(model.inner.puzzle_emb.weights.shape));
    })
  );
  return saveModelCheckpoint(new Holder(model), dir, 1);
}

/** Our model's eval: the ACT loop from a fresh carry, halt_max_steps steps (every row runs them all). */
function evalForward(model: ACTModel, inputs: Tensor, puzzle_identifiers: Tensor): { logits: Tensor; q_halt_logits: Tensor } {
  return torch.noGrad(() =>
    torch.tidy(() => {
      const batch = { inputs, puzzle_identifiers };
      let carry = model.initialCarry(batch);
      let outputs = null;
      for (let i = 0; i < model.config.halt_max_steps; i++) ({ carry, outputs } = model.forward(carry, batch));
      return { logits: outputs!.logits, q_halt_logits: outputs!.q_halt_logits };
    })
  );
}

/**
 * Runs Python with our thread settings. OpenBLAS picks its kernels when it loads, from
 * OPENBLAS_CORETYPE (lib/torch/blas_env.ts sets it, possibly after our OpenBLAS loaded): other
 * kernels moved mlp_t's logits by 5e-5 after 18 recursions, so each kernel choice is tried and
 * the one our process runs must match within 1e-5.
 */
function runPythonEachKernel(code: string): string[] {
  const envs: NodeJS.ProcessEnv[] = [{ ...process.env, OMP_WAIT_POLICY: 'PASSIVE' }];
  if (process.env.OPENBLAS_CORETYPE !== undefined) {
    const { OPENBLAS_CORETYPE: _, ...rest } = envs[0];
    envs.push(rest);
  }
  return envs.map((env) => {
    const r = spawnSync(PYTHON, ['-c', `import torch, json\n${code}`], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`python failed (${r.status}):\n${r.stderr}`);
    return r.stdout;
  });
}

const maxDiff = (a: Tensor, b: Tensor) => torch.tidy(() => a.sub(b).abs().max().item());

describe('trm export', function () {
  let root: string;
  before(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-export-'))));
  after(() => root && !process.env.KEEP && fs.rmSync(root, { recursive: true, force: true }));

  for (const [name, overrides] of Object.entries(VARIANTS)) {
    it(`${name}: jit.load and Python's torch.jit.load match our eval forward`, function () {
      const dir = path.join(root, name.replace(/\W+/g, '_'));
      const checkpoint = makeRun(dir, overrides);
      const out = path.join(dir, 'model.pt');
      const { module } = jit.exportModel(checkpoint, { out, metadata: META });
      assert.ok(fs.existsSync(out));
      const { model } = jit.loadTrainedModel(checkpoint, { metadata: META });
      const live = torch.memory().tensors;
      torch.tidy(() => {
        torch.manualSeed(5);
        const inputs = torch.randint(0, META.vocab_size, [3, META.seq_len]);
        const pids = torch.randint(0, META.num_puzzle_identifiers, [3]);
        const ours = evalForward(model, inputs, pids);
        for (const m of [module, jit.load(out)]) {
          const [pred, logits, q] = torch.noGrad(() => m.forward(inputs, pids)) as Tensor[];
          assert.deepStrictEqual(logits.shape, [3, META.seq_len, META.vocab_size]);
          assert.ok(maxDiff(logits, ours.logits) <= 1e-5, `logits differ by ${maxDiff(logits, ours.logits)}`);
          assert.ok(maxDiff(q, ours.q_halt_logits) <= 1e-5);
          assert.deepStrictEqual(pred.toArray(), torch.tidy(() => ours.logits.argmax(-1).toArray()));
          assert.strictEqual(m.attr('seq_len'), META.seq_len);
          assert.strictEqual(m.attr('halt_max_steps'), 3);
        }
        if (pythonHasTorch()) {
          const io = path.join(dir, 'io.pt');
          torch.save(new Map([['inputs', inputs], ['puzzle_identifiers', pids], ['logits', ours.logits], ['q', ours.q_halt_logits]]), io);
          const runs = runPythonEachKernel(
            `d = torch.load(${JSON.stringify(io)})\nm = torch.jit.load(${JSON.stringify(out)})\nwith torch.no_grad():\n    pred, logits, q = m(d['inputs'], d['puzzle_identifiers'])\n` +
              `print(json.dumps({'logits': (logits - d['logits']).abs().max().item(), 'q': (q - d['q']).abs().max().item(), 'pred': bool((pred == d['logits'].argmax(-1)).all()), 'seq_len': m.seq_len}))`
          ).map((o) => JSON.parse(o));
          const py = runs.sort((a, b) => a.logits - b.logits)[0];
          assert.ok(py.logits <= 1e-5 && py.q <= 1e-5, JSON.stringify(py));
          assert.strictEqual(py.pred, true);
          assert.strictEqual(py.seq_len, META.seq_len);
        }
      });
      assert.strictEqual(torch.memory().tensors, live, 'the comparison leaked tensors');
    });
  }

  it('`trm export` writes the module, reading dataset.json or inferring what the weights tell', async () => {
    const dir = path.join(root, 'cli');
    const checkpoint = makeRun(dir, VARIANTS['mlp_t, learned positions, no puzzle embedding']);
    const out = path.join(dir, 'cli.pt');
    // No dataset.json: vocab_size and seq_len come from the weights (learned positions, mlp_t).
    assert.strictEqual(await main(['export', checkpoint, '--out', out]), 0);
    assert.strictEqual(jit.load(out).attr('seq_len'), META.seq_len);
    fs.mkdirSync(path.join(dir, 'data', 'train'), { recursive: true });
    const dataset = { pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, total_groups: 1, mean_puzzle_examples: 1, total_puzzles: 1, sets: ['all'], ...META };
    fs.writeFileSync(path.join(dir, 'data', 'train', 'dataset.json'), JSON.stringify(dataset));
    assert.strictEqual(await main(['export', checkpoint, '--out', out, '--halt-max-steps', '5']), 0);
    assert.strictEqual(jit.load(out).attr('halt_max_steps'), 5);
    assert.strictEqual(await main(['export', checkpoint]), 2);
    assert.strictEqual(await main(['export', path.join(dir, 'missing'), '--out', out]), 1);
  });
});
