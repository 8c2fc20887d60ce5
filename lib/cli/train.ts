// `trm-train [overrides…]`: the official `python pretrain.py` command line. With no arguments on
// a machine without the default data, it runs the built-in demo: generate a Sudoku set, train a
// small TRM on it and report the exact accuracy on held-out puzzles it never trained on.
import * as fs from 'fs';
import * as path from 'path';
import { composeConfig, composeConfigYaml, parseTrainArgv, PretrainConfig } from '../config';
import { trainFlagsHelp } from '../config/argv';
import { buildSudokuDataset } from '../data/builders/sudoku';
import { generateSudokuCsv } from '../data/generators/sudoku';
import { readPuzzleCsv } from '../data/csv';
import { pretrain, PretrainResult } from '../train/pretrain';
import { backendFor, initProcessGroup, ProcessGroupComm, readDistEnv, selectDevice } from '../distributed';
import { launch, workerArgv } from '../distributed/launch';

/**
 * The built-in demo: its config (config/demo_sudoku.yaml) and the data it generates. 6x6 Sudoku
 * (2x3 boxes) with 18 of 36 cells given and a unique solution: a real constraint-propagation task
 * that a small TRM learns in a few hundred steps on two CPU cores. The 10,000 training puzzles
 * are all distinct and come from distinct random grids (6x6 has 28,200,960 valid grids), so
 * every epoch sees fresh puzzles and no augmentation is needed; the 500 held-out puzzles share
 * neither their clues nor their solution grid with any training puzzle (checked below).
 */
export const DEMO = {
  configName: 'demo_sudoku',
  dataDir: path.join('data', 'sudoku-demo'),
  size: 6,
  givens: 18,
  numTrain: 10000,
  numTest: 500,
  numAug: 0,
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

/** How many held-out puzzles share their clues, or their solution grid, with a training puzzle. */
export function heldOutOverlap(csvDir: string): { test: number; sameClues: number; sameSolution: number } {
  const clues = new Set<string>();
  const solutions = new Set<string>();
  for (const row of readPuzzleCsv(path.join(csvDir, 'train.csv'))) {
    clues.add(row.q);
    solutions.add(row.a);
  }
  let test = 0;
  let sameClues = 0;
  let sameSolution = 0;
  for (const row of readPuzzleCsv(path.join(csvDir, 'test.csv'))) {
    test++;
    if (clues.has(row.q)) sameClues++;
    if (solutions.has(row.a)) sameSolution++;
  }
  return { test, sameClues, sameSolution };
}

/** Generates and builds the demo's Sudoku dataset unless it is there already. */
export function prepareDemoData(log: (m: string) => void): void {
  if (fs.existsSync(path.join(DEMO.dataDir, 'train', 'dataset.json'))) return;
  const csvDir = `${DEMO.dataDir}-csv`;
  log(`Generating ${DEMO.numTrain} + ${DEMO.numTest} ${DEMO.size}x${DEMO.size} Sudoku puzzles (${DEMO.givens} givens, unique solutions) in ${csvDir}`);
  generateSudokuCsv({ outputDir: csvDir, size: DEMO.size, numTrain: DEMO.numTrain, numTest: DEMO.numTest, givens: DEMO.givens, seed: DEMO.seed, verbose: false });
  const overlap = heldOutOverlap(csvDir);
  log(`Held-out set: ${overlap.test} puzzles; ${overlap.sameClues} share their clues and ${overlap.sameSolution} their solution grid with a training puzzle`);
  log(`Building the dataset in ${DEMO.dataDir}`);
  buildSudokuDataset({ sourceRepo: csvDir, outputDir: DEMO.dataDir, numAug: DEMO.numAug, seed: DEMO.seed, verbose: false });
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
  const log = (m: string) => console.error(m);
  const started = Date.now();
  if (Object.keys(flags.launcher).length > 0 && !flags.cfg) {
    // The launcher: this process only starts the workers (and builds the demo data once).
    const args = workerArgv(argv);
    if (args.length === 0 && (flags.launcher.nodeRank ?? 0) === 0 && !composeConfig({ overrides: [] }).data_paths.every((p) => fs.existsSync(p))) prepareDemoData(log);
    return launch({ ...flags.launcher, command: [process.execPath, path.join(__dirname, '..', '..', '..', 'bin', 'trm-train.js'), ...args] });
  }
  // A worker of several (our launcher, torchrun or SLURM): join the group first, with the backend
  // that reduces this process's device's tensors (cuda:LOCAL_RANK and NCCL on GPUs, else gloo).
  const dist = readDistEnv();
  const device = selectDevice();
  const group = dist.worldSize > 1 ? await initProcessGroup({ backend: backendFor(device), device }) : null;
  const comm = group ? new ProcessGroupComm(group) : undefined;
  const say = dist.rank === 0 ? log : () => {};
  let configName = flags.configName;
  let demo = false;
  if (argv.length === 0) {
    const defaults = composeConfig({ overrides: [] });
    if (!defaults.data_paths.every((p) => fs.existsSync(p))) {
      demo = true;
      configName = DEMO.configName;
      say(`No dataset at ${defaults.data_paths.join(', ')}: running the built-in demo (config/${DEMO.configName}.yaml).`);
      if (dist.localRank === 0) prepareDemoData(say);
      await group?.barrier();
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
  const result = await pretrain(config, { signal: controller.signal, log, comm, device });
  if (group) {
    await group.barrier(); // nobody tears its end down while another still finishes
    group.destroy();
  }
  if (dist.rank !== 0) return 0;
  const minutes = ((Date.now() - started) / 60000).toFixed(1); // the demo's data generation included
  const acc = exactAccuracy(result);
  log(`Trained ${result.step} steps in ${minutes} min; checkpoints in ${result.checkpointPath}`);
  if (acc !== null) {
    console.log(`${demo ? 'Held-out' : 'Eval'} exact accuracy: ${(acc * 100).toFixed(1)}%`);
  }
  return 0;
}
