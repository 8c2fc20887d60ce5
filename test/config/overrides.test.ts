import * as assert from 'assert';
import { parseOverride, parseOverrides, parseOverrideValue } from '../../lib/config';
import { throwsConfig } from './helpers';

describe('config/overrides: Hydra override grammar', () => {
  it('parses the four kinds and dotted keys', () => {
    const [a, b, c, d, e] = parseOverrides(['lr=1e-4', 'arch.L_cycles=4', '+run_name=x', '++seed=3', '~evaluators']);
    assert.deepStrictEqual([a!.kind, a!.key, a!.value], ['change', 'lr', 0.0001]);
    assert.deepStrictEqual([b!.kind, b!.key, b!.value], ['change', 'arch.L_cycles', 4]);
    assert.deepStrictEqual([c!.kind, c!.key, c!.value], ['add', 'run_name', 'x']);
    assert.deepStrictEqual([d!.kind, d!.key, d!.value], ['force_add', 'seed', 3]);
    assert.deepStrictEqual([e!.kind, e!.key, e!.value], ['delete', 'evaluators', undefined]);
  });

  it('parses ~key=value, group@package and / groups', () => {
    assert.deepStrictEqual(parseOverride('~seed=0').value, 0);
    const o = parseOverride('arch@model=hrm');
    assert.deepStrictEqual([o.key, o.package, o.value], ['arch', 'model', 'hrm']);
    assert.strictEqual(parseOverride('arch/loss=act').key, 'arch/loss');
  });

  it('types primitives the way Hydra does', () => {
    const cases: [string, unknown][] = [
      ['null', null], ['NULL', null], ['true', true], ['False', false], ['TRUE', true],
      ['10', 10], ['-3', -3], ['+7', 7], ['1_000', 1000], ['0', 0],
      ['1e-4', 1e-4], ['1.5', 1.5], ['.5', 0.5], ['1.', 1], ['-2.5e3', -2500], ['1_0.5', 10.5],
      ['inf', Infinity], ['-inf', -Infinity],
      ['abc', 'abc'], ['data/arc-aug-1000', 'data/arc-aug-1000'], ['007', '007'], ['1e', '1e'],
      ['localhost:29500', 'localhost:29500'], ['a b', 'a b'], ['  padded  ', 'padded'], ['', ''],
    ];
    for (const [text, expected] of cases) assert.deepStrictEqual(parseOverrideValue(text), expected, text);
    assert.ok(Number.isNaN(parseOverrideValue('nan') as number));
  });

  it('keeps quoted strings as strings, with escapes', () => {
    assert.strictEqual(parseOverrideValue("'123'"), '123');
    assert.strictEqual(parseOverrideValue('"true"'), 'true');
    assert.strictEqual(parseOverrideValue("'a,b'"), 'a,b');
    assert.strictEqual(parseOverrideValue("'it\\'s'"), "it's");
    assert.strictEqual(parseOverrideValue('"[not a list]"'), '[not a list]');
    assert.strictEqual(parseOverrideValue('a\\,b'), 'a,b');
    assert.strictEqual(parseOverrideValue('\\1'), '\\1', 'a backslash before an ordinary char stays');
  });

  it('parses lists, nested lists and dicts with typed elements', () => {
    assert.deepStrictEqual(parseOverrideValue('[a,b]'), ['a', 'b']);
    assert.deepStrictEqual(parseOverrideValue('[]'), []);
    assert.deepStrictEqual(parseOverrideValue('[1, 2.5, null, true, \'x y\']'), [1, 2.5, null, true, 'x y']);
    assert.deepStrictEqual(parseOverrideValue('[[1,2],[3,[4]]]'), [[1, 2], [3, [4]]]);
    assert.deepStrictEqual(parseOverrideValue('{name: arc@ARC, pass_Ks: [1,2]}'), { name: 'arc@ARC', pass_Ks: [1, 2] });
    assert.deepStrictEqual(parseOverrideValue('[{name: arc@ARC}]'), [{ name: 'arc@ARC' }]);
    assert.deepStrictEqual(parseOverrideValue('[data/sudoku-extreme-1k-aug-1000]'), ['data/sudoku-extreme-1k-aug-1000']);
  });

  it('keeps interpolations verbatim, commas inside them included', () => {
    assert.strictEqual(parseOverrideValue('${.hidden_size}'), '${.hidden_size}');
    assert.strictEqual(parseOverrideValue('${oc.env:HOME,/tmp}'), '${oc.env:HOME,/tmp}');
    assert.strictEqual(parseOverrideValue('ckpt/${run_name}/x'), 'ckpt/${run_name}/x');
    assert.deepStrictEqual(parseOverrideValue('[${a.b},2]'), ['${a.b}', 2]);
    assert.strictEqual(parseOverrideValue('1${x}'), '1${x}', 'an interpolation makes the value a string');
  });

  it('rejects malformed overrides with the override quoted', () => {
    throwsConfig(() => parseOverride('lr'), 'override_syntax', "'lr'", 'key=value');
    throwsConfig(() => parseOverride('=3'), 'override_syntax', 'not a valid key');
    throwsConfig(() => parseOverride('a..b=3'), 'override_syntax', 'not a valid key');
    throwsConfig(() => parseOverride('x=[1,2'), 'override_syntax', "missing ']'");
    throwsConfig(() => parseOverride('x={a: 1'), 'override_syntax', "missing '}'");
    throwsConfig(() => parseOverride("x='abc"), 'override_syntax', 'unterminated');
    throwsConfig(() => parseOverride('x=a,b'), 'override_syntax', 'sweeps');
    throwsConfig(() => parseOverride('x=choice(1,2)'), 'override_syntax', 'choice');
    throwsConfig(() => parseOverride('x=[1,,2]'), 'override_syntax', 'empty element');
    throwsConfig(() => parseOverride('x=${a'), 'override_syntax', 'unterminated interpolation');
  });
});
