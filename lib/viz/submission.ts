// The ARC evaluator's submission.json ({puzzle: [{attempt_1, attempt_2, ...} per test input]})
// against the test outputs in the dataset's test_puzzles.json: attempts and label side by side,
// wrong cells marked, pass@k per puzzle for k = 1..attempts (the evaluator's pass@K).
import * as fs from 'fs';
import * as path from 'path';
import { cached } from './dataset';
import { runDataset } from './predictions';
import { RunSource, Source, UserError } from './sources';
import { VizGrid, arcJsonGrid, compareGrids } from './tasks';

interface TestPair { input: VizGrid; output: VizGrid }

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

function testPuzzles(dir: string): Record<string, TestPair[]> {
  const file = path.join(dir, 'test_puzzles.json');
  return cached(`testpuzzles:${file}`, [file], () => {
    const raw = readJson(file, 'test puzzles') as Record<string, { test?: { input: unknown; output: unknown }[] }>;
    const out: Record<string, TestPair[]> = {};
    for (const [name, p] of Object.entries(raw)) {
      out[name] = (p.test ?? []).map((t, i) => ({
        input: arcJsonGrid(t.input, `${name} test ${i} input`),
        output: arcJsonGrid(t.output, `${name} test ${i} output`),
      }));
    }
    return out;
  });
}

interface Scored {
  name: string;
  tests: { input: VizGrid | null; label: VizGrid | null; attempts: (VizGrid & { correct: boolean | null })[] }[];
  /** pass@k for k = 1..K, the fraction of test inputs solved by one of the first k attempts. */
  passAtK: number[];
  solved: boolean;
}

function score(file: string, labelsDir: string | null): { K: number; puzzles: Scored[] } {
  const sub = readJson(file, 'submission') as Record<string, unknown>;
  if (typeof sub !== 'object' || sub === null || Array.isArray(sub)) throw new UserError(`${file} must hold an object of puzzles`);
  const labels = labelsDir ? testPuzzles(labelsDir) : {};
  let K = 0;
  const puzzles: Scored[] = [];
  for (const [name, list] of Object.entries(sub)) {
    if (!Array.isArray(list)) throw new UserError(`${name} in ${path.basename(file)}: expected a list of attempts per test input`);
    const pairs = labels[name] ?? [];
    const tests = list.map((entry, t) => {
      const keys = Object.keys(entry as object).filter((k) => /^attempt_\d+$/.test(k)).sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));
      K = Math.max(K, keys.length);
      const label = pairs[t]?.output ?? null;
      const attempts = keys.map((k) => {
        const g = arcJsonGrid((entry as Record<string, unknown>)[k], `${name} test ${t} ${k}`);
        if (!label) return { ...g, correct: null };
        const marked = compareGrids(g, label);
        return { ...marked, correct: marked.wrong!.length === 0 };
      });
      return { input: pairs[t]?.input ?? null, label, attempts };
    });
    const n = Math.max(tests.length, pairs.length); // a test input with no attempts counts as wrong
    const passAtK = Array.from({ length: K }, (_, k) =>
      n === 0 ? 0 : tests.filter((t) => t.attempts.slice(0, k + 1).some((a) => a.correct)).length / n);
    puzzles.push({ name, tests, passAtK, solved: (passAtK[passAtK.length - 1] ?? 0) === 1 });
  }
  for (const p of puzzles) while (p.passAtK.length < K) p.passAtK.push(p.passAtK[p.passAtK.length - 1] ?? 0);
  return { K, puzzles };
}

/** The folder whose test_puzzles.json labels this submission: the run's dataset, else any served one naming its puzzles. */
function labelsFor(run: RunSource, sources: Source[], names: string[]): string | null {
  const own = runDataset(run, sources);
  const candidates = [own, ...sources.filter((s) => s.kind === 'dataset').map((s) => s.path)].filter((d): d is string => !!d);
  for (const d of candidates) {
    if (!fs.existsSync(path.join(d, 'test_puzzles.json'))) continue;
    const tp = testPuzzles(d);
    if (names.length === 0 || names.some((n) => n in tp)) return d;
  }
  return null;
}

export function getSubmission(run: RunSource, sources: Source[], file: string, filter: 'all' | 'right' | 'wrong', offset: number, limit: number) {
  if (!run.submissions.includes(file)) throw new UserError(`${run.path} has no submission '${file}'`, 404);
  const full = path.join(run.path, file);
  const names = Object.keys(readJsonNames(full));
  const labelsDir = labelsFor(run, sources, names);
  const { K, puzzles } = cached(`sub:${full}:${labelsDir}`, [full, ...(labelsDir ? [path.join(labelsDir, 'test_puzzles.json')] : [])], () => score(full, labelsDir));
  const picked = puzzles.filter((p) => filter === 'all' || p.solved === (filter === 'right'));
  const mean = (k: number) => (puzzles.length ? puzzles.reduce((a, p) => a + p.passAtK[k], 0) / puzzles.length : 0);
  return {
    task: 'arc' as const, file, labels: labelsDir, K,
    passAtK: Array.from({ length: K }, (_, k) => mean(k)),
    counts: { all: puzzles.length, right: puzzles.filter((p) => p.solved).length, wrong: puzzles.filter((p) => !p.solved).length },
    matched: picked.length, offset,
    puzzles: picked.slice(offset, offset + limit),
  };
}

function readJsonNames(file: string): Record<string, unknown> {
  return cached(`subnames:${file}`, [file], () => {
    const v = readJson(file, 'submission');
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UserError(`${file} must hold an object of puzzles`);
    return v as Record<string, unknown>;
  });
}
