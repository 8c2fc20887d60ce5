// `trm viz [dir…] [--host H] [--port P] [--poll-ms N]`: serves the page until Ctrl-C.
// Parses flags and calls startVizServer; never calls process.exit.
import { startVizServer } from './server';

const USAGE = `Usage: trm viz [dir…] [--host 127.0.0.1] [--port 0] [--poll-ms 2000]

Serves a local page for dataset folders (ARC, Sudoku, Maze), saved evaluation outputs
(step_N_all_preds.*, submission.json) and training curves (metrics.jsonl) under the given
folders (default: the current one). --port 0 picks a free port.`;

export interface VizArgs { dirs: string[]; host: string; port: number; pollMs: number }

export function parseVizArgs(argv: string[]): VizArgs | 'help' {
  const out: VizArgs = { dirs: [], host: '127.0.0.1', port: 0, pollMs: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return 'help';
    const m = /^--(host|port|poll-ms)(?:=(.*))?$/.exec(a);
    if (!m) {
      if (a.startsWith('--')) throw new Error(`unknown flag ${a} (flags: --host, --port, --poll-ms)`);
      out.dirs.push(a);
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    if (m[1] === 'host') {
      out.host = value;
    } else {
      const n = Number(value);
      const max = m[1] === 'port' ? 65535 : 3_600_000;
      if (!Number.isInteger(n) || n < (m[1] === 'port' ? 0 : 100) || n > max) throw new Error(`Expected an integer ${m[1] === 'port' ? '0..65535' : '100..3600000'} for --${m[1]} but received ${JSON.stringify(value)}`);
      if (m[1] === 'port') out.port = n; else out.pollMs = n;
    }
  }
  return out;
}

export async function runVizCommand(argv: string[]): Promise<number> {
  let args: VizArgs | 'help';
  try {
    args = parseVizArgs(argv);
  } catch (e) {
    console.error(`trm viz: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    console.log(USAGE);
    return 0;
  }
  const server = await startVizServer({ dirs: args.dirs, host: args.host, port: args.port, pollMs: args.pollMs });
  console.log(`trm viz: serving ${args.dirs.length ? args.dirs.join(', ') : process.cwd()} at ${server.url} (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
