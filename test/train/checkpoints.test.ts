// Issue 5 items 3–4: checkpoints in PyTorch's zip format with the official key layout, read by
// Python's torch.load; state dicts written by Python (official keys, with or without `_orig_mod.`)
// load through load_checkpoint, with the puzzle embedding reset to the mean of its rows when the
// shapes differ; eval_save_outputs files Python reads; all_config.yaml parses back.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseConfigYaml } from '../../lib/config';
import * as torch from '../../lib/torch';
import { hasPythonTorch, makeSudokuData, python, runRecorded, tempDir, tinyConfig } from './helpers';

type Tensor = torch.Tensor;

const SAVE_OUTPUTS = ['inputs', 'labels', 'puzzle_identifiers', 'preds', 'q_halt_logits'];

/** The keys the official TRM (torch.compile'd, in ACTLossHead) saves for the tiny config. */
const OFFICIAL_KEYS = [
  'H_init',
  'L_init',
  'embed_tokens.embedding_weight',
  'lm_head.weight',
  'q_head.weight',
  'q_head.bias',
  'puzzle_emb.weights',
  'L_level.layers.0.self_attn.qkv_proj.weight',
  'L_level.layers.0.self_attn.o_proj.weight',
  'L_level.layers.0.mlp.gate_up_proj.weight',
  'L_level.layers.0.mlp.down_proj.weight',
].map((k) => `_orig_mod.model.inner.${k}`);

// Python: a state dict file → {key: [shape, dtype, values as float64]}.
const DUMP = `
import json, sys, torch
sd = torch.load(sys.argv[1], map_location="cpu")
print(json.dumps({k: [list(v.shape), str(v.dtype), v.double().flatten().tolist()] for k, v in sd.items()}))
`;

describe('[slow] trm-train checkpoints', () => {
  let root: string;
  let data: string;
  let runDir: string;
  let result: Awaited<ReturnType<typeof runRecorded>>['result'];

  before(async () => {
    root = tempDir('ckpt');
    data = makeSudokuData(root);
    runDir = path.join(root, 'run');
    // 2 epochs, an evaluation (and checkpoint) after each: step_12 and step_24.
    const config = tinyConfig(data, runDir, ['epochs=2', 'eval_interval=1', `+eval_save_outputs=[${SAVE_OUTPUTS.join(',')}]`]);
    result = (await runRecorded(config)).result;
  });
  after(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('writes step_N (+ .resume) after every evaluation, atomically (no temp files left)', () => {
    const files = fs.readdirSync(runDir).sort();
    for (const f of ['all_config.yaml', 'metrics.jsonl', 'step_12', 'step_12.resume', 'step_12_all_preds.0', 'step_24', 'step_24.resume', 'step_24_all_preds.0']) {
      assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
    }
    assert.ok(files.some((f) => f.startsWith('events.out.tfevents.')));
    assert.deepStrictEqual(files.filter((f) => f.startsWith('.') || f.includes('tmp')), []);
  });

  it('uses the official key layout (_orig_mod.model.inner.…)', () => {
    const sd = torch.load(path.join(runDir, 'step_24')) as Map<string, Tensor>;
    try {
      assert.deepStrictEqual([...sd.keys()].sort(), [...OFFICIAL_KEYS].sort());
      assert.deepStrictEqual(sd.get('_orig_mod.model.inner.puzzle_emb.weights')!.shape, [1, 32]);
    } finally {
      torch.dispose(sd);
    }
  });

  it('is read by Python torch.load with equal tensors', function () {
    if (!hasPythonTorch()) this.skip();
    const py = python(DUMP, [path.join(runDir, 'step_24')]) as Record<string, [number[], string, number[]]>;
    const sd = torch.load(path.join(runDir, 'step_24')) as Map<string, Tensor>;
    try {
      assert.deepStrictEqual(Object.keys(py).sort(), [...sd.keys()].sort());
      for (const [k, v] of sd) {
        assert.deepStrictEqual(py[k][0], v.shape, `${k} shape`);
        assert.strictEqual(py[k][1], 'torch.float32', `${k} dtype`);
        assert.deepStrictEqual(py[k][2], Array.from(v.toTypedArray() as Float32Array), `${k} values`);
      }
    } finally {
      torch.dispose(sd);
    }
  });

  it('loads state dicts written by Python with official keys, with and without _orig_mod., and resets a puzzle embedding of another shape to the mean', async function () {
    if (!hasPythonTorch()) this.skip();
    const dir = path.join(root, 'py');
    // Python writes new weights (seeded noise) in three files: compiled keys, plain keys, and plain
    // keys with a 5-row puzzle embedding (the model has 1 row: it must get the mean of the 5).
    const written = python(
      `
import json, sys, torch
torch.manual_seed(0)
src, out = sys.argv[1], sys.argv[2]
sd = {k: torch.randn_like(v) * 0.05 for k, v in torch.load(src).items()}
torch.save(sd, out + "/compiled.pt")
plain = {k[len("_orig_mod."):]: v for k, v in sd.items()}
torch.save(plain, out + "/plain.pt")
emb = torch.randn(5, plain["model.inner.puzzle_emb.weights"].shape[1])
torch.save({**plain, "model.inner.puzzle_emb.weights": emb}, out + "/resize.pt")
print(json.dumps(sorted(plain.keys())))
`,
      [path.join(runDir, 'step_12'), (fs.mkdirSync(dir), dir)]
    ) as string[];
    assert.ok(written.every((k) => k.startsWith('model.inner.')));

    // lr = 0 keeps the loaded weights exactly (decay factor 1 - 0·wd = 1), so step_12 of the new
    // run holds what was loaded.
    const frozen = ['epochs=1', 'eval_interval=1', 'lr=0', 'puzzle_emb_lr=0'];
    for (const name of ['compiled', 'plain', 'resize']) {
      const out = path.join(dir, `run-${name}`);
      const run = await runRecorded(tinyConfig(data, out, [...frozen, `+load_checkpoint=${path.join(dir, `${name}.pt`)}`]));
      assert.strictEqual(run.result.step, 12);
      const resetLogged = run.logs.some((l) => /Resetting puzzle embedding as shape is different\. Found \[5,32\], Expected \[1,32\]/.test(l));
      assert.strictEqual(resetLogged, name === 'resize', run.logs.join('\n'));
    }
    const check = python(
      `
import json, sys, torch
d = sys.argv[1]
ref = {k[len("_orig_mod."):]: v for k, v in torch.load(d + "/compiled.pt").items()}
emb = torch.load(d + "/resize.pt")["model.inner.puzzle_emb.weights"]
res = {}
for name in ["compiled", "plain", "resize"]:
    got = torch.load(d + "/run-" + name + "/step_12")
    for k, v in got.items():
        assert k.startswith("_orig_mod."), k
        want = ref[k[len("_orig_mod."):]]
        if name == "resize" and k.endswith("puzzle_emb.weights"):
            res[name + ":" + k] = bool(torch.allclose(v, emb.mean(0, keepdim=True), rtol=1e-6, atol=1e-7))
        else:
            res[name + ":" + k] = bool(torch.equal(v, want))
print(json.dumps(res))
`,
      [dir]
    ) as Record<string, boolean>;
    assert.strictEqual(Object.keys(check).length, 3 * written.length);
    assert.deepStrictEqual(Object.entries(check).filter(([, ok]) => !ok).map(([k]) => k), []);
  });

  it('writes eval_save_outputs as step_N_all_preds.0, which Python reads, with the batch fields and outputs named', function () {
    if (!hasPythonTorch()) this.skip();
    const py = python(
      `
import json, sys, torch, numpy as np
p = torch.load(sys.argv[1])
test = sys.argv[2]
out = {k: [list(v.shape), str(v.dtype)] for k, v in p.items()}
out["inputs_match"] = bool((p["inputs"].numpy() == np.load(test + "/all__inputs.npy")).all())
out["labels_match"] = bool((p["labels"].numpy() == np.load(test + "/all__labels.npy")).all())
out["preds_in_vocab"] = bool(((p["preds"] >= 0) & (p["preds"] < 6)).all())
print(json.dumps(out))
`,
      [path.join(runDir, 'step_24_all_preds.0'), path.join(data, 'test')]
    ) as Record<string, unknown>;
    assert.deepStrictEqual(py, {
      inputs: [[32, 16], 'torch.int32'],
      labels: [[32, 16], 'torch.int32'],
      puzzle_identifiers: [[32], 'torch.int32'],
      preds: [[32, 16], 'torch.int64'],
      q_halt_logits: [[32], 'torch.float32'],
      inputs_match: true,
      labels_match: true,
      preds_in_vocab: true,
    });
  });

  it('saves the resolved config as all_config.yaml, which parses back to the same config', () => {
    const back = parseConfigYaml(fs.readFileSync(path.join(runDir, 'all_config.yaml'), 'utf8'), 'all_config.yaml');
    assert.deepStrictEqual(back, result.config);
    assert.strictEqual(back.checkpoint_path, runDir);
    assert.deepStrictEqual(back.eval_save_outputs, SAVE_OUTPUTS);
  });

  it('fills project_name, run_name and checkpoint_path as the official code when not given', async () => {
    const cwd = process.cwd();
    const work = path.join(root, 'names');
    fs.mkdirSync(work);
    process.chdir(work);
    try {
      const config = tinyConfig(data, 'unused', ['epochs=1', 'eval_interval=1']);
      const run = await runRecorded({ ...config, checkpoint_path: null, run_name: null, project_name: null }, { stopAtStep: 1 });
      assert.strictEqual(run.result.config.project_name, 'Sudoku-ACT-torch');
      assert.match(run.result.config.run_name!, /^TinyRecursiveReasoningModel_ACTV1 [a-z]+-[a-z]+$/);
      assert.strictEqual(run.result.checkpointPath, path.join('checkpoints', 'Sudoku-ACT-torch', run.result.config.run_name!));
      assert.ok(fs.existsSync(path.join(work, run.result.checkpointPath, 'step_1')));
    } finally {
      process.chdir(cwd);
    }
  });
});
