// The launcher: env per worker, rank-prefixed output, signals forwarded, one failure stops all;
// and `trm-train --nproc-per-node 2` end to end.
import { strict as assert } from 'assert';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PassThrough } from 'stream';
import { launch, workerArgv } from '../../lib/distributed/launch';
import { CLI, makeSudokuData, tinyOverrides } from '../train/helpers';

const LAUNCH = path.resolve(__dirname, '..', '..', 'lib', 'distributed', 'launch.js');

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => (text += d));
  return { stream, text: () => text };
}

/** A worker script: `node -e <script>`. */
const node = (script: string) => [process.execPath, '-e', script];

describe('distributed: launcher', function () {
  this.timeout(180000);
  const children: ChildProcess[] = [];
  let dir = '';
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-dist-launch-'))));
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('strips only launcher flags from what workers get', () => {
    assert.deepEqual(
      workerArgv(['--nproc-per-node', '2', 'lr=1', '--master_port=123', '--standalone', '--config-name', 'x', '--nnodes', '1', 'a=b']),
      ['lr=1', '--config-name', 'x', 'a=b']
    );
  });

  it('gives each worker torchrun variables and prefixes its lines with the rank', async () => {
    const out = collect();
    const code = await launch({
      nprocPerNode: 2,
      command: node("const e=process.env; console.log([e.RANK,e.WORLD_SIZE,e.LOCAL_RANK,e.LOCAL_WORLD_SIZE,e.MASTER_ADDR,Number(e.MASTER_PORT)>0,e.OMP_NUM_THREADS].join(' ')); process.stdout.write('partial')"),
      env: { ...process.env, OMP_NUM_THREADS: undefined, MASTER_PORT: undefined, MASTER_ADDR: undefined },
      stdout: out.stream,
      stderr: out.stream,
    });
    assert.equal(code, 0);
    const lines = out.text().trim().split('\n').sort();
    assert.deepEqual(lines, ['[rank0]: 0 2 0 2 127.0.0.1 true 1', '[rank0]: partial', '[rank1]: 1 2 1 2 127.0.0.1 true 1', '[rank1]: partial']);
  });

  it('when one worker dies, ends the others and exits non-zero', async () => {
    const out = collect();
    const started = Date.now();
    const code = await launch({
      nprocPerNode: 2,
      command: node("if (process.env.RANK === '1') setTimeout(() => process.exit(3), 300); else { process.on('SIGTERM', () => { console.log('stopping'); process.exit(0); }); setInterval(() => {}, 1000); }"),
      stdout: out.stream,
      stderr: out.stream,
      graceMs: 2000,
    });
    assert.equal(code, 3);
    assert.ok(Date.now() - started < 10000);
    assert.match(out.text(), /\[rank0\]: stopping/);
    assert.match(out.text(), /worker rank 1 exited with code 3; the other workers were stopped/);
  });

  it('kills a worker that ignores SIGTERM after the grace period', async () => {
    const out = collect();
    const code = await launch({
      nprocPerNode: 2,
      command: node("process.on('SIGTERM', () => {}); if (process.env.RANK === '0') process.kill(process.pid, 'SIGKILL'); setInterval(() => {}, 1000);"),
      stdout: out.stream,
      stderr: out.stream,
      graceMs: 500,
    });
    assert.equal(code, 128 + 9);
    assert.match(out.text(), /worker rank 0 was killed by SIGKILL/);
  });

  it('forwards SIGTERM to every worker once', async () => {
    const script = `require(${JSON.stringify(LAUNCH)}).launch({ nprocPerNode: 2, command: ${JSON.stringify(
      node("let n=0; process.on('SIGTERM', () => { n++; setTimeout(() => { console.log('got SIGTERM x' + n); process.exit(0); }, 200); }); console.log('ready'); setInterval(() => {}, 1000);")
    )} }).then((c) => { process.exitCode = c; });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let text = '';
    let sent = false;
    child.stdout!.on('data', (d) => {
      text += d;
      if (!sent && (text.match(/ready/g) ?? []).length === 2) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, text);
    assert.match(text, /\[rank0\]: got SIGTERM x1/);
    assert.match(text, /\[rank1\]: got SIGTERM x1/);
  });

  it('trm-train --nproc-per-node 2 trains on two ranks, only rank 0 logging and saving', () => {
    const data = makeSudokuData(dir, { numTrain: 64, numTest: 16 });
    const ck = path.join(dir, 'ck');
    const r = spawnSync(process.execPath, [CLI, '--nproc-per-node', '2', ...tinyOverrides(data, ck), 'epochs=2'], {
      encoding: 'utf8',
      env: { ...process.env, DISABLE_COMPILE: '1' },
      timeout: 150000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /\[rank0\]: Trained 8 steps/);
    assert.doesNotMatch(r.stderr + r.stdout, /\[rank1\]: (Trained|step|Saved)/);
    assert.ok(fs.existsSync(path.join(ck, 'step_8')));
  });
});
