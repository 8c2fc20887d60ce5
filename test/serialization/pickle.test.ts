import * as assert from 'assert';
import * as fs from 'fs';
import { OrderedDict, PyGlobal, PyReduce, PyTuple, PyValue, encodeLong, pickle } from '../../lib/torch/serialization/pickle';
import { SerializationError } from '../../lib/torch/serialization/errors';
import { UnpickleHooks, unpickle } from '../../lib/torch/serialization/unpickler';
import { PYTHON, runPython } from './python';

const hooks: UnpickleHooks = {
  findClass(module, name) {
    if (module === 'collections' && name === 'OrderedDict') return () => new OrderedDict();
    if (module === '_codecs' && name === 'encode') return (s: unknown) => Buffer.from(String(s), 'latin1');
    if ((module === 'builtins' || module === '__builtin__') && (name === 'set' || name === 'frozenset')) return (x: unknown) => new Set(x as unknown[]);
    throw new Error(`global ${module}.${name} not allowed`);
  },
};

// JSON-ish view that keeps Map order and bigint/float distinctions visible.
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Map) return { map: [...v].map(([k, x]) => [plain(k), plain(x)]) };
  if (v instanceof Set) return { set: [...v].map(plain) };
  if (Buffer.isBuffer(v)) return { bytes: v.toString('hex') };
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

describe('pickle', () => {
  it('encodes longs as minimal two\'s complement', () => {
    const hex = (v: bigint) => Buffer.from(encodeLong(v)).toString('hex');
    assert.strictEqual(hex(0n), '');
    assert.strictEqual(hex(255n), 'ff00');
    assert.strictEqual(hex(-1n), 'ff');
    assert.strictEqual(hex(128n), '8000');
    assert.strictEqual(hex(-128n), '80');
    assert.strictEqual(hex(-129n), '7fff');
    assert.strictEqual(hex(2n ** 63n - 1n), 'ffffffffffffff7f');
  });

  it('round-trips values, keeping dict order, shared containers and 1-entry dicts', () => {
    const shared = [1, 2];
    const od = new OrderedDict<PyValue, PyValue>([['z', 1], ['a', 2]]);
    od.attributes = new Map([['_metadata', new Map([['', new Map([['version', 1]])]])]]);
    const value: PyValue = new Map<PyValue, PyValue>([
      ['ints', [0, 255, 256, 65535, 65536, -1, -2147483648, 2147483647, 2147483648, -2147483649, Number.MAX_SAFE_INTEGER]],
      ['longs', [2n ** 64n, -(2n ** 70n), 2n ** 3000n]], // the last needs LONG4
      ['floats', [1.5, -0.25, 1e300, Infinity, -0]],
      ['strs', ['', 'héllo ✓', 'héllo ✓']],
      ['misc', [null, true, false]],
      ['one', new Map([['k', 'v']])],
      ['obj', { b: 1, a: [shared, shared] }],
      ['od', od],
      ['tuple', new PyTuple([1, 2, 3, 4])],
      ['big list', Array.from({ length: 2500 }, (_, i) => i)],
    ]);
    const back = unpickle(pickle(value), hooks) as Map<string, unknown>;
    assert.deepStrictEqual(plain(back.get('ints')), (value.get('ints') as number[]));
    assert.deepStrictEqual(back.get('longs'), [2n ** 64n, -(2n ** 70n), 2n ** 3000n]);
    assert.deepStrictEqual(back.get('floats'), [1.5, -0.25, 1e300, Infinity, -0]);
    assert.deepStrictEqual(back.get('strs'), ['', 'héllo ✓', 'héllo ✓']);
    assert.deepStrictEqual(back.get('misc'), [null, true, false]);
    assert.deepStrictEqual([...(back.get('one') as Map<string, string>)], [['k', 'v']]);
    const obj = back.get('obj') as Map<string, unknown>;
    assert.deepStrictEqual([...obj.keys()], ['b', 'a']);
    const pair = obj.get('a') as unknown[];
    assert.strictEqual(pair[0], pair[1], 'shared list stays one object');
    const od2 = back.get('od') as OrderedDict;
    assert.ok(od2 instanceof OrderedDict);
    assert.deepStrictEqual([...od2], [['z', 1], ['a', 2]]);
    assert.deepStrictEqual(plain(od2.attributes), plain(od.attributes));
    assert.deepStrictEqual(back.get('tuple'), [1, 2, 3, 4]);
    assert.strictEqual((back.get('big list') as number[]).length, 2500);
  });

  it('refuses what it cannot pickle, with the reason', () => {
    assert.throws(() => pickle([undefined as unknown as PyValue]), /cannot pickle undefined/);
    assert.throws(() => pickle(new Date() as unknown as PyValue), /cannot pickle an object of class Date/);
  });

  it('gives a clear error for a truncated pickle or an unknown opcode', () => {
    const p = pickle(new Map([['a', 'b']]));
    assert.throws(() => unpickle(p.subarray(0, p.length - 3), hooks, 'x'), (e: Error) =>
      e instanceof SerializationError && /truncated pickle/.test(e.message));
    assert.throws(() => unpickle(Buffer.from([0x80, 2, 0xff]), hooks), /unsupported pickle opcode 0xff/);
  });

  it('is read by Python pickle exactly (protocol 2, only plain data)', function () {
    if (!fs.existsSync(PYTHON)) this.skip();
    const v: PyValue = new Map<PyValue, PyValue>([
      ['a', [1, -5, 70000, 2n ** 80n, 1.25, 'ü', null, true]],
      ['o', new OrderedDict<PyValue, PyValue>([['x', new PyTuple([1, 2])]])],
      ['r', new PyReduce(new PyGlobal('builtins', 'set'), [[3]])],
    ]);
    const out = runPython(`
import sys, pickle, pickletools, collections
d = pickle.loads(bytes.fromhex(sys.stdin.read() if False else sys.argv[1]))
assert d == {'a': [1, -5, 70000, 2**80, 1.25, 'ü', None, True], 'o': collections.OrderedDict(x=(1, 2)), 'r': {3}}, d
assert type(d['o']) is collections.OrderedDict
print('ok')`, pickle(v).toString('hex'));
    assert.strictEqual(out.trim(), 'ok');
  });

  it('reads what Python pickle writes with protocols 0-5', function () {
    if (!fs.existsSync(PYTHON)) this.skip();
    const out = runPython(`
import pickle, collections
v = {'i': [0, 1, -1, 255, 65536, -70000, 2**31, 2**64, -2**100], 'f': [0.5, -1e-300], 's': ['', 'ü✓', 'x' * 300],
     'b': b'\\x00\\xff', 't': (1, (2,), ()), 'n': None, 'bo': [True, False], 'set': {1}, 'fs': frozenset([2]),
     'od': collections.OrderedDict([('k', 1)]), 'one': {'k': 'v'}}
v['shared'] = [v['t'], v['t']]
for proto in range(6):
    print(pickle.dumps(v, protocol=proto).hex())`);
    const lines = out.trim().split('\n');
    assert.strictEqual(lines.length, 6);
    lines.forEach((hex, proto) => {
      const d = unpickle(Buffer.from(hex, 'hex'), hooks) as Map<string, unknown>;
      assert.deepStrictEqual(d.get('i'), [0, 1, -1, 255, 65536, -70000, 2 ** 31, 2n ** 64n, -(2n ** 100n)], `protocol ${proto}`);
      assert.deepStrictEqual(d.get('f'), [0.5, -1e-300]);
      assert.deepStrictEqual(d.get('s'), ['', 'ü✓', 'x'.repeat(300)]);
      if (proto >= 3) assert.deepStrictEqual(d.get('b'), Buffer.from([0, 255]));
      assert.deepStrictEqual(d.get('t'), [1, [2], []]);
      assert.strictEqual(d.get('n'), null);
      assert.deepStrictEqual(d.get('bo'), [true, false]);
      assert.deepStrictEqual(d.get('set'), new Set([1]));
      assert.deepStrictEqual(d.get('fs'), new Set([2]));
      assert.ok(d.get('od') instanceof OrderedDict);
      assert.deepStrictEqual([...(d.get('one') as Map<string, string>)], [['k', 'v']]);
      const shared = d.get('shared') as unknown[];
      assert.strictEqual(shared[0], shared[1]);
    });
  });
});
