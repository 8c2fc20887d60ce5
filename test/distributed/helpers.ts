// Spawning ranks for the distributed tests: free ports on 127.0.0.1, every child killed in the
// suite's `after` hook, every run under a hard deadline.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as net from 'net';
import * as path from 'path';

export const WORKER = path.join(__dirname, 'worker.js');
export const PYTHON = '/usr/bin/python3';

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export function hasPythonTorch(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import torch.distributed as d; assert d.is_gloo_available()'], { stdio: 'ignore', timeout: 60000 });
  return r.status === 0;
}

export interface RankResult {
  rank: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The JSON a worker printed on its `RESULT ` line, if any. */
  result: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Children still running; `killAll` ends them (call it in `after`). */
const live = new Set<ChildProcess>();

export function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
}

export interface RankSpec {
  /** Command and arguments (default: node worker.js <scenario>). */
  argv: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs one process per rank with torchrun's variables set; rejects after `deadlineMs`. With
 * `until`, the others are killed once those ranks have exited.
 */
export function runRanks(specs: RankSpec[], port: number, deadlineMs: number, until?: number[]): Promise<RankResult[]> {
  const worldSize = specs.length;
  const children: ChildProcess[] = [];
  const exited = new Set<number>();
  const runs = specs.map(
    (spec, rank) =>
      new Promise<RankResult>((resolve) => {
        const env = {
          ...process.env,
          RANK: String(rank),
          WORLD_SIZE: String(worldSize),
          LOCAL_RANK: String(rank),
          LOCAL_WORLD_SIZE: String(worldSize),
          MASTER_ADDR: '127.0.0.1',
          MASTER_PORT: String(port),
          GLOO_SOCKET_IFNAME: 'lo',
          OMP_NUM_THREADS: '1',
          ...spec.env,
        };
        const child = spawn(spec.argv[0], spec.argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
        live.add(child);
        children.push(child);
        let stdout = '';
        let stderr = '';
        child.stdout!.on('data', (d) => (stdout += d));
        child.stderr!.on('data', (d) => (stderr += d));
        child.on('close', (code, signal) => {
          live.delete(child);
          exited.add(rank);
          if (until && until.every((u) => exited.has(u))) for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
          const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
          resolve({ rank, code, signal, stdout, stderr, result: line ? JSON.parse(line.slice(7)) : undefined });
        });
      })
  );
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      killAll();
      reject(new Error(`ranks still running after ${deadlineMs} ms (killed)`));
    }, deadlineMs);
  });
  return Promise.race([Promise.all(runs), deadline]).finally(() => clearTimeout(timer));
}

export function nodeRank(scenario: string, ...args: string[]): RankSpec {
  return { argv: [process.execPath, WORKER, scenario, ...args] };
}

export function describeRun(results: RankResult[]): string {
  return results.map((r) => `rank ${r.rank}: code ${r.code} signal ${r.signal}\n${r.stdout}\n${r.stderr}`).join('\n');
}
