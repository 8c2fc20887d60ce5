// `trm-train --nproc-per-node N`: starts N workers with torchrun's variables, prefixes their output
// with the rank, forwards SIGINT/SIGTERM, and when one worker fails ends the others and fails too.
import { ChildProcess, spawn } from 'child_process';
import * as net from 'net';
import type { LauncherFlags } from '../config/argv';
import { TRAIN_FLAGS } from '../config/argv';
import { DistributedError } from './env';

export interface LaunchOptions extends LauncherFlags {
  /** The command every worker runs (argv[0] is the executable). */
  command: string[];
  /** Base environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where prefixed output goes (default process.stdout / process.stderr). */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** After a failure, how long the others get after SIGTERM before SIGKILL (default 5000). */
  graceMs?: number;
  /** Number of local GPUs, for nprocPerNode 'auto' (default: ask the addon). */
  gpuCount?: () => number;
}

/** `argv` without the launcher's own flags: what each worker is given. */
export function workerArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (!arg.startsWith('--')) {
      out.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = `--${(eq < 0 ? arg : arg.slice(0, eq)).slice(2).replace(/_/g, '-')}`;
    const spec = TRAIN_FLAGS.find((f) => f.name === name);
    if (!spec?.launcher) {
      out.push(arg);
      continue;
    }
    if (eq < 0 && spec.kind !== 'bool') i++; // its value
  }
  return out;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Copies a stream to `out` line by line, each line prefixed. */
function prefixLines(from: NodeJS.ReadableStream, out: NodeJS.WritableStream, prefix: string): Promise<void> {
  let pending = '';
  return new Promise((resolve) => {
    from.setEncoding('utf8');
    from.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      if (lines.length) out.write(lines.map((l) => `${prefix}${l}\n`).join(''));
    });
    from.on('end', () => {
      if (pending) out.write(`${prefix}${pending}\n`);
      resolve();
    });
  });
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15, SIGABRT: 6 };

/**
 * Runs the workers of this node and resolves with the exit code for the launcher: 0 when every
 * worker exited 0, else the first failure's code (128 + signal number for a signal).
 */
export async function launch(o: LaunchOptions): Promise<number> {
  const nnodes = o.nnodes ?? 1;
  const nodeRank = o.nodeRank ?? 0;
  if (nnodes < 1) throw new DistributedError(`Expected a positive integer for --nnodes but received ${nnodes}`);
  if (nodeRank >= nnodes) throw new DistributedError(`--node-rank (${nodeRank}) must be below --nnodes (${nnodes})`);
  const gpus = o.gpuCount ?? (() => (require('../torch/native') as typeof import('../torch/native')).native.buildInfo().cudaDeviceCount);
  const nproc = o.nprocPerNode === 'auto' ? Math.max(1, gpus()) : o.nprocPerNode ?? 1;
  const base = o.env ?? process.env;
  let masterAddr = o.masterAddr ?? base.MASTER_ADDR;
  let masterPort = o.masterPort ?? (base.MASTER_PORT ? Number(base.MASTER_PORT) : undefined);
  if (o.rdzvEndpoint) {
    const m = /^(.*):(\d+)$/.exec(o.rdzvEndpoint);
    masterAddr ??= m ? m[1] : o.rdzvEndpoint;
    masterPort ??= m ? Number(m[2]) : undefined;
  }
  if (nnodes > 1 && (masterAddr === undefined || masterPort === undefined)) {
    throw new DistributedError('--nnodes > 1 needs --master-addr and --master-port (the same on every node)');
  }
  masterAddr ??= '127.0.0.1';
  masterPort ??= await freePort(masterAddr);
  const worldSize = nproc * nnodes;
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const graceMs = o.graceMs ?? 5000;

  const children: ChildProcess[] = [];
  const outputs: Promise<void>[] = [];
  let failure: { rank: number; code: number; why: string } | null = null;
  let killTimer: NodeJS.Timeout | undefined;

  const signalAll = (sig: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(sig);
  };
  const endOthers = () => {
    signalAll('SIGTERM');
    killTimer ??= setTimeout(() => signalAll('SIGKILL'), graceMs);
  };
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    signalAll(interrupts > 2 ? 'SIGKILL' : sig);
  };
  const onExit = () => signalAll('SIGKILL');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);

  const exits = [];
  for (let local = 0; local < nproc; local++) {
    const rank = nodeRank * nproc + local;
    const env: NodeJS.ProcessEnv = {
      ...base,
      RANK: String(rank),
      WORLD_SIZE: String(worldSize),
      LOCAL_RANK: String(local),
      LOCAL_WORLD_SIZE: String(nproc),
      GROUP_RANK: String(nodeRank),
      MASTER_ADDR: masterAddr,
      MASTER_PORT: String(masterPort),
    };
    // As torchrun: one OpenMP thread per worker unless the user chose.
    if (nproc > 1 && base.OMP_NUM_THREADS === undefined) env.OMP_NUM_THREADS = '1';
    // Own process group: a terminal's Ctrl-C reaches the launcher, which forwards it once.
    const child = spawn(o.command[0], o.command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.push(child);
    const prefix = `[rank${rank}]: `;
    outputs.push(prefixLines(child.stdout!, stdout, prefix), prefixLines(child.stderr!, stderr, prefix));
    exits.push(
      new Promise<void>((resolve) => {
        child.on('error', (err) => {
          failure ??= { rank, code: 1, why: `could not start: ${err.message}` };
          endOthers();
          resolve();
        });
        child.on('exit', (code, signal) => {
          if (code !== 0 && !failure) {
            const c = code ?? 128 + (SIGNAL_NUMBERS[signal as NodeJS.Signals] ?? 1);
            failure = { rank, code: c, why: signal ? `was killed by ${signal}` : `exited with code ${code}` };
            endOthers();
          }
          resolve();
        });
      })
    );
  }
  try {
    await Promise.all(exits);
    await Promise.all(outputs);
  } finally {
    if (killTimer) clearTimeout(killTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  }
  if (failure) {
    const f = failure as { rank: number; code: number; why: string };
    stderr.write(`trm-train: worker rank ${f.rank} ${f.why}; ${nproc > 1 ? 'the other workers were stopped' : 'stopping'}.\n`);
    return f.code;
  }
  return 0;
}
