// The viewer's server without a browser: discovery, decoding, predictions, submission scoring,
// curves, bad-input messages, and that the server keeps answering after each of them.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { parseVizArgs } from '../../lib/viz/cli';
import { VizServer, assetsDir, startVizServer } from '../../lib/viz/server';
import { detectTask } from '../../lib/viz/tasks';
import { Fixtures, makeFixtures } from './fixtures';

describe('trm viz server', () => {
  let f: Fixtures;
  let server: VizServer;
  const get = async (route: string, params: Record<string, string | number | string[]> = {}) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) (Array.isArray(v) ? v : [v]).forEach((x) => q.append(k, String(x)));
    const res = await fetch(`${server.url}api/${route}?${q}`);
    return { status: res.status, body: await res.json() as any };
  };

  before(async () => {
    f = makeFixtures();
    server = await startVizServer({ dirs: [path.join(f.root, 'data'), path.join(f.root, 'checkpoints'), f.bad, f.truncated, path.join(f.root, 'missing')] });
  });
  after(async () => {
    await server?.close();
    if (f) fs.rmSync(f.root, { recursive: true, force: true });
  });

  it('binds to 127.0.0.1 on a free port and serves the page and its assets', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const html = await (await fetch(server.url)).text();
    assert.match(html, /<script src="\/assets\/app.js">/);
    for (const a of ['app.js', 'style.css']) assert.equal((await fetch(`${server.url}assets/${a}`)).status, 200);
    assert.equal((await fetch(`${server.url}assets/..%2Fserver.ts`)).status, 404);
    assert.equal(fs.existsSync(path.join(assetsDir(), 'index.html')), true);
  });

  it('ships the assets in the package', () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8'));
    assert.ok(pkg.files.includes('lib/viz/assets'));
  });

  it('finds datasets and runs, and names folders that are neither', async () => {
    const { body } = await get('sources');
    const kinds = Object.fromEntries(body.sources.map((s: any) => [s.path, s.kind]));
    assert.equal(kinds[f.sudoku], 'dataset');
    assert.equal(kinds[f.maze], 'dataset');
    assert.equal(kinds[f.arc], 'dataset');
    assert.equal(kinds[f.truncated], 'dataset');
    assert.equal(kinds[f.runA], 'run');
    assert.equal(kinds[f.runB], 'run');
    const runA = body.sources.find((s: any) => s.path === f.runA);
    assert.deepEqual(runA.predFiles, ['step_5_all_preds.0']);
    assert.deepEqual(runA.submissions, ['evaluator_ARC_step_5/submission.json']);
    const bad = body.sources.find((s: any) => s.path === f.bad);
    assert.equal(bad.kind, 'error');
    assert.match(bad.error, /is not a dataset folder .* nor a run folder/);
    assert.match(body.sources.find((s: any) => s.path.endsWith('missing')).error, /does not exist/);
  });

  it('decodes ARC grids from their box on the canvas, with augments in the group', async () => {
    const list = await get('dataset/puzzles', { dir: f.arc, split: 'train', set: 'all' });
    assert.equal(list.body.task, 'arc');
    // Every puzzle's train pairs reach the train split: the original and one augment each.
    assert.deepEqual(list.body.puzzles.map((p: any) => p.name.split('|||')[0]), ['aaaa0001', 'aaaa0001', 'bbbb0002', 'bbbb0002', 'cccc0003', 'cccc0003']);
    const { body } = await get('dataset/puzzle', { dir: f.arc, split: 'train', set: 'all', name: 'aaaa0001' });
    assert.equal(body.index, 0);
    // Train pairs then the test pair, all placed on the canvas (maybe translated).
    const inputs = body.examples.map((e: any) => JSON.stringify([e.input.rows, e.input.cols, e.input.cells]));
    assert.ok(inputs.includes(JSON.stringify([2, 2, [1, 2, 3, 4]])));
    assert.ok(inputs.includes(JSON.stringify([2, 3, [0, 5, 5, 6, 0, 7]])));
    assert.equal(body.group.puzzles.length, 2);
    assert.match(body.group.puzzles[1].name, /^aaaa0001\|\|\|t\d\|\|\|\d{10}$/);
  });

  it('decodes Sudoku boards and mazes, and jumps by index', async () => {
    const s = (await get('dataset/puzzle', { dir: f.sudoku, split: 'test', set: 'all', index: 1 })).body;
    assert.equal(s.task, 'sudoku');
    assert.equal(s.index, 1);
    assert.deepEqual([s.examples[0].label.rows, s.examples[0].label.cols], [4, 4]);
    assert.deepEqual([...new Set(s.examples[0].label.cells)].sort(), [1, 2, 3, 4]);
    const m = (await get('dataset/puzzle', { dir: f.maze, split: 'test', set: 'all', index: 0 })).body;
    assert.equal(m.task, 'maze');
    const cells = m.examples[0].label.cells as string[];
    assert.equal(cells.length, 81);
    assert.equal(cells.filter((c) => c === 'S').length, 1);
    assert.ok(cells.includes('o'));
  });

  it('tells a 4x4 Sudoku from a 4x4 maze (both vocab 6) by the labels', () => {
    assert.equal(detectTask(16, 6, [2, 3, 4, 5]), 'sudoku');
    assert.equal(detectTask(16, 6, [1, 2, 3, 4]), 'maze');
    assert.equal(detectTask(81, 11), 'sudoku');
    assert.equal(detectTask(900, 12), 'arc');
    assert.throws(() => detectTask(10, 6), /not a square grid/);
  });

  it('shows saved predictions with wrong cells, halting confidence and steps, filtered', async () => {
    const { body } = await get('predictions', { dir: f.runA, file: 'step_5_all_preds.0' });
    assert.equal(body.task, 'sudoku');
    assert.equal(body.dataset, f.sudoku);
    assert.deepEqual(body.counts, { all: 2, right: 1, wrong: 1 }); // the padding row is dropped
    const [r0, r1] = body.rows;
    assert.equal(r0.correct, true);
    assert.deepEqual(r0.pred.wrong, []);
    assert.deepEqual(r1.pred.wrong, f.wrongCells);
    assert.equal(r1.wrongTokens, 3);
    assert.ok(Math.abs(r0.confidence - 1 / (1 + Math.exp(-2))) < 1e-6);
    assert.deepEqual([r0.steps, r1.steps], [3, 16]);
    const wrong = await get('predictions', { dir: f.runA, file: 'step_5_all_preds.0', filter: 'wrong' });
    assert.deepEqual(wrong.body.rows.map((r: any) => r.row), [1]);
    assert.equal((await get('predictions', { dir: f.runA, file: 'step_5_all_preds.0', filter: 'maybe' })).status, 400);
  });

  it('scores an ARC submission against test_puzzles.json: pass@k per puzzle', async () => {
    const { body } = await get('submission', { dir: f.runA, file: 'evaluator_ARC_step_5/submission.json' });
    assert.equal(body.labels, f.arc);
    assert.equal(body.K, 2);
    assert.deepEqual(body.passAtK, [0, 0.5]);
    const byName = Object.fromEntries(body.puzzles.map((p: any) => [p.name, p]));
    assert.deepEqual(byName.bbbb0002.passAtK, [0, 1]);
    assert.deepEqual(byName.cccc0003.passAtK, [0, 0]);
    assert.deepEqual(byName.bbbb0002.tests[0].attempts[0].wrong, [1]);
    assert.deepEqual(byName.cccc0003.tests[0].attempts[0].wrong, [1]);
    assert.deepEqual(byName.cccc0003.tests[0].attempts[1].wrong, [0]); // wrong shape: every cell
    assert.deepEqual(body.counts, { all: 2, right: 1, wrong: 1 });
  });

  it('reads curves of several runs, skipping a torn last line and reporting a corrupt one', async () => {
    const { body } = await get('curves', { dir: [f.runA, f.runB] });
    const [a, b] = body.runs;
    assert.equal(a.series['train/lm_loss'].length, 5);
    assert.deepEqual(a.series['ARC/pass@2'], [[5, 0.5]]);
    assert.equal(b.series['train/lm_loss'].length, 3);
    assert.equal(b.warnings.length, 1);
    assert.match(b.warnings[0], /line 3 is not valid JSON/);
  });

  it('answers bad input with a clear message and keeps serving', async () => {
    const t = await get('dataset/puzzle', { dir: f.truncated, split: 'test', set: 'all', index: 0 });
    assert.equal(t.status, 400);
    assert.match(t.body.error, /truncated \.npy data/);
    assert.match((await get('dataset/puzzles', { dir: f.bad, split: 'test', set: 'all' })).body.error, /is not a dataset folder/);
    assert.match((await get('dataset/puzzle', { dir: f.sudoku, split: 'test', set: 'all', index: 99 })).body.error, /out of range/);
    assert.match((await get('dataset/puzzle', { dir: f.sudoku, split: 'nope', set: 'all' })).body.error, /no split 'nope'/);
    assert.match((await get('dataset/puzzle', { dir: '/etc', split: 'test', set: 'all' })).body.error, /not one of the folders being served/);
    assert.match((await get('predictions', { dir: f.runA, file: '../../../etc/passwd' })).body.error, /has no predictions file/);
    assert.equal((await get('nothing')).status, 404);
    const forged = await new Promise<number>((resolve, reject) => {
      http.get(`${server.url}api/sources`, { headers: { host: 'evil.example' } }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject);
    });
    assert.equal(forged, 403); // DNS rebinding: a page elsewhere cannot read the folders
    assert.equal((await get('sources')).status, 200);
  });

  it('parses its flags', () => {
    assert.deepEqual(parseVizArgs(['a', '--port', '8080', 'b', '--host=0.0.0.0']), { dirs: ['a', 'b'], host: '0.0.0.0', port: 8080, pollMs: 2000 });
    assert.equal(parseVizArgs(['--help']), 'help');
    assert.throws(() => parseVizArgs(['--port', 'x']), /Expected an integer 0..65535 for --port/);
    assert.throws(() => parseVizArgs(['--prot', '1']), /unknown flag --prot/);
  });
});
