import * as assert from 'assert';
import { composeConfig, composeTree, PretrainConfig } from '../../lib/config';
import { configDir, throwsConfig } from './helpers';

/** The official defaults (cfg_pretrain.yaml + arch/trm.yaml + PretrainConfig defaults), resolved. */
const OFFICIAL_DEFAULTS: PretrainConfig = {
  arch: {
    name: 'recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1',
    loss: { name: 'losses@ACTLossHead', loss_type: 'stablemax_cross_entropy' },
    halt_exploration_prob: 0.1,
    halt_max_steps: 16,
    H_cycles: 3,
    H_layers: 0,
    hidden_size: 512,
    num_heads: 8,
    expansion: 4,
    puzzle_emb_ndim: 512,
    pos_encodings: 'rope',
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    forward_dtype: 'bfloat16',
    L_cycles: 6,
    L_layers: 2,
    mlp_t: false,
    puzzle_emb_len: 16,
    no_ACT_continue: true,
  },
  data_paths: ['data/arc-aug-1000'],
  data_paths_test: [],
  evaluators: [{ name: 'arc@ARC', submission_K: 2, pass_Ks: [1, 2, 5, 10, 100, 1000], aggregated_voting: true }],
  global_batch_size: 768,
  epochs: 100000,
  lr: 1e-4,
  lr_min_ratio: 1.0,
  lr_warmup_steps: 2000,
  weight_decay: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  puzzle_emb_lr: 1e-2,
  puzzle_emb_weight_decay: 0.1,
  project_name: null,
  run_name: null,
  load_checkpoint: null,
  checkpoint_path: null,
  resume: null,
  seed: 0,
  checkpoint_every_eval: true,
  eval_interval: 10000,
  min_eval_interval: 0,
  eval_save_outputs: [],
  ema: false,
  ema_rate: 0.999,
  freeze_weights: false,
};

describe('config/compose: the shipped configs', () => {
  it('composes the official defaults with no overrides', () => {
    assert.deepStrictEqual(composeConfig({ overrides: [] }), OFFICIAL_DEFAULTS);
  });

  it('keeps key order: arch first, then the primary file', () => {
    const { config } = composeTree({});
    assert.deepStrictEqual(Object.keys(config).slice(0, 3), ['arch', 'data_paths', 'data_paths_test']);
    assert.ok(!('hydra' in config) && !('defaults' in config));
  });

  it('selects each arch group option and validates it', () => {
    const expected: Record<string, [string, number, number]> = {
      trm: ['recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1', 3, 0],
      trm_singlez: ['recursive_reasoning.trm_singlez@TinyRecursiveReasoningModel_ACTV1', 3, 0],
      trm_hier6: ['recursive_reasoning.trm_hier6@TinyRecursiveReasoningModel_ACTV1', 3, 0],
      hrm: ['recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1', 2, 4],
      transformers_baseline: ['recursive_reasoning.transformers_baseline@Model_ACTV2', 1, 8],
    };
    for (const [option, [name, hCycles, hLayers]] of Object.entries(expected)) {
      const c = composeConfig({ overrides: [`arch=${option}`] });
      assert.deepStrictEqual([c.arch.name, c.arch.H_cycles, c.arch.H_layers], [name, hCycles, hLayers], option);
      assert.strictEqual(c.arch.puzzle_emb_ndim, c.arch.hidden_size, option);
    }
    const hrm = composeConfig({ overrides: ['arch=hrm'] });
    assert.ok(!('puzzle_emb_len' in hrm.arch), 'hrm has no puzzle_emb_len');
    const tb = composeConfig({ overrides: ['arch=transformers_baseline'] });
    assert.ok(tb.arch.name.endsWith('@Model_ACTV2') && 'act_enabled' in tb.arch && tb.arch.act_enabled === true);
    assert.strictEqual(tb.arch.forward_dtype, 'bfloat16', 'schema default fills the key the file omits');
    assert.strictEqual(tb.arch.num_heads, 12);
  });

  it('applies value overrides on top of the group, in order', () => {
    const c = composeConfig({ overrides: ['arch=hrm', 'arch.hidden_size=128', 'lr=3e-4', 'lr=5e-4', 'data_paths=[a,b]'] });
    assert.strictEqual(c.arch.hidden_size, 128);
    assert.strictEqual(c.arch.puzzle_emb_ndim, 128, '${.hidden_size} follows the override');
    assert.strictEqual(c.lr, 5e-4);
    assert.deepStrictEqual(c.data_paths, ['a', 'b']);
  });

  it('handles the official README commands', () => {
    const c = composeConfig({
      overrides: [
        'arch=trm', 'data_paths=[data/sudoku-extreme-1k-aug-1000]', 'evaluators=[]', 'epochs=50000', 'eval_interval=5000',
        'lr=1e-4', 'puzzle_emb_lr=1e-4', 'weight_decay=1.0', 'puzzle_emb_weight_decay=1.0', 'arch.mlp_t=True',
        'arch.pos_encodings=none', 'arch.L_layers=2', 'arch.H_cycles=3', 'arch.L_cycles=6', '+run_name=pretrain_mlp_t_sudoku', 'ema=True',
      ],
    });
    assert.deepStrictEqual(c.evaluators, []);
    assert.strictEqual(c.arch.pos_encodings, 'none');
    assert.strictEqual(c.arch.name.includes('trm@') && 'mlp_t' in c.arch && c.arch.mlp_t, true);
    assert.strictEqual(c.run_name, 'pretrain_mlp_t_sudoku');
    assert.strictEqual(c.ema, true);
    assert.strictEqual(c.weight_decay, 1);
  });

  it('adds, force-adds and deletes values like Hydra', () => {
    assert.strictEqual(composeConfig({ overrides: ['++run_name=a'] }).run_name, 'a');
    assert.strictEqual(composeConfig({ overrides: ['++seed=7'] }).seed, 7);
    assert.strictEqual(composeConfig({ overrides: ['~eval_interval'] }).eval_interval, null, 'deleted key falls back to the schema default');
    assert.strictEqual(composeConfig({ overrides: ['~seed=0'] }).seed, 0);
    assert.deepStrictEqual(composeConfig({ overrides: ['data_paths.0=data/x'] }).data_paths, ['data/x']);
    throwsConfig(() => composeConfig({ overrides: ['+lr=1'] }), 'override', "Could not add 'lr'", 'lr=1');
    throwsConfig(() => composeConfig({ overrides: ['run_name=a'] }), 'override', 'valid key', '+run_name=a');
    throwsConfig(() => composeConfig({ overrides: ['~nothing'] }), 'override', "Could not delete 'nothing'");
    throwsConfig(() => composeConfig({ overrides: ['~seed=3'] }), 'override', 'its value is 0, not 3');
    throwsConfig(() => composeConfig({ overrides: ['lrr=1'] }), 'override', "Did you mean 'lr'?");
  });

  it('adds, changes and removes config groups', () => {
    throwsConfig(() => composeConfig({ overrides: ['+arch=hrm'] }), 'override', "'arch' is already in the defaults list", 'arch=hrm');
    assert.ok(composeConfig({ overrides: ['++arch=hrm'] }).arch.name.includes('.hrm@'));
    throwsConfig(() => composeConfig({ overrides: ['~arch'] }), 'missing', "'arch'");
    throwsConfig(() => composeConfig({ overrides: ['arch=null'] }), 'missing', "'arch'");
    throwsConfig(() => composeConfig({ overrides: ['~arch=hrm'] }), 'override', "Could not delete 'arch'");
    throwsConfig(() => composeConfig({ overrides: ['arch=hmr'] }), 'composition', "Could not find 'arch/hmr'", "Did you mean 'hrm'?", 'transformers_baseline');
    throwsConfig(() => composeConfig({ overrides: ['arch={hidden_size: 3}'] }), 'override', 'config group', 'arch.<key>=<value>');
  });
});

describe('config/compose: defaults lists', () => {
  const files = {
    'db/mysql.yaml': 'driver: mysql\nport: 3306\nuser: from_group\n',
    'db/pg.yaml': 'driver: pg\nport: 5432\nuser: from_group\n',
    'extra/on.yaml': 'flag: true\n',
    'glob/top.yaml': '# @package _global_\nat_root: 1\n',
  };

  it('orders _self_: after the groups it wins, before them it loses, absent it comes last', () => {
    const after = configDir({ ...files, 'main.yaml': 'defaults:\n  - db: mysql\n  - _self_\ndb:\n  user: primary\n' });
    const before = configDir({ ...files, 'main.yaml': 'defaults:\n  - _self_\n  - db: mysql\ndb:\n  user: primary\n' });
    const absent = configDir({ ...files, 'main.yaml': 'defaults:\n  - db: mysql\ndb:\n  user: primary\n' });
    const user = (dir: string): unknown => (composeTree({ configPath: dir, configName: 'main' }).config['db'] as { user: string }).user;
    assert.strictEqual(user(after), 'primary');
    assert.strictEqual(user(before), 'from_group');
    assert.strictEqual(user(absent), 'primary');
    const twice = configDir({ ...files, 'main.yaml': 'defaults:\n  - _self_\n  - _self_\n' });
    throwsConfig(() => composeTree({ configPath: twice, configName: 'main' }), 'composition', 'Duplicate _self_');
  });

  it('chooses, appends and removes groups from the command line', () => {
    const dir = configDir({ ...files, 'main.yaml': 'defaults:\n  - db: mysql\n  - _self_\nname: x\n' });
    const compose = (...overrides: string[]) => composeTree({ configPath: dir, configName: 'main.yaml', overrides });
    assert.strictEqual((compose('db=pg').config['db'] as { driver: string }).driver, 'pg');
    assert.deepStrictEqual(compose('+extra=on').config['extra'], { flag: true });
    assert.deepStrictEqual(compose('++extra=on').config['extra'], { flag: true });
    assert.strictEqual(compose('~db').config['db'], undefined);
    assert.strictEqual(compose('db=null').config['db'], undefined);
    assert.deepStrictEqual(compose('db=pg').choices, { db: 'pg' });
    throwsConfig(() => compose('extra=on'), 'override', "Could not override 'extra'", '+extra=on');
    assert.deepStrictEqual(compose('+glob=top').config['at_root'], 1, '# @package _global_ merges at the root');
    assert.strictEqual(compose('+db@backup=pg').config['backup'] !== undefined, true, 'group@package merges at the package');
  });

  it('honours override entries, optional entries, packages, nested defaults and ???', () => {
    const dir = configDir({
      ...files,
      'model/big.yaml': 'defaults:\n  - head: linear\n  - _self_\nwidth: 1024\n',
      'model/head/linear.yaml': 'kind: linear\n',
      'model/head/mlp.yaml': 'kind: mlp\n',
      'main.yaml': 'defaults:\n  - model: big\n  - db@store: mysql\n  - optional extra: missing\n  - override model/head: mlp\n  - _self_\n',
      'must.yaml': 'defaults:\n  - db: ???\n',
    });
    const { config } = composeTree({ configPath: dir, configName: 'main' });
    assert.deepStrictEqual(config['model'], { head: { kind: 'mlp' }, width: 1024 });
    assert.strictEqual((config['store'] as { driver: string }).driver, 'mysql');
    assert.ok(!('extra' in config));
    const cli = composeTree({ configPath: dir, configName: 'main', overrides: ['model/head=linear', 'db@store=pg'] }).config;
    assert.deepStrictEqual((cli['model'] as { head: unknown }).head, { kind: 'linear' }, 'the command line beats an override entry');
    assert.strictEqual((cli['store'] as { driver: string }).driver, 'pg');
    throwsConfig(() => composeTree({ configPath: dir, configName: 'must' }), 'composition', "You must choose 'db'", 'mysql, pg');
    assert.strictEqual((composeTree({ configPath: dir, configName: 'must', overrides: ['db=pg'] }).config['db'] as { port: number }).port, 5432);
  });

  it('merges mappings given as values and keeps the hydra node apart', () => {
    const dir = configDir({ 'main.yaml': 'hydra:\n  output_subdir: null\nopt: {a: 1, b: 2}\nlist: [1, 2]\n' });
    const out = composeTree({ configPath: dir, configName: 'main', overrides: ['opt={b: 3, c: 4}', 'list=[5]', 'hydra.run.dir=out'] });
    assert.deepStrictEqual(out.config, { opt: { a: 1, b: 3, c: 4 }, list: [5] });
    assert.deepStrictEqual(out.hydra, { output_subdir: null, run: { dir: 'out' } });
    assert.deepStrictEqual(composeTree({ configPath: dir, configName: 'main', overrides: ['~hydra.output_subdir'] }).hydra, {});
    throwsConfig(() => composeTree({ configPath: dir, configName: 'main', overrides: ['hydra=1'] }), 'override', 'hydra.<key>');
  });

  it('reports missing config paths and names, with a suggestion', () => {
    const dir = configDir({ 'cfg_small.yaml': 'a: 1\n' });
    throwsConfig(() => composeTree({ configPath: dir, configName: 'cfg_smal' }), 'not_found', "Did you mean 'cfg_small'?");
    throwsConfig(() => composeTree({ configPath: `${dir}/nope` }), 'not_found', 'not a directory');
    const bad = configDir({ 'main.yaml': 'a: [1\n' });
    throwsConfig(() => composeTree({ configPath: bad, configName: 'main' }), 'yaml', 'main.yaml');
    const notMap = configDir({ 'main.yaml': '- 1\n- 2\n' });
    throwsConfig(() => composeTree({ configPath: notMap, configName: 'main' }), 'yaml', 'mapping');
  });

  it('composes a full training config from another --config-path/--config-name', () => {
    const dir = configDir({
      'arch/tiny.yaml': 'name: recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1\nloss: {name: losses@ACTLossHead, loss_type: softmax_cross_entropy}\nhalt_exploration_prob: 0.1\nhalt_max_steps: 4\nH_cycles: 2\nL_cycles: 2\nH_layers: 0\nL_layers: 1\nhidden_size: 64\nnum_heads: 2\nexpansion: 2\npos_encodings: none\nforward_dtype: float32\nmlp_t: true\n',
      'sudoku.yaml': 'defaults:\n  - arch: tiny\n  - _self_\ndata_paths: [data/sudoku]\nglobal_batch_size: 32\nepochs: 10\neval_interval: 5\nlr: 1e-3\nlr_min_ratio: 0.1\nlr_warmup_steps: 10\nweight_decay: 1.0\nbeta1: 0.9\nbeta2: 0.95\npuzzle_emb_lr: 1e-3\npuzzle_emb_weight_decay: 1.0\n',
    });
    const c = composeConfig({ configPath: dir, configName: 'sudoku', overrides: ['arch.hidden_size=32'] });
    assert.strictEqual(c.arch.hidden_size, 32);
    assert.strictEqual(c.arch.puzzle_emb_ndim, 0, 'schema default');
    assert.strictEqual(c.arch.loss.loss_type, 'softmax_cross_entropy');
    assert.deepStrictEqual(c.evaluators, []);
  });
});
