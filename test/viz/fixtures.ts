// Folders for the viewer tests, built with the library's own builders and writers: a Sudoku,
// a Maze and a small ARC dataset (hand-made puzzles, known colours), a run with metrics.jsonl,
// saved predictions with known wrong cells and an ARC submission.json, plus broken inputs.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildArcDataset } from '../../lib/data/builders/arc';
import { buildMazeDataset } from '../../lib/data/builders/maze';
import { buildSudokuDataset } from '../../lib/data/builders/sudoku';
import { generateMazeCsv } from '../../lib/data/generators/maze';
import { generateSudokuCsv } from '../../lib/data/generators/sudoku';
import { readNpy } from '../../lib/data/npy';
import { save } from '../../lib/torch/serialization';

export interface Fixtures {
  root: string;
  sudoku: string;
  maze: string;
  arc: string;
  runA: string;
  runB: string;
  bad: string;
  truncated: string;
  /** Sudoku test row 1 of the predictions: which cells were made wrong. */
  wrongCells: number[];
}

/** ARC puzzles with grids whose colours the tests check; names sort as listed. */
export const ARC_TRAIN = {
  aaaa0001: {
    train: [{ input: [[1, 2], [3, 4]], output: [[4, 3], [2, 1]] }, { input: [[0, 5, 5], [6, 0, 7]], output: [[7, 0, 6], [5, 5, 0]] }],
    test: [{ input: [[8, 9], [1, 0]], output: [[0, 1], [9, 8]] }],
  },
};
export const ARC_EVAL = {
  bbbb0002: {
    train: [{ input: [[2, 2, 2]], output: [[3, 3, 3]] }],
    test: [{ input: [[2, 0, 2]], output: [[3, 0, 3]] }],
  },
  cccc0003: {
    train: [{ input: [[1]], output: [[4]] }],
    test: [{ input: [[1, 1]], output: [[4, 4]] }],
  },
};

const i32 = (shape: number[], values: ArrayLike<number>) => ({ dtype: 'int32' as const, shape, data: new Uint8Array(Int32Array.from(values).buffer) });
const f32 = (shape: number[], values: ArrayLike<number>) => ({ dtype: 'float32' as const, shape, data: new Uint8Array(Float32Array.from(values).buffer) });

function writeArcJson(dir: string, subset: string, puzzles: Record<string, { train: unknown[]; test: { input: number[][]; output: number[][] }[] }>): void {
  const challenges = Object.fromEntries(Object.entries(puzzles).map(([k, p]) => [k, { train: p.train, test: p.test.map((t) => ({ input: t.input })) }]));
  const solutions = Object.fromEntries(Object.entries(puzzles).map(([k, p]) => [k, p.test.map((t) => t.output)]));
  fs.writeFileSync(path.join(dir, `arc_${subset}_challenges.json`), JSON.stringify(challenges));
  fs.writeFileSync(path.join(dir, `arc_${subset}_solutions.json`), JSON.stringify(solutions));
}

export function metricsLine(step: number): string {
  return JSON.stringify({
    step, 'train/lm_loss': 2 / step, 'train/accuracy': 1 - 1 / (step + 1), 'train/exact_accuracy': step / 20,
    'train/lr': 1e-4 * Math.min(1, step / 3), 'train/count': 16,
  }) + '\n';
}

export function makeFixtures(): Fixtures {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-viz-'));
  const p = (...s: string[]) => path.join(root, ...s);

  generateSudokuCsv({ outputDir: p('sudoku-csv'), size: 4, numTrain: 6, numTest: 4, seed: 1, verbose: false });
  buildSudokuDataset({ sourceRepo: p('sudoku-csv'), outputDir: p('data', 'sudoku'), verbose: false });
  generateMazeCsv({ outputDir: p('maze-csv'), size: 9, numTrain: 2, numTest: 2, minPathLength: 4, seed: 1, verbose: false });
  buildMazeDataset({ sourceRepo: p('maze-csv'), outputDir: p('data', 'maze'), verbose: false });
  fs.mkdirSync(p('arc-json'));
  writeArcJson(p('arc-json'), 'training', ARC_TRAIN);
  writeArcJson(p('arc-json'), 'evaluation', ARC_EVAL);
  buildArcDataset({ inputFilePrefix: p('arc-json', 'arc'), outputDir: p('data', 'arc'), subsets: ['training', 'evaluation'], testSetName: 'evaluation', numAug: 1, verbose: false });

  // Run A: curves, predictions on the Sudoku test split (row 0 right, row 1 with three wrong
  // cells, one padding row), and an ARC submission (bbbb0002 right on attempt 2, cccc0003 wrong).
  const runA = p('checkpoints', 'Proj', 'run-a');
  fs.mkdirSync(runA, { recursive: true });
  fs.writeFileSync(path.join(runA, 'metrics.jsonl'), [1, 2, 3, 4, 5].map(metricsLine).join('') + JSON.stringify({ step: 5, 'all/exact_accuracy': 0.25, 'ARC/pass@2': 0.5 }) + '\n');
  fs.writeFileSync(path.join(runA, 'all_config.yaml'), `data_paths:\n  - ${p('data', 'sudoku')}\n`);
  const inputs = readNpy(p('data', 'sudoku', 'test', 'all__inputs.npy')).data as Uint8Array;
  const labels = readNpy(p('data', 'sudoku', 'test', 'all__labels.npy')).data as Uint8Array;
  const L = 16;
  const preds = Array.from(labels.subarray(0, 2 * L));
  const wrongCells = [0, 5, 15];
  for (const c of wrongCells) preds[L + c] = preds[L + c] === 2 ? 3 : 2;
  const rows = 3;
  const pad = (a: ArrayLike<number>) => [...Array.from(a).slice(0, 2 * L), ...new Array(L).fill(0)];
  save(new Map<string, unknown>([
    ['inputs', i32([rows, L], pad(inputs))],
    ['labels', i32([rows, L], pad(labels))],
    ['preds', { dtype: 'int64', shape: [rows, L], data: new Uint8Array(BigInt64Array.from(pad(preds).map(BigInt)).buffer) }],
    ['q_halt_logits', f32([rows], [2, -1, 0])],
    ['steps', i32([rows], [3, 16, 0])],
  ]), path.join(runA, 'step_5_all_preds.0'));
  const sub = path.join(runA, 'evaluator_ARC_step_5');
  fs.mkdirSync(sub);
  fs.writeFileSync(path.join(sub, 'submission.json'), JSON.stringify({
    bbbb0002: [{ attempt_1: [[3, 3, 3]], attempt_2: [[3, 0, 3]] }],
    cccc0003: [{ attempt_1: [[4, 1]], attempt_2: [[4]] }],
  }));

  // Run B: a second curve, with a corrupt line and a torn last line.
  const runB = p('checkpoints', 'Proj', 'run-b');
  fs.mkdirSync(runB, { recursive: true });
  fs.writeFileSync(path.join(runB, 'metrics.jsonl'), metricsLine(1) + metricsLine(2) + '{"step": 3, "train/lm_loss": 0.9\n' + metricsLine(4) + '{"step": 5, "tr');

  // Broken inputs: a folder holding neither, and a Sudoku folder with a truncated inputs.npy.
  fs.mkdirSync(p('bad'));
  fs.writeFileSync(p('bad', 'notes.txt'), 'not a dataset');
  fs.cpSync(p('data', 'sudoku'), p('truncated'), { recursive: true });
  const f = p('truncated', 'test', 'all__inputs.npy');
  fs.truncateSync(f, fs.statSync(f).size - 10);

  return { root, sudoku: p('data', 'sudoku'), maze: p('data', 'maze'), arc: p('data', 'arc'), runA, runB, bad: p('bad'), truncated: p('truncated'), wrongCells };
}
