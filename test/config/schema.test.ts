import * as assert from 'assert';
import { composeConfig, registerEvaluator, validatePretrainConfig } from '../../lib/config';
import { t } from '../../lib/config/spec';
import { configToYaml } from '../../lib/config';
import { throwsConfig } from './helpers';

const compose = (...overrides: string[]) => composeConfig({ overrides });

describe('config/schema: unknown keys', () => {
  it('suggests the closest valid top-level key', () => {
    throwsConfig(() => compose('+lrr=1'), 'unknown_key', "Unknown key 'lrr'", "Did you mean 'lr'?");
    throwsConfig(() => compose('+global_bach_size=8'), 'unknown_key', "Did you mean 'global_batch_size'?");
    throwsConfig(() => compose('+ema_rte=0.9'), 'unknown_key', "Did you mean 'ema_rate'?");
    const e = throwsConfig(() => compose('+zzzzzzzz=1'), 'unknown_key', 'Valid keys:');
    assert.ok(!e.message.includes('Did you mean'), 'no suggestion when nothing is close');
    assert.strictEqual(e.key, 'zzzzzzzz');
  });

  it('checks arch keys against the chosen architecture', () => {
    throwsConfig(() => compose('+arch.hiden_size=3'), 'unknown_key', "Did you mean 'arch.hidden_size'?");
    throwsConfig(() => compose('+arch.L_cylces=3'), 'unknown_key', "Did you mean 'arch.L_cycles'?");
    throwsConfig(() => compose('arch=hrm', '+arch.puzzle_emb_len=4'), 'unknown_key', "'arch.puzzle_emb_len'", 'HierarchicalReasoningModel_ACTV1');
    throwsConfig(() => compose('+arch.act_enabled=false'), 'unknown_key', "'arch.act_enabled'");
    assert.strictEqual(compose('arch=transformers_baseline', '+arch.act_enabled=false').arch.name.endsWith('Model_ACTV2'), true);
    throwsConfig(() => compose('arch=transformers_baseline', '+arch.L_cycles=2'), 'unknown_key', "'arch.L_cycles'");
    throwsConfig(() => compose('+arch.loss.los_type=x'), 'unknown_key', "Did you mean 'arch.loss.loss_type'?");
    throwsConfig(() => compose('+arch.batch_size=8'), 'unknown_key', 'global_batch_size / world size');
    throwsConfig(() => compose('++arch.seq_len=81'), 'unknown_key', 'dataset metadata');
  });

  it('rejects an unknown arch name with the closest one', () => {
    throwsConfig(
      () => compose('arch.name=recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV2'),
      'type',
      'arch.name',
      "Did you mean 'recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1'?",
    );
    throwsConfig(() => compose('~arch.name'), 'missing', 'arch=<trm|');
  });
});

describe('config/schema: types', () => {
  it('names the key, the expected type and the value received', () => {
    throwsConfig(() => compose('global_batch_size=abc'), 'type', 'Expected integer >= 1 for global_batch_size but received "abc" (string)');
    throwsConfig(() => compose('global_batch_size=1.5'), 'type', 'global_batch_size', '1.5 (number)');
    throwsConfig(() => compose('global_batch_size=0'), 'type', 'integer >= 1', '0 (number)');
    throwsConfig(() => compose('epochs=true'), 'type', 'epochs', 'true (boolean)');
    throwsConfig(() => compose('ema=maybe'), 'type', 'Expected boolean for ema but received "maybe"');
    throwsConfig(() => compose('lr=[1]'), 'type', 'number >= 0 for lr', '[1] (list)');
    throwsConfig(() => compose('beta2=1'), 'type', 'beta2', '< 1');
    throwsConfig(() => compose('data_paths=data/x'), 'type', 'list of strings for data_paths', 'data_paths="[data/x]"');
    throwsConfig(() => compose('data_paths=[data/x,3]'), 'type', 'string for data_paths[1]', '3 (number)');
    throwsConfig(() => compose('+run_name=123'), 'type', 'string for run_name', `run_name="'123'"`);
    throwsConfig(() => compose('arch.pos_encodings=rop'), 'type', 'arch.pos_encodings', "Did you mean 'rope'?");
    throwsConfig(() => compose('arch.forward_dtype=float8'), 'type', 'arch.forward_dtype');
    throwsConfig(() => compose('arch.mlp_t=2'), 'type', 'boolean for arch.mlp_t');
    throwsConfig(() => compose('arch.loss.loss_type=ce'), 'type', 'arch.loss.loss_type');
    throwsConfig(() => compose('eval_interval=7'), 'invalid', 'eval_interval (7) must divide epochs (100000)');
  });

  it('accepts what pydantic accepts: integral floats, numeric text, null for optional keys', () => {
    const c = compose('global_batch_size=64.0', "epochs='20'", 'eval_interval=null', 'ema=yes', 'lr=1', '+run_name=\'123\'');
    assert.deepStrictEqual([c.global_batch_size, c.epochs, c.eval_interval, c.ema, c.lr, c.run_name], [64, 20, null, true, 1, '123']);
  });

  it('reports missing required keys with their meaning', () => {
    throwsConfig(() => compose('~lr'), 'missing', "Missing required key 'lr'", 'Peak learning rate');
    throwsConfig(() => compose('~arch.num_heads'), 'missing', "'arch.num_heads'");
    throwsConfig(() => compose('~arch.hidden_size'), 'interpolation', "'arch.puzzle_emb_ndim'");
    throwsConfig(() => compose('global_batch_size=???'), 'missing', 'global_batch_size');
  });

  it('checks and completes evaluator entries by name', () => {
    const c = compose('evaluators=[{name: arc@ARC, pass_Ks: [1,2]}]');
    assert.deepStrictEqual(c.evaluators, [{ name: 'arc@ARC', submission_K: 2, pass_Ks: [1, 2], aggregated_voting: true }]);
    throwsConfig(() => compose('evaluators=[{name: arc@ARK}]'), 'unknown_key', "Did you mean 'arc@ARC'?");
    throwsConfig(() => compose('evaluators=[{name: arc@ARC, pass_K: [1]}]'), 'unknown_key', "Did you mean 'evaluators[0].pass_Ks'?");
    const forget = registerEvaluator('sudoku_test@Exact', { name: { type: t.str(), doc: 'test' }, min_steps: { type: t.int(), default: 1, doc: 'test' } });
    try {
      assert.deepStrictEqual(compose('evaluators=[{name: sudoku_test@Exact}]').evaluators, [{ name: 'sudoku_test@Exact', min_steps: 1 }]);
    } finally {
      forget();
    }
    throwsConfig(() => compose('evaluators=[{name: sudoku_test@Exact}]'), 'unknown_key', 'sudoku_test@Exact');
  });

  it('validates a saved config (all_config.yaml) as well', () => {
    const c = compose('arch=hrm');
    assert.deepStrictEqual(validatePretrainConfig(JSON.parse(JSON.stringify(c))), c);
    assert.ok(configToYaml(c).includes('name: recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1'));
  });
});
