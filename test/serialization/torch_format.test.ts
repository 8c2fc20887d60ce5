import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  OrderedDict, SerializationError, TensorRecord, archiveName, contiguousStrides, itemSize, load, loadFromBuffer, save, saveToBuffer,
} from '../../lib/torch/serialization';
import { hasTorch, runPython } from './python';

const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const tensor = (dtype: TensorRecord['dtype'], shape: number[], data: ArrayBufferView, extra: Partial<TensorRecord> = {}): TensorRecord =>
  ({ dtype, shape, data: bytes(data), ...extra });

/** The view's elements in row-major order, as hex: what Python prints for `t.contiguous()`. */
function contiguousHex(t: TensorRecord): string {
  const size = itemSize(t.dtype);
  const strides = t.strides ?? contiguousStrides(t.shape);
  const numel = t.shape.reduce((a, b) => a * b, 1);
  const out = Buffer.alloc(numel * size);
  const idx = new Array<number>(t.shape.length).fill(0);
  for (let n = 0; n < numel; n++) {
    const at = idx.reduce((acc, i, d) => acc + i * strides[d], t.storageOffset ?? 0);
    out.set(t.data.subarray(at * size, (at + 1) * size), n * size);
    for (let d = t.shape.length - 1; d >= 0; d--) {
      if (++idx[d] < t.shape[d]) break;
      idx[d] = 0;
    }
  }
  return out.toString('hex');
}

const PY_DESC = `
import sys, json, torch
def desc(t):
    flat = t.reshape(-1).contiguous().view(torch.uint8) if t.numel() else None
    return {'dtype': str(t.dtype)[6:], 'shape': list(t.shape), 'stride': list(t.stride()),
            'offset': t.storage_offset(), 'hex': bytes(flat.tolist()).hex() if flat is not None else ''}
`;

function describeRecord(t: TensorRecord) {
  return { dtype: t.dtype, shape: t.shape, stride: t.strides ?? contiguousStrides(t.shape), offset: t.storageOffset ?? 0, hex: contiguousHex(t) };
}

/** One tensor of every dtype, with values that catch byte-order and sign mistakes. */
function everyDtype(): Record<string, TensorRecord> {
  const shared = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]);
  const sharedBytes = bytes(shared);
  return {
    float32: tensor('float32', [2, 2], new Float32Array([1.5, -2, 3.25, 1e-30])),
    float64: tensor('float64', [3], new Float64Array([Math.PI, -0, 1e300])),
    bfloat16: tensor('bfloat16', [3], new Uint16Array([0x3f80, 0xc000, 0x7f80])), // 1, -2, inf
    float16: tensor('float16', [2], new Uint16Array([0x3c00, 0xc500])), // 1, -5
    int64: tensor('int64', [2], new BigInt64Array([-1n, 2n ** 40n + 7n])),
    int32: tensor('int32', [2], new Int32Array([-7, 2 ** 30])),
    int16: tensor('int16', [2], new Int16Array([-300, 300])),
    int8: tensor('int8', [2], new Int8Array([-128, 127])),
    uint8: tensor('uint8', [2], new Uint8Array([0, 255])),
    bool: tensor('bool', [3], new Uint8Array([1, 0, 1])),
    scalar: tensor('float64', [], new Float64Array([2.5])),
    empty: tensor('float32', [0, 3], new Float32Array(0)),
    // a transposed view and an offset view of one storage: written once, shared again in Python
    base: { dtype: 'float32', shape: [2, 4], data: sharedBytes },
    transposed: { dtype: 'float32', shape: [4, 2], strides: [1, 4], data: sharedBytes },
    tail: { dtype: 'float32', shape: [3], storageOffset: 5, data: sharedBytes },
  };
}

describe('torch.save format', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ser-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('names the archive folder as torch.save does', () => {
    assert.strictEqual(archiveName('/a/b/step_100'), 'step_100');
    assert.strictEqual(archiveName('model.pt'), 'model');
    assert.strictEqual(archiveName('x.y.ckpt'), 'x.y');
    assert.strictEqual(archiveName('.pt'), 'archive');
  });

  it('round-trips every dtype, shared storages and nested containers in TS', () => {
    const ts = everyDtype();
    const od = new OrderedDict<string, unknown>([['w', ts.float32]]);
    const obj = { tensors: ts, od, meta: new Map<unknown, unknown>([['step', 5], [3, 'int key']]), list: [1n, 2 ** 60, null, true, 'x', 0.5] };
    const file = path.join(dir, 'rt.pt');
    save(obj, file);
    const back = load(file) as Map<string, any>;
    const tb = back.get('tensors') as Map<string, TensorRecord>;
    for (const [k, t] of Object.entries(ts)) assert.deepStrictEqual(describeRecord(tb.get(k)!), describeRecord(t), k);
    assert.strictEqual(tb.get('base')!.data, tb.get('transposed')!.data, 'one storage, one buffer');
    assert.ok(back.get('od') instanceof OrderedDict);
    assert.deepStrictEqual([...back.get('meta')], [['step', 5], [3, 'int key']]);
    // integral numbers beyond 2^53 are not exact ints, so they pickle as floats
    assert.deepStrictEqual(back.get('list'), [1, 2 ** 60, null, true, 'x', 0.5]);
    // data/<key> entries hold each storage once
    const buf = saveToBuffer(obj);
    assert.deepStrictEqual(loadFromBuffer(buf), back);
  });

  it('refuses bad tensors before writing anything', () => {
    const file = path.join(dir, 'bad.pt');
    assert.throws(() => save({ t: tensor('float32', [3], new Float32Array(2)) }, file), /reaches element 2, storage has 2/);
    assert.throws(() => save({ t: { dtype: 'complex64', shape: [1], data: new Uint8Array(8) } }, file), /unknown dtype 'complex64'/);
    assert.throws(() => save({ a: { b: undefined } }, file), /cannot serialize undefined at root\.a\.b/);
    assert.throws(() => save({ raw: new Float32Array(2) }, file), /raw Float32Array at root\.raw/);
    assert.ok(!fs.existsSync(file));
    assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temp files left');
  });

  it('gives a clear error for truncated, corrupt and non-checkpoint files', () => {
    const file = path.join(dir, 'ok.pt');
    save({ w: everyDtype().float32 }, file);
    const good = fs.readFileSync(file);
    const cut = path.join(dir, 'cut.pt');
    for (const n of [0, 100, good.length >> 1, good.length - 1]) {
      fs.writeFileSync(cut, good.subarray(0, n));
      assert.throws(() => load(cut), (e: Error) => e instanceof SerializationError && /cut\.pt.*truncated/.test(e.message), `cut at ${n}`);
    }
    const flipped = Buffer.from(good);
    flipped[good.indexOf(Buffer.from(new Float32Array([1.5]).buffer))] ^= 0x40;
    fs.writeFileSync(cut, flipped);
    assert.throws(() => load(cut), /corrupt: CRC-32 mismatch in entry 'cut\/data\/0'|corrupt: CRC-32 mismatch in entry 'ok\/data\/0'/);
    fs.writeFileSync(cut, Buffer.from([0x80, 0x02, 0x8a, 0x0a]));
    assert.throws(() => load(cut), /legacy \(pre-1\.6, non-zip\) torch\.save format/);
    assert.throws(() => load(path.join(dir, 'missing.pt')), /ENOENT/);
  });

  it('is atomic: a writer killed mid-save leaves the previous checkpoint intact', async function () {
    const file = path.join(dir, 'atomic.pt');
    save({ v: 1 }, file);
    const lib = path.resolve(__dirname, '../../lib/torch/serialization');
    const child = spawn(process.execPath, ['-e', `
      const s = require(${JSON.stringify(lib)});
      const data = new Uint8Array(192 << 20);
      process.stdout.write('go\\n');
      s.save({ v: 2, big: { dtype: 'uint8', shape: [data.length], data } }, ${JSON.stringify(file)});`]);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    // kill as soon as the temp file appears (or after 2 s)
    for (let i = 0; i < 400 && !fs.readdirSync(dir).some((f) => f.startsWith('.atomic.pt.tmp-')); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const v = (load(file) as Map<string, unknown>).get('v');
    assert.ok(v === 1 || v === 2, 'old or complete new file, never a partial one');
    for (const f of fs.readdirSync(dir)) if (f.includes('.tmp-')) fs.rmSync(path.join(dir, f));
  });

  describe('with Python PyTorch', function () {
    before(function () {
      if (!hasTorch()) this.skip();
    });

    it('torch.load reads every dtype we write, with weights_only=True and without', () => {
      const ts = everyDtype();
      const file = path.join(dir, 'ours.pt');
      save({ ...ts, meta: { step: 7, name: 'run', big: 2n ** 70n, ids: [1, 2, 3] } }, file);
      const withFloat = path.join(dir, 'ours_float.pt');
      save({ w: ts.bfloat16, lr: 0.001, nested: [{ x: -1.5 }] }, withFloat);
      const out = runPython(PY_DESC + `
res = {}
for wo in (False, True):
    d = torch.load(sys.argv[1], weights_only=wo)
    assert d['meta'] == {'step': 7, 'name': 'run', 'big': 2**70, 'ids': [1, 2, 3]}, d['meta']
    assert d['base'].storage().data_ptr() == d['transposed'].storage().data_ptr() == d['tail'].storage().data_ptr()
    res[str(wo)] = {k: desc(v) for k, v in d.items() if k != 'meta'}
f = torch.load(sys.argv[2])
assert f['lr'] == 0.001 and f['nested'] == [{'x': -1.5}] and f['w'].dtype == torch.bfloat16
print(json.dumps(res))`, file, withFloat);
      const res = JSON.parse(out);
      for (const wo of ['False', 'True']) {
        for (const [k, t] of Object.entries(ts)) assert.deepStrictEqual(res[wo][k], describeRecord(t), `${k} weights_only=${wo}`);
      }
    });

    it('reads state dicts and views written by torch.save, and writes them back equal', () => {
      const out = runPython(PY_DESC + `
import collections, os
d = sys.argv[1]
torch.manual_seed(0)
m = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4), torch.nn.BatchNorm1d(4)).to(torch.bfloat16)
sd = m.state_dict()
torch.save(sd, os.path.join(d, 'sd.pt'))
base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
views = {'base': base, 't': base.t(), 'slice': base[1:, 1:3], 'row': base[2],
         'half': torch.randn(2, 3).half(), 'bool': torch.tensor([True, False]), 'i64': torch.tensor([-1, 2**40]),
         'i32': torch.tensor([-3], dtype=torch.int32), 'i16': torch.tensor([-3], dtype=torch.int16),
         'i8': torch.tensor([-3], dtype=torch.int8), 'u8': torch.tensor([250], dtype=torch.uint8),
         'scalar': torch.tensor(3.5, dtype=torch.float64), 'param': torch.nn.Parameter(torch.ones(2))}
torch.save(views, os.path.join(d, 'views.pt'))
torch.save({'only': torch.ones(2)}, os.path.join(d, 'one.pt'))
torch.save(collections.OrderedDict(only=torch.zeros(1)), os.path.join(d, 'one_od.pt'))
torch.save({'dev': torch.device('cpu'), 'cuda1': torch.device('cuda', 1), 'step': 3, 'lr': 1e-4}, os.path.join(d, 'misc.pt'))
print(json.dumps({'sd': [[k, desc(v)] for k, v in sd.items()], 'meta': list(sd._metadata.keys()),
                  'views': {k: desc(v) for k, v in views.items()}}))`, dir);
      const want = JSON.parse(out);
      const sd = load(path.join(dir, 'sd.pt')) as OrderedDict<string, TensorRecord>;
      assert.ok(sd instanceof OrderedDict);
      assert.deepStrictEqual([...sd.keys()], want.sd.map((e: [string, unknown]) => e[0]), 'key order');
      for (const [k, d] of want.sd) assert.deepStrictEqual(describeRecord(sd.get(k)!), d, k);
      assert.deepStrictEqual([...(sd.attributes!.get('_metadata') as Map<string, unknown>).keys()], want.meta);
      const views = load(path.join(dir, 'views.pt')) as Map<string, TensorRecord>;
      for (const [k, d] of Object.entries(want.views)) assert.deepStrictEqual(describeRecord(views.get(k)!), d, k);
      assert.strictEqual(views.get('t')!.data, views.get('base')!.data);
      assert.strictEqual(views.get('param')!.requiresGrad, true);
      assert.deepStrictEqual([...(load(path.join(dir, 'one.pt')) as Map<string, TensorRecord>).keys()], ['only']);
      assert.ok(load(path.join(dir, 'one_od.pt')) instanceof OrderedDict);
      assert.deepStrictEqual([...(load(path.join(dir, 'misc.pt')) as Map<string, unknown>)],
        [['dev', 'cpu'], ['cuda1', 'cuda:1'], ['step', 3], ['lr', 1e-4]]);

      // and back: what we re-save loads in Python equal to the original, _metadata included
      save(sd, path.join(dir, 'sd_again.pt'));
      save(views, path.join(dir, 'views_again.pt'));
      const ok = runPython(`
import sys, os, torch
d = sys.argv[1]
for name in ('sd', 'views'):
    a = torch.load(os.path.join(d, name + '.pt'))
    for wo in (False, True):
        b = torch.load(os.path.join(d, name + '_again.pt'), weights_only=wo)
        assert type(a) is type(b) and list(a.keys()) == list(b.keys()), name
        for k in a:
            assert a[k].dtype == b[k].dtype and a[k].stride() == b[k].stride() and torch.equal(a[k], b[k]), k
        if name == 'sd':
            assert b._metadata == a._metadata
            m = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4), torch.nn.BatchNorm1d(4)).to(torch.bfloat16)
            m.load_state_dict(b)
print('ok')`, dir);
      assert.strictEqual(ok.trim(), 'ok');
    });
  });
});
