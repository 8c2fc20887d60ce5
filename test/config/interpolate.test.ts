import * as assert from 'assert';
import { composeConfig, resolveConfig } from '../../lib/config';
import { throwsConfig } from './helpers';

describe('config/interpolate: ${...}', () => {
  it('resolves absolute keys, keeping the type of a whole-value interpolation', () => {
    const out = resolveConfig({ a: { b: 3, l: [1, 2] }, x: '${a.b}', y: '${a}', z: '${a.l}', w: '${a.l.1}' });
    assert.deepStrictEqual(out, { a: { b: 3, l: [1, 2] }, x: 3, y: { b: 3, l: [1, 2] }, z: [1, 2], w: 2 });
  });

  it('resolves relative keys from the mapping that holds the interpolation', () => {
    const out = resolveConfig({ top: 1, arch: { hidden_size: 64, emb: '${.hidden_size}', up: '${..top}', deep: { v: '${..hidden_size}' } } });
    assert.deepStrictEqual(out['arch'], { hidden_size: 64, emb: 64, up: 1, deep: { v: 64 } });
  });

  it('joins interpolations inside longer strings as text, and follows chains', () => {
    const out = resolveConfig({ name: 'run', n: 2, path: 'ckpt/${name}/step_${n}', alias: '${path}', esc: 'a\\${name}' });
    assert.strictEqual(out['path'], 'ckpt/run/step_2');
    assert.strictEqual(out['alias'], 'ckpt/run/step_2');
    assert.strictEqual(out['esc'], 'a${name}', '\\${ is a literal');
  });

  it('reads environment variables, with and without defaults', () => {
    const env = { TRM_TEST_DIR: '/data', TRM_SEED: '5' };
    const out = resolveConfig(
      { a: '${oc.env:TRM_TEST_DIR}', b: '${oc.env:TRM_UNSET,fallback}', c: '${oc.env:TRM_UNSET,null}', d: '${oc.env:TRM_UNSET,3}', e: '${oc.env:TRM_TEST_DIR}/x', f: "${oc.env:TRM_UNSET,'a,b'}", seed: 9, g: '${oc.env:TRM_UNSET,${seed}}' },
      env,
    );
    assert.deepStrictEqual(out, { a: '/data', b: 'fallback', c: null, d: '3', e: '/data/x', f: 'a,b', seed: 9, g: '9' });
    throwsConfig(() => resolveConfig({ a: '${oc.env:TRM_UNSET}' }, env), 'interpolation', "'TRM_UNSET' is not set", "'a'");
  });

  it('reports missing keys (with a suggestion), cycles and unknown resolvers', () => {
    throwsConfig(() => resolveConfig({ arch: { hidden_size: 1, e: '${.hiden_size}' } }), 'interpolation', "'arch.e'", "Did you mean 'hidden_size'?");
    throwsConfig(() => resolveConfig({ a: '${b}', b: '${a}' }), 'interpolation', 'cycle', 'a -> b -> a');
    throwsConfig(() => resolveConfig({ a: '${oc.enx:HOME}' }), 'interpolation', "Did you mean 'oc.env'?");
    throwsConfig(() => resolveConfig({ a: '${...x}' }), 'interpolation', 'climbs');
    throwsConfig(() => resolveConfig({ m: '???', a: '${m}' }), 'interpolation', 'missing value');
    throwsConfig(() => resolveConfig({ m: { k: 1 }, a: 'x${m}' }), 'interpolation', 'cannot be joined');
  });

  it('works end to end from overrides, environment typed by the schema', () => {
    const env = { TRM_TEST_SEED: '42', TRM_TEST_RUN: 'r1' };
    const c = composeConfig({
      overrides: ['++seed=${oc.env:TRM_TEST_SEED}', '+run_name=${oc.env:TRM_TEST_RUN}', '++checkpoint_path=ckpt/${run_name}', 'arch.hidden_size=${.num_heads}'],
      env,
    });
    assert.strictEqual(c.seed, 42);
    assert.strictEqual(c.checkpoint_path, 'ckpt/r1');
    assert.strictEqual(c.arch.hidden_size, 8);
    assert.strictEqual(c.arch.puzzle_emb_ndim, 8);
  });
});
