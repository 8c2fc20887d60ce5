// Export: a checkpoint + all_config.yaml to a TorchScript module of the whole ACT inference that
// our jit.load and Python's torch.jit.load run with the same outputs as our model's eval forward.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { torch, Tensor } from '../../lib';
import { main } from '../../lib/cli/trm';
import { ConfigError } from '../../lib/config/errors';
import * as jit from '../../lib/jit';
import { recursionOf } from '../../lib/jit/export';
import { registerModel } from '../../lib/models/registry';
import { ACTModel } from '../../lib/models/recursive_reasoning/act';
import { parseConfig } from '../../lib/models/recursive_reasoning/config';
import { TRM_FIELDS } from '../../lib/models/recursive_reasoning/trm';
import { TinyRecursiveReasoningModel_ACTV1 as SingleZ, TinyRecursiveReasoningModel_ACTV1_Inner as SingleZInner } from '../../lib/models/recursive_reasoning/trm_singlez';
import { PYTHON, pythonHasTorch } from '../helpers/torch';
import { evalForward, makeRun, META, Outputs } from './export_reference';

const TWO_LEVEL = ['arch.H_cycles=2', 'arch.L_cycles=2', 'arch.L_layers=1'];
/** One small model per architecture, between them every embedding, position and mixing option. */
const VARIANTS: Record<string, string[]> = {
  'trm, attention + RoPE, padded puzzle embedding': ['arch=trm', ...TWO_LEVEL, 'arch.L_layers=2', 'arch.puzzle_emb_ndim=24', 'arch.puzzle_emb_len=2'],
  'trm, mlp_t, learned positions, no puzzle embedding': ['arch=trm', ...TWO_LEVEL, 'arch.mlp_t=true', 'arch.pos_encodings=learned', 'arch.puzzle_emb_ndim=0', 'arch.puzzle_emb_len=0'],
  'trm_singlez, attention + RoPE': ['arch=trm_singlez', ...TWO_LEVEL, 'arch.puzzle_emb_ndim=16', 'arch.puzzle_emb_len=1'],
  'trm_hier6, no positions': ['arch=trm_hier6', ...TWO_LEVEL, 'arch.L_cycles=3', 'arch.pos_encodings=none', 'arch.puzzle_emb_ndim=16', 'arch.puzzle_emb_len=1'],
  'hrm, mlp_t, H_level and L_level': ['arch=hrm', ...TWO_LEVEL, 'arch.H_layers=1', 'arch.mlp_t=true'],
  'transformers_baseline, learned positions': ['arch=transformers_baseline', 'arch.H_layers=2', 'arch.pos_encodings=learned'],
  'transformers_baseline, act_inference (rows halt by the Q head)': ['arch=transformers_baseline', 'arch.H_layers=1', '+arch.act_inference=true', 'arch.halt_max_steps=4'],
};

/** Runs `code` (torch and json imported) in Python with our environment; its JSON output. */
function runPython<T>(code: string): T {
  const r = spawnSync(PYTHON, ['-c', `import torch, json\n${code}`], { env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

interface PythonResult {
  logits: number;
  q: number;
  /** Predictions equal the argmax of the module's own logits. */
  pred: boolean;
  seq_len: number;
}

/** Python's torch.jit.load of `out` on the inputs saved in `io`: its distance from the reference there. */
function pythonRun(out: string, io: string): PythonResult {
  return runPython<PythonResult>(
    [
      `d = torch.load(${JSON.stringify(io)})`,
      `m = torch.jit.load(${JSON.stringify(out)})`,
      'with torch.no_grad():',
      "    pred, logits, q = m(d['inputs'], d['puzzle_identifiers'])",
      "print(json.dumps({'logits': (logits.float() - d['logits']).abs().max().item(), 'q': (q - d['q']).abs().max().item(),",
      "                  'pred': bool((pred == logits.argmax(-1)).all()), 'seq_len': m.seq_len}))",
    ].join('\n')
  );
}

/** Adds our eval forward on io.pt's inputs to io.pt, computed in a process whose GEMMs are the system BLAS's, as Python's (export_reference.ts). */
function blasReference(checkpoint: string, io: string): void {
  const script = path.join(__dirname, 'export_reference.js');
  const r = spawnSync(process.execPath, [script, checkpoint, io], { env: { ...process.env, TRM_GEMM: 'blas', OMP_WAIT_POLICY: 'PASSIVE' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`export_reference failed (${r.status}):\n${r.stderr}`);
}

/**
 * bfloat16 keeps 8 significant bits: logits of size ~2.5 are 0.016 apart, so a few roundings that
 * go the other way in another kernel (e.g. attention's matmul + softmax for our fused one) stay
 * within 0.05. (On this machine the outputs are equal.)
 */
const BF16_TOL = 0.05;

const maxDiff = (a: Tensor, b: Tensor) => torch.tidy(() => a.to('float32').sub(b.to('float32')).abs().max().item());

describe('trm export', function () {
  let root: string;
  before(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-export-'))));
  after(() => root && !process.env.KEEP && fs.rmSync(root, { recursive: true, force: true }));

  /**
   * Exports a small random model, runs the module (as exported, as jit.load reads it back, and in
   * Python) and our eval forward on the same batch, and checks each against ours within `tol`.
   */
  function checkExport(name: string, overrides: string[], tol: number, check: (ours: Outputs) => void = () => {}): void {
    const dir = path.join(root, name.replace(/\W+/g, '_'));
    const checkpoint = makeRun(dir, overrides);
    const out = path.join(dir, 'model.pt');
    const { module, modelConfig: mc } = jit.exportModel(checkpoint, { out, metadata: META });
    assert.ok(fs.existsSync(out));
    const { model, config } = jit.loadTrainedModel(checkpoint, { metadata: META });
    const live = torch.memory().tensors;
    torch.tidy(() => {
      torch.manualSeed(5);
      const inputs = torch.randint(0, META.vocab_size, [4, META.seq_len]);
      const pids = torch.randint(0, META.num_puzzle_identifiers, [4]);
      const ours = evalForward(model, inputs, pids);
      check(ours);
      for (const m of [module, jit.load(out)]) {
        const [pred, logits, q] = torch.noGrad(() => m.forward(inputs, pids)) as Tensor[];
        assert.deepStrictEqual(logits.shape, [4, META.seq_len, META.vocab_size]);
        assert.strictEqual(logits.dtype, model.inner.forward_dtype);
        assert.ok(maxDiff(logits, ours.logits) <= tol, `logits differ by ${maxDiff(logits, ours.logits)}`);
        assert.ok(maxDiff(q, ours.q_halt_logits) <= tol, `q_halt_logits differ by ${maxDiff(q, ours.q_halt_logits)}`);
        assert.deepStrictEqual(pred.toArray(), torch.tidy(() => logits.argmax(-1).toArray()));
        assert.strictEqual(m.attr('arch'), config.arch.name);
        assert.strictEqual(m.attr('seq_len'), META.seq_len);
        assert.strictEqual(m.attr('halt_max_steps'), mc.halt_max_steps);
      }
      if (pythonHasTorch()) {
        const io = path.join(dir, 'io.pt');
        torch.save(new Map([['inputs', inputs], ['puzzle_identifiers', pids]]), io);
        blasReference(checkpoint, io);
        const py = pythonRun(out, io);
        assert.ok(py.logits <= tol && py.q <= tol, JSON.stringify(py));
        assert.strictEqual(py.pred, true);
        assert.strictEqual(py.seq_len, META.seq_len);
      }
    });
    assert.strictEqual(torch.memory().tensors, live, 'the comparison leaked tensors');
  }

  for (const [name, overrides] of Object.entries(VARIANTS)) {
    it(`${name}: jit.load and Python's torch.jit.load match our eval forward`, function () {
      const adaptive = overrides.includes('+arch.act_inference=true');
      checkExport(name, overrides, 1e-5, (ours) => {
        // Every row runs halt_max_steps steps, unless the Q head halts it (here some rows early, some late).
        if (adaptive) assert.ok(new Set(ours.steps).size > 1, `rows all halted at step ${ours.steps[0]}`);
        else assert.deepStrictEqual(new Set(ours.steps), new Set([3]));
      });
    });
  }

  it('bfloat16 (forward_dtype): the exported module matches our eval forward within bfloat16 rounding', function () {
    checkExport('bfloat16', [...VARIANTS['trm, attention + RoPE, padded puzzle embedding'], 'arch.forward_dtype=bfloat16'], BF16_TOL, (ours) =>
      assert.strictEqual(ours.logits.dtype, 'bfloat16')
    );
  });

  it('`trm export` writes the module, reading dataset.json or inferring what the weights tell', async () => {
    const dir = path.join(root, 'cli');
    const checkpoint = makeRun(dir, VARIANTS['trm, mlp_t, learned positions, no puzzle embedding']);
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

  it('seq_len from the weights uses the architecture\'s puzzle_emb_len (hrm: ceil(puzzle_emb_ndim / hidden))', () => {
    const dir = path.join(root, 'hrm_infer');
    const checkpoint = makeRun(dir, VARIANTS['hrm, mlp_t, H_level and L_level']);
    const { module } = jit.exportModel(checkpoint, { out: path.join(dir, 'model.pt') });
    assert.strictEqual(module.attr('seq_len'), META.seq_len);
    assert.strictEqual(module.attr('puzzle_emb_len'), 1);
  });

  it('bad input is a typed error naming the problem', () => {
    const dir = path.join(root, 'bad');
    const checkpoint = makeRun(dir, VARIANTS['trm_singlez, attention + RoPE']);
    const out = path.join(dir, 'model.pt');
    const exportError = (code: string, pattern: RegExp) => (e: unknown) => e instanceof jit.ExportError && e.code === code && pattern.test(e.message);
    assert.throws(() => jit.exportModel(path.join(dir, 'missing'), { out }), exportError('not_found', /checkpoint .*missing' does not exist/));
    assert.throws(() => jit.exportModel(checkpoint, { out, config: path.join(dir, 'nope.yaml') }), exportError('not_found', /no config/));
    // Attention with RoPE: nothing in the weights tells seq_len, and there is no dataset.json.
    assert.throws(() => jit.exportModel(checkpoint, { out }), exportError('metadata', /seq_len is unknown.*--seq-len/));
    assert.throws(() => jit.exportModel(checkpoint, { out, metadata: META, haltMaxSteps: 0 }), /Expected positive integer for haltMaxSteps but received 0/);
    assert.throws(() => jit.exportModel(checkpoint, {} as never), TypeError);
    assert.throws(() => recursionOf('recursive_reasoning.trm@Nope'), exportError('unsupported_arch', /export supports recursive_reasoning\.trm@.*hrm@.*transformers_baseline@Model_ACTV2; this checkpoint is recursive_reasoning\.trm@Nope/));
    assert.deepStrictEqual(jit.EXPORTABLE.length, 5);
    // A config naming an unknown architecture is refused when read, naming the known ones.
    const yaml = fs.readFileSync(path.join(dir, 'all_config.yaml'), 'utf8').replace(/name: recursive_reasoning\.trm_singlez@\w+/, 'name: my.arch@Mine');
    fs.writeFileSync(path.join(dir, 'other.yaml'), yaml);
    assert.throws(() => jit.exportModel(checkpoint, { out, config: path.join(dir, 'other.yaml'), metadata: META }), (e: Error) => e instanceof ConfigError && /my\.arch@Mine/.test(e.message));
    // A model re-registered under a built-in name may recurse differently: export refuses it.
    const name = 'recursive_reasoning.trm_singlez@TinyRecursiveReasoningModel_ACTV1';
    class CustomInner extends SingleZInner {}
    class Custom extends ACTModel {
      constructor(c: Record<string, unknown>) {
        const config = parseConfig(TRM_FIELDS, c, name);
        super(config, new CustomInner(config));
      }
    }
    registerModel(name, (c) => new Custom(c), { replace: true });
    try {
      assert.throws(() => jit.exportModel(checkpoint, { out, metadata: META }), exportError('unsupported_arch', /another inner module \(CustomInner\)/));
    } finally {
      registerModel(name, (c) => new SingleZ(c), { replace: true });
    }
    assert.ok(!fs.existsSync(out));
  });
});
