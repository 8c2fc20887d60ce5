import * as assert from 'assert';
import * as fs from 'fs';
import { parse } from 'yaml';
import { composeConfig, composeConfigYaml, configToYaml, parseConfigYaml, renderConfigDocs } from '../../lib/config';
import { configDocsFile } from '../../lib/config/docs';

describe('config: --cfg job output', () => {
  const cases: string[][] = [
    [],
    ['arch=hrm', 'arch.hidden_size=256', '+run_name=x'],
    ['arch=transformers_baseline', 'evaluators=[]', '+eval_save_outputs=[inputs,preds]', "+project_name='007'", 'lr=1e-10'],
    ['++checkpoint_path=ckpt/${arch.hidden_size}', 'data_paths=[\'a b\',"c:d",\'true\',\'null\']', 'ema=True'],
  ];

  it('prints YAML that composes back to the same config (unresolved and resolved)', () => {
    for (const overrides of cases) {
      const expected = composeConfig({ overrides });
      for (const resolve of [false, true]) {
        const text = composeConfigYaml({ overrides, resolve });
        assert.deepStrictEqual(parseConfigYaml(text), expected, `${overrides.join(' ')} resolve=${resolve}`);
      }
    }
  });

  it('keeps interpolations as written unless resolved, without hydra or defaults', () => {
    const text = composeConfigYaml({ overrides: [] });
    const tree = parse(text) as Record<string, Record<string, unknown>>;
    assert.strictEqual(tree['arch']!['puzzle_emb_ndim'], '${.hidden_size}');
    assert.ok(!('hydra' in tree) && !('defaults' in tree));
    assert.strictEqual((parse(composeConfigYaml({ overrides: [], resolve: true })) as typeof tree)['arch']!['puzzle_emb_ndim'], 512);
  });

  it('prints the hydra node for --cfg hydra and both for --cfg all', () => {
    assert.deepStrictEqual(parse(composeConfigYaml({ overrides: [], part: 'hydra' })), { hydra: { output_subdir: null } });
    const all = parse(composeConfigYaml({ overrides: ['seed=3'], part: 'all' })) as Record<string, unknown>;
    assert.deepStrictEqual([all['seed'], all['hydra']], [3, { output_subdir: null }]);
  });

  it('round-trips the validated config (all_config.yaml)', () => {
    const c = composeConfig({ overrides: ['arch=trm_singlez', 'lr=3e-4', '+run_name=a b'] });
    assert.deepStrictEqual(parseConfigYaml(configToYaml(c)), c);
  });

  it('fails before printing a config that cannot run', () => {
    assert.throws(() => composeConfigYaml({ overrides: ['epochs=abc'] }), /epochs/);
  });
});

describe('config: README section', () => {
  it('is generated from the current schema (run node dist/lib/config/docs.js after a change)', () => {
    assert.strictEqual(fs.readFileSync(configDocsFile(), 'utf8'), renderConfigDocs());
  });

  it('documents every top-level and arch key', () => {
    const docs = renderConfigDocs();
    for (const key of Object.keys(composeConfig({ overrides: [] }))) assert.ok(docs.includes(`| \`${key}\` |`), key);
    for (const key of ['H_cycles', 'L_cycles', 'mlp_t', 'puzzle_emb_len', 'no_ACT_continue', 'act_enabled', 'loss.loss_type']) {
      assert.ok(docs.includes(`| \`${key}\` |`), key);
    }
  });
});
