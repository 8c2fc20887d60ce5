// trm-train's command line: Hydra flags (--cfg, --resolve, --config-path, --config-name),
// torchrun-style launcher flags (--nproc-per-node, --nnodes, …) and everything else as
// overrides. One table drives parsing and help; parsing throws, it never exits.

import { ConfigError } from './errors';
import { closest } from '../util/suggest';

export interface LauncherFlags {
  /** Processes on this node: a number, or 'auto' (one per GPU, else one). */
  nprocPerNode?: number | 'auto';
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
  masterPort?: number;
  rdzvBackend?: string;
  rdzvEndpoint?: string;
  standalone?: boolean;
}

export interface TrainFlags {
  /** `--cfg job|hydra|all`: print the composed config instead of training. */
  cfg?: 'job' | 'hydra' | 'all';
  /** `--resolve`: with --cfg, print interpolations resolved. */
  resolve: boolean;
  configPath?: string;
  configName?: string;
  help: boolean;
  launcher: LauncherFlags;
}

export interface TrainArgv {
  /** Hydra overrides, in order, unparsed (composeConfig parses them). */
  overrides: string[];
  flags: TrainFlags;
  /** The launcher flags as given, normalized to `--name=value`, for forwarding to workers. */
  launcherArgs: string[];
}

type Kind = 'string' | 'int' | 'bool' | 'nproc' | 'cfg' | 'port';

interface FlagSpec {
  name: string; // canonical, e.g. '--nproc-per-node'
  aliases?: string[];
  kind: Kind;
  help: string;
  set(flags: TrainFlags, value: string | number | boolean): void;
  launcher?: boolean;
}

export const TRAIN_FLAGS: readonly FlagSpec[] = [
  { name: '--help', aliases: ['-h'], kind: 'bool', help: 'Show this help.', set: (f) => (f.help = true) },
  {
    name: '--cfg',
    aliases: ['-c'],
    kind: 'cfg',
    help: 'Print the composed config and exit: job (the training config), hydra, or all.',
    set: (f, v) => (f.cfg = v as TrainFlags['cfg']),
  },
  { name: '--resolve', kind: 'bool', help: 'With --cfg, resolve ${...} interpolations before printing.', set: (f) => (f.resolve = true) },
  {
    name: '--config-path',
    aliases: ['-cp'],
    kind: 'string',
    help: 'Directory of the primary config and its groups (relative to the current directory). Default: the package\'s config/.',
    set: (f, v) => (f.configPath = v as string),
  },
  {
    name: '--config-name',
    aliases: ['-cn'],
    kind: 'string',
    help: 'Primary config name, without .yaml. Default: cfg_pretrain.',
    set: (f, v) => (f.configName = v as string),
  },
  { name: '--nproc-per-node', kind: 'nproc', launcher: true, help: 'Training processes on this node (a number or auto).', set: (f, v) => (f.launcher.nprocPerNode = v as number | 'auto') },
  { name: '--nnodes', kind: 'int', launcher: true, help: 'Number of nodes.', set: (f, v) => (f.launcher.nnodes = v as number) },
  { name: '--node-rank', kind: 'int', launcher: true, help: 'Rank of this node, 0-based.', set: (f, v) => (f.launcher.nodeRank = v as number) },
  { name: '--master-addr', kind: 'string', launcher: true, help: 'Address of the rank-0 node.', set: (f, v) => (f.launcher.masterAddr = v as string) },
  { name: '--master-port', kind: 'port', launcher: true, help: 'Port of the rank-0 node.', set: (f, v) => (f.launcher.masterPort = v as number) },
  { name: '--rdzv-backend', kind: 'string', launcher: true, help: 'Rendezvous backend (accepted for torchrun compatibility).', set: (f, v) => (f.launcher.rdzvBackend = v as string) },
  { name: '--rdzv-endpoint', kind: 'string', launcher: true, help: 'Rendezvous endpoint host:port (accepted for torchrun compatibility).', set: (f, v) => (f.launcher.rdzvEndpoint = v as string) },
  { name: '--standalone', kind: 'bool', launcher: true, help: 'Single-node run with a local rendezvous.', set: (f) => (f.launcher.standalone = true) },
];

/** Normalize `--nproc_per_node` to `--nproc-per-node`; short Hydra aliases stay as written. */
function canonical(name: string): string {
  return name.startsWith('--') ? `--${name.slice(2).replace(/_/g, '-')}` : name;
}

function lookup(name: string): FlagSpec | undefined {
  const c = canonical(name);
  return TRAIN_FLAGS.find((f) => f.name === c || (f.aliases ?? []).includes(name));
}

function convert(spec: FlagSpec, raw: string, given: string): string | number | boolean {
  const bad = (what: string): ConfigError => new ConfigError('argv', `Expected ${what} for ${spec.name} but received '${raw}'.`, spec.name);
  switch (spec.kind) {
    case 'string':
      if (raw === '') throw bad('a value');
      return raw;
    case 'int':
      if (!/^\d+$/.test(raw)) throw bad('a non-negative integer');
      return Number(raw);
    case 'port': {
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < 1 || n > 65535) throw bad('a port number (1-65535)');
      return n;
    }
    case 'nproc':
      if (raw === 'auto') return raw;
      if (!/^\d+$/.test(raw) || Number(raw) < 1) throw bad('a positive integer or auto');
      return Number(raw);
    case 'cfg':
      if (raw !== 'job' && raw !== 'hydra' && raw !== 'all') throw bad('job, hydra or all');
      return raw;
    case 'bool':
      throw new ConfigError('argv', `${given} takes no value.`, spec.name);
  }
}

/** Split trm-train's argv (without `node` and the script) into overrides and flags. */
export function parseTrainArgv(argv: readonly string[]): TrainArgv {
  const flags: TrainFlags = { resolve: false, help: false, launcher: {} };
  const overrides: string[] = [];
  const launcherArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      overrides.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-')) {
      overrides.push(arg);
      continue;
    }
    if (arg === '-m' || arg === '--multirun') {
      throw new ConfigError('argv', `${arg}: multirun sweeps are not supported; run trm-train once per setting.`, arg);
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const spec = lookup(name);
    if (!spec) {
      const names = TRAIN_FLAGS.flatMap((f) => [f.name, ...(f.aliases ?? [])]);
      const near = closest(canonical(name), names);
      throw new ConfigError('argv', `Unknown option '${name}'.${near ? ` Did you mean '${near}'?` : ''} Run trm-train --help for the options.`, name);
    }
    let value: string | number | boolean = true;
    if (spec.kind === 'bool') {
      if (eq >= 0) convert(spec, arg.slice(eq + 1), name);
    } else {
      let raw: string | undefined;
      if (eq >= 0) raw = arg.slice(eq + 1);
      else {
        raw = argv[i + 1];
        if (raw === undefined || (raw.startsWith('-') && raw.length > 1)) {
          throw new ConfigError('argv', `${name} needs a value.`, spec.name);
        }
        i++;
      }
      value = convert(spec, raw, name);
    }
    spec.set(flags, value);
    if (spec.launcher) launcherArgs.push(spec.kind === 'bool' ? spec.name : `${spec.name}=${String(value)}`);
  }
  return { overrides, flags, launcherArgs };
}

/** The options part of `trm-train --help`, from the same table. */
export function trainFlagsHelp(): string {
  const rows = TRAIN_FLAGS.map((f) => {
    const names = [...(f.aliases ?? []), f.name].join(', ');
    const arg = f.kind === 'bool' ? '' : f.kind === 'cfg' ? ' <job|hydra|all>' : ' <value>';
    return [`${names}${arg}`, f.help] as const;
  });
  const width = Math.max(...rows.map(([n]) => n.length)) + 2;
  return rows.map(([n, h]) => `  ${n.padEnd(width)}${h}`).join('\n');
}
