import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { crc32, crc32Js, crc32c } from '../../lib/torch/serialization/crc';
import { SerializationError } from '../../lib/torch/serialization/errors';
import { ZipReader, ZipWriter, fdSink } from '../../lib/torch/serialization/zip';
import { PYTHON, runPython } from './python';

function build(entries: Array<[string, Uint8Array]>, forceZip64 = false): Buffer {
  const chunks: Buffer[] = [];
  const w = new ZipWriter((c) => chunks.push(Buffer.from(c)), { forceZip64 });
  for (const [n, d] of entries) w.add(n, d);
  w.finish();
  return Buffer.concat(chunks);
}

/** Offset of an entry's data, from its local header. */
function dataOffset(zip: Buffer, headerOffset: number): number {
  return headerOffset + 30 + zip.readUInt16LE(headerOffset + 26) + zip.readUInt16LE(headerOffset + 28);
}

const sample: Array<[string, Uint8Array]> = [
  ['arch/data.pkl', Buffer.from('pickle bytes')],
  ['arch/data/0', Buffer.alloc(1000, 7)],
  ['arch/data/1', Buffer.alloc(0)],
  ['arch/ünïcode name', Buffer.from('x')],
  ['arch/version', Buffer.from('3\n')],
];

describe('crc', () => {
  it('matches the standard check values for "123456789"', () => {
    const s = Buffer.from('123456789');
    assert.strictEqual(crc32(s), 0xcbf43926);
    assert.strictEqual(crc32c(s), 0xe3069283);
    assert.strictEqual(crc32(new Uint8Array(0)), 0);
  });
  it('continues across chunks and agrees with the bytewise path on odd lengths', () => {
    const data = Buffer.from(Array.from({ length: 1037 }, (_, i) => (i * 131) & 0xff));
    assert.strictEqual(crc32(data.subarray(500), crc32(data.subarray(0, 500))), crc32(data));
    assert.strictEqual(crc32c(data.subarray(3), crc32c(data.subarray(0, 3))), crc32c(data));
    assert.strictEqual(crc32Js(data), crc32(data), 'JS fallback agrees with the native CRC-32');
    assert.strictEqual(crc32Js(Buffer.from('123456789')), 0xcbf43926);
  });
  it('crc32c matches RFC 3720 vectors (32 zero bytes, 32 0xff bytes)', () => {
    assert.strictEqual(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
    assert.strictEqual(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  });
});

describe('zip', () => {
  it('round-trips entries in order with every data offset 64-byte aligned', () => {
    const zip = build(sample);
    const r = ZipReader.fromBuffer(zip);
    assert.deepStrictEqual(r.names(), sample.map(([n]) => n));
    for (const [n, d] of sample) {
      assert.deepStrictEqual(r.read(n), Buffer.from(d));
      assert.strictEqual(dataOffset(zip, r.entries.get(n)!.headerOffset) % 64, 0, n);
    }
  });

  it('round-trips with forced ZIP64 records', () => {
    const zip = build(sample, true);
    const r = ZipReader.fromBuffer(zip);
    for (const [n, d] of sample) assert.deepStrictEqual(r.read(n), Buffer.from(d));
    assert.ok(zip.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), 'has a ZIP64 end record');
  });

  it('names a truncated archive as truncated', () => {
    const zip = build(sample);
    for (const cut of [0, 10, 200, zip.length - 30, zip.length - 1]) {
      assert.throws(() => ZipReader.fromBuffer(zip.subarray(0, cut)), (e: Error) =>
        e instanceof SerializationError && /truncated/.test(e.message), `cut at ${cut}`);
    }
  });

  it('detects a flipped data byte by CRC', () => {
    const zip = Buffer.from(build(sample));
    const r0 = ZipReader.fromBuffer(zip);
    const at = dataOffset(zip, r0.entries.get('arch/data/0')!.headerOffset);
    zip[at + 10] ^= 1;
    const r = ZipReader.fromBuffer(zip, 'x.pt');
    assert.throws(() => r.read('arch/data/0'), /x\.pt is corrupt: CRC-32 mismatch in entry 'arch\/data\/0'/);
    assert.throws(() => r.read('nope'), /has no entry 'nope'/);
  });

  it('writes archives that Python zipfile reads with valid CRCs, including ZIP64 and >65535 entries', function () {
    if (!fs.existsSync(PYTHON)) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zip-'));
    const many: Array<[string, Uint8Array]> = Array.from({ length: 70000 }, (_, i) => [`a/${i}`, Buffer.from(String(i))]);
    const files: Array<[string, Array<[string, Uint8Array]>, boolean]> = [
      ['plain.zip', sample, false], ['forced64.zip', sample, true], ['many.zip', many, false],
    ];
    for (const [name, entries, force] of files) {
      const fd = fs.openSync(path.join(dir, name), 'w');
      const w = new ZipWriter(fdSink(fd), { forceZip64: force });
      for (const [n, d] of entries) w.add(n, d);
      w.finish();
      fs.closeSync(fd);
    }
    const out = runPython(`
import sys, zipfile, json
res = {}
for f in sys.argv[1:]:
    z = zipfile.ZipFile(f)
    assert z.testzip() is None
    infos = z.infolist()
    res[f.split('/')[-1]] = [len(infos), infos[1].filename, z.read(infos[-1]).decode('utf8')]
print(json.dumps(res))`, ...files.map(([n]) => path.join(dir, n)));
    assert.deepStrictEqual(JSON.parse(out), {
      'plain.zip': [5, 'arch/data/0', '3\n'],
      'forced64.zip': [5, 'arch/data/0', '3\n'],
      'many.zip': [70000, 'a/1', '69999'],
    });
    const r = ZipReader.open(path.join(dir, 'many.zip'));
    assert.strictEqual(r.entries.size, 70000);
    assert.strictEqual(r.read('a/69999').toString(), '69999');
    r.close();
    fs.rmSync(dir, { recursive: true });
  });

  it('reads deflated entries written by Python zipfile', function () {
    if (!fs.existsSync(PYTHON)) this.skip();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zip-')), 'd.zip');
    runPython(`
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('a/x', 'hello ' * 100)`, file);
    const r = ZipReader.open(file);
    assert.strictEqual(r.read('a/x').toString(), 'hello '.repeat(100));
    r.close();
  });
});
