// `trm-train [overrides…]`: the official `python pretrain.py` command line. With no arguments on
// a machine without the default data, it runs the built-in demo: generate a Sudoku set, train a
// small TRM on it and report the exact accuracy on held-out puzzles it never trained on.
import * as fs from 'fs';
import * as path from 'path';
import { composeConfig, composeConfigYaml, parseTrainArgv, PretrainConfig } from '../config';
import { trainFlagsHelp } from '../config/argv';
import { buildSudokuDataset } from '../data/builders/sudoku';
import { generateSudokuCsv } from '../data/generators/sudoku';
import { pretrain, PretrainResult } from '../train/pretrain';

/** The built-in demo: its config (config/demo_sudoku.yaml) and the data it generates. */
export const DEMO = {
  configName: 'demo_sudoku',
  dataDir: path.join('data', 'sudoku-demo'),
  size: 6,
  givens: 18,
  numTrain: 3000,
  numTest: 500,
  seed: 0,
};

function usage(): string {
  return [
    'Usage: trm-train [options] [overrides...]',
    '',
    'Trains a recursive reasoning model with the official pretrain.py config and override grammar,',
    'e.g.  trm-train arch=trm data_paths="[data/sudoku]" lr=1e-4 arch.H_cycles=3 +run_name=x',
    'With no arguments and no data at the default path, runs the built-in Sudoku demo.',
    '',
    'Options:',
    trainFlagsHelp(),
  ].join('\n');
}

/** Generates and builds the demo's Sudoku dataset unless it is there already. */
export function prepareDemoData(log: (m: string) => void): void {
  if (fs.existsSync(path.join(DEMO.dataDir, 'train', 'dataset.json'))) return;
  const csvDir = `${DEMO.dataDir}-csv`;
  log(`Generating ${DEMO.numTrain} + ${DEMO.numTest} ${DEMO.size}x${DEMO.size} Sudoku puzzles (${DEMO.givens} givens, unique solutions) in ${csvDir}`);
  generateSudokuCsv({ outputDir: csvDir, size: DEMO.size, numTrain: DEMO.numTrain, numTest: DEMO.numTest, givens: DEMO.givens, seed: DEMO.seed });
  log(`Building the dataset in ${DEMO.dataDir}`);
  buildSudokuDataset({ sourceRepo: csvDir, outputDir: DEMO.dataDir, seed: DEMO.seed });
}

function exactAccuracy(result: PretrainResult): number | null {
  const m = result.evalMetrics as Record<string, Record<string, number>> | null;
  if (!m) return null;
  const sets = Object.values(m).filter((v) => v && typeof v === 'object' && typeof v.exact_accuracy === 'number');
  return sets.length ? sets.reduce((a, s) => a + s.exact_accuracy, 0) / sets.length : null;
}

export async function main(argv: string[]): Promise<number> {
  const { overrides, flags } = parseTrainArgv(argv);
  if (flags.help) {
    console.log(usage());
    return 0;
  }
  if (flags.launcher.nprocPerNode !== undefined && flags.launcher.nprocPerNode !== 1) {
    console.error('trm-train: --nproc-per-node > 1 needs the distributed launcher, which is not available in this version; run one process, or launch ranks with torchrun.');
    return 2;
  }
  const log = (m: string) => console.error(m);
  let configName = flags.configName;
  let demo = false;
  if (argv.length === 0) {
    const defaults = composeConfig({ overrides: [] });
    if (!defaults.data_paths.every((p) => fs.existsSync(p))) {
      demo = true;
      configName = DEMO.configName;
      log(`No dataset at ${defaults.data_paths.join(', ')}: running the built-in demo (config/${DEMO.configName}.yaml).`);
      prepareDemoData(log);
    }
  }
  const compose = { configPath: flags.configPath, configName, overrides };
  if (flags.cfg) {
    process.stdout.write(composeConfigYaml({ ...compose, resolve: flags.resolve, part: flags.cfg }));
    return 0;
  }
  const config: PretrainConfig = composeConfig(compose);
  const controller = new AbortController();
  const stop = () => {
    if (controller.signal.aborted) process.exit(130);
    log('\nStopping after this step (a checkpoint will be saved; Ctrl-C again to quit now)…');
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const started = Date.now();
  const result = await pretrain(config, { signal: controller.signal, log });
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  const acc = exactAccuracy(result);
  log(`Trained ${result.step} steps in ${minutes} min; checkpoints in ${result.checkpointPath}`);
  if (acc !== null) {
    console.log(`${demo ? 'Held-out' : 'Eval'} exact accuracy: ${(acc * 100).toFixed(1)}%`);
  }
  return 0;
}
