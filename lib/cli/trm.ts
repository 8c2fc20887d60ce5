// `trm <command> [...]`: dataset builders and generators, benchmarks. The CLI only parses and
// calls the library; the library throws instead of exiting.
import { runBench } from '../bench/cli';
import { runDatasetCommand } from './dataset';
import { runVizCommand } from '../viz/cli';
import { runExportCommand } from '../jit/cli';

const COMMANDS: Record<string, { summary: string; run: (argv: string[]) => Promise<number> }> = {
  dataset: { summary: 'build (arc, sudoku, maze) or generate (gen-sudoku, gen-maze) puzzle datasets', run: runDatasetCommand },
  export: { summary: 'write a TorchScript module of a trained checkpoint (--out model.pt)', run: runExportCommand },
  bench: { summary: 'benchmarks against PyTorch on this machine (--json FILE)', run: runBench },
  viz: { summary: 'local web page for datasets, predictions and training curves ([dir…] --port N)', run: runVizCommand },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: trm <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'trm <command> --help' for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`trm: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}
