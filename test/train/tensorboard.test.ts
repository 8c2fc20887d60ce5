import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EventWriter, decodeEvent, encodeEvent, frameRecord, maskedCrc32c, readEventFile, readRecords } from '../../lib/train/tensorboard';

const PYTHON = '/usr/bin/python3';

describe('tensorboard event files', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tb-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('encodes Event protobufs byte for byte', () => {
    const version = encodeEvent({ wallTime: 1.5, step: 0, fileVersion: 'brain.Event:2' });
    assert.strictEqual(version.toString('hex'), '09' + '000000000000f83f' + '1a0d' + Buffer.from('brain.Event:2').toString('hex'));
    const scalar = encodeEvent({ wallTime: 2, step: 3, summary: [{ tag: 'a', simpleValue: 0.5 }] });
    // wall_time, step=3, summary { value { tag "a", simple_value 0.5f } }
    assert.strictEqual(scalar.toString('hex'), '09' + '0000000000000040' + '1003' + '2a0a' + '0a08' + '0a0161' + '150000003f');
    const neg = encodeEvent({ wallTime: 0, step: -2 });
    assert.strictEqual(neg.length, 9 + 1 + 10, 'negative int64 is a 10-byte varint');
    assert.strictEqual(decodeEvent(neg).step, -2);
  });

  it('frames records with masked CRC-32C of length and data', () => {
    const rec = frameRecord(Buffer.from('abc'));
    assert.strictEqual(rec.readBigUInt64LE(0), 3n);
    assert.strictEqual(rec.readUInt32LE(8), maskedCrc32c(rec.subarray(0, 8)));
    assert.strictEqual(rec.readUInt32LE(15), maskedCrc32c(Buffer.from('abc')));
    // mask(crc32c("")) = rotr15(0) + 0xa282ead8
    assert.strictEqual(maskedCrc32c(new Uint8Array(0)), 0xa282ead8);
    assert.deepStrictEqual(readRecords(Buffer.concat([rec, frameRecord(Buffer.alloc(0))])), [Buffer.from('abc'), Buffer.alloc(0)]);
  });

  it('writes the version event first, then scalars on flush, and reads back with every CRC checked', () => {
    let now = 1_700_000_000_000;
    const w = new EventWriter(path.join(dir, 'tb'), { clock: () => now, hostname: 'box' });
    assert.match(path.basename(w.path), new RegExp(`^events\\.out\\.tfevents\\.1700000000\\.box\\.${process.pid}\\.\\d+$`));
    now += 1500;
    w.addScalars({ 'train/lm_loss': 1.25, 'train/accuracy': 0.5 }, 10);
    w.addScalar('train/lr', 0.0001, 11);
    assert.strictEqual(readEventFile(w.path).length, 1, 'only the version event before flush');
    w.flush();
    w.close();
    const events = readEventFile(w.path);
    assert.deepStrictEqual(events[0], { wallTime: 1_700_000_000, step: 0, fileVersion: 'brain.Event:2' });
    assert.deepStrictEqual(events[1], {
      wallTime: 1_700_000_001.5, step: 10,
      summary: [{ tag: 'train/lm_loss', simpleValue: 1.25 }, { tag: 'train/accuracy', simpleValue: 0.5 }],
    });
    assert.strictEqual(events[2].summary![0].tag, 'train/lr');
    assert.strictEqual(events[2].summary![0].simpleValue, Math.fround(0.0001));
    assert.throws(() => w.addScalar('x', 1, 1), /after close/);
  });

  it('rejects a flipped byte and a truncated file', () => {
    const w = new EventWriter(dir, { hostname: 'h' });
    w.addScalar('loss', 2, 1);
    w.close();
    const good = fs.readFileSync(w.path);
    const bad = Buffer.from(good);
    bad[bad.length - 6] ^= 1;
    fs.writeFileSync(w.path, bad);
    assert.throws(() => readEventFile(w.path), /data CRC mismatch/);
    fs.writeFileSync(w.path, good.subarray(0, good.length - 3));
    assert.throws(() => readEventFile(w.path), /truncated record/);
  });

  it('validates its inputs', () => {
    const w = new EventWriter(dir);
    assert.throws(() => w.addScalar('x', 1, 1.5), /Expected integer step but received 1.5/);
    assert.throws(() => w.addScalars({ x: 'a' as unknown as number }, 1), /Expected number for scalar 'x'/);
    w.close();
  });

  it('is accepted by an independent Python TFRecord/CRC-32C check (and by tensorboard if installed)', function () {
    if (!fs.existsSync(PYTHON)) this.skip();
    const w = new EventWriter(dir, { hostname: 'h' });
    for (let s = 1; s <= 5; s++) w.addScalar('train/lm_loss', 1 / s, s);
    w.close();
    const r = spawnSync(PYTHON, ['-c', `
import struct, sys
def crc32c(data):  # bitwise, independent of the table-driven TS code
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff
def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xa282ead8) & 0xffffffff
buf = open(sys.argv[1], 'rb').read()
p, n = 0, 0
while p < len(buf):
    (length,) = struct.unpack_from('<Q', buf, p)
    assert struct.unpack_from('<I', buf, p + 8)[0] == masked(buf[p:p + 8])
    data = buf[p + 12:p + 12 + length]
    assert struct.unpack_from('<I', buf, p + 12 + length)[0] == masked(data)
    p += 16 + length
    n += 1
tb = 'absent'
try:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(sys.argv[2]); acc.Reload()
    tb = [round(e.value, 4) for e in acc.Scalars('train/lm_loss')]
except ImportError:
    pass
print(n, tb)`, w.path, dir], { encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    const [n, tb] = r.stdout.trim().split(' ', 2);
    assert.strictEqual(n, '6');
    if (tb !== 'absent') assert.strictEqual(tb, '[1.0, 0.5, 0.3333, 0.25, 0.2]');
  });
});
