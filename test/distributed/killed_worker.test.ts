// A worker killed mid-training under `trm-train --nproc-per-node 2`: the survivor stops with a
// clear error at once, the launcher exits non-zero, and no checkpoint is left half-written.
import { strict as assert } from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as torch from '../../lib/torch';
import { CLI, makeSudokuData, tinyOverrides } from '../train/helpers';

/** The launcher's worker with RANK=1 (Linux /proc). */
function findRank1(launcherPid: number): number | null {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== launcherPid) continue;
      if (fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes('RANK=1')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

describe('distributed: a worker killed mid-training', function () {
  this.timeout(180000);
  let dir = '';
  let launcher: ChildProcess | null = null;
  before(function () {
    if (process.platform !== 'linux') this.skip();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-dist-kill-'));
  });
  after(() => {
    launcher?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stops the survivor with a clear error and exits non-zero, leaving only whole checkpoints', async () => {
    const data = makeSudokuData(dir, { numTrain: 64, numTest: 16 });
    const ck = path.join(dir, 'ck');
    launcher = spawn(process.execPath, [CLI, '--nproc-per-node', '2', ...tinyOverrides(data, ck), 'epochs=1000', 'eval_interval=100'], {
      env: { ...process.env, DISABLE_COMPILE: '1', TRM_DIST_TIMEOUT_MS: '20000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    let killedAt = 0;
    const onData = (d: Buffer) => {
      text += d;
      if (!killedAt && /\[rank0\]: step \d+/.test(text)) {
        const pid = findRank1(launcher!.pid!);
        if (pid) {
          killedAt = Date.now();
          process.kill(pid, 'SIGKILL');
        }
      }
    };
    launcher.stdout!.on('data', onData);
    launcher.stderr!.on('data', onData);
    const code = await new Promise<number | null>((resolve) => launcher!.on('exit', resolve));
    assert.ok(killedAt > 0, `never saw training start:\n${text}`);
    assert.notEqual(code, 0, text);
    assert.ok(Date.now() - killedAt < 15000, `took ${Date.now() - killedAt} ms to stop`);
    assert.match(text, /worker rank 1 was killed by SIGKILL/);
    assert.match(text, /\[rank0\]: .*a peer rank exited or lost its connection|\[rank0\]: .*timed out/);
    // Whatever checkpoint exists is complete (the trainer writes to a temp name, then renames).
    if (fs.existsSync(ck)) {
      for (const f of fs.readdirSync(ck)) {
        assert.doesNotMatch(f, /\.tmp/);
        if (/^step_\d+$/.test(f)) torch.dispose(torch.load(path.join(ck, f)) as never);
      }
    }
  });
});
