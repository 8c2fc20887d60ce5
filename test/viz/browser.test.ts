// The page in Debian's headless Chromium: each view opened from its URL, what is drawn checked
// (cells, ARC colours as computed styles, wrong-cell marks, curve points, live refresh, error
// messages), and a screenshot of each. Skips when /usr/bin/chromium is missing.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';
import { VizServer, startVizServer } from '../../lib/viz/server';
import { CHROMIUM, hasChromium, launch } from './browser';
import { Fixtures, makeFixtures, metricsLine } from './fixtures';

// Callbacks passed to page.evaluate/$$eval run in the page; these only type them (no DOM lib here).
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare function getComputedStyle(e: unknown, pseudo?: string): { backgroundColor: string; borderTopColor: string };

// The standard ARC palette, as Chromium reports computed colours.
const ARC_RGB = ['rgb(0, 0, 0)', 'rgb(0, 116, 217)', 'rgb(255, 65, 54)', 'rgb(46, 204, 64)', 'rgb(255, 220, 0)', 'rgb(170, 170, 170)', 'rgb(240, 18, 190)', 'rgb(255, 133, 27)', 'rgb(127, 219, 255)', 'rgb(135, 12, 37)'];

describe('trm viz in Chromium [slow]', function () {
  let f: Fixtures;
  let server: VizServer;
  let browser: Browser;
  let page: Page;
  let shots: string;
  const pageErrors: string[] = [];

  before(async function () {
    if (!hasChromium()) {
      console.log(`      (skipped: ${CHROMIUM} is missing; apt-get install chromium)`);
      this.skip();
    }
    f = makeFixtures();
    shots = path.join(f.root, 'screenshots');
    fs.mkdirSync(shots);
    server = await startVizServer({ dirs: [path.join(f.root, 'data'), path.join(f.root, 'checkpoints'), f.bad, f.truncated], pollMs: 300 });
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (f) fs.rmSync(f.root, { recursive: true, force: true });
  });
  afterEach(() => assert.deepEqual(pageErrors, [], 'no script errors on the page'));

  const open = async (params: Record<string, string>) => {
    await page.goto('about:blank');
    await page.goto(`${server.url}#${new URLSearchParams(params)}`);
    await page.waitForSelector('body[data-ready]');
  };
  /** Runs a user action that re-renders the view, and waits until the view is drawn again. */
  const settle = async (action: () => Promise<unknown>) => {
    await page.evaluate(() => { delete document.body.dataset.ready; });
    await action();
    await page.waitForSelector('body[data-ready]');
  };
  const shot = async (name: string) => {
    const file = path.join(shots, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(fs.statSync(file).size > 1000);
  };
  const colours = (sel: string) => page.$$eval(sel, (cells) => cells.map((c) => getComputedStyle(c).backgroundColor));

  it('draws ARC pairs in the ARC colours and jumps to a puzzle by name', async () => {
    await open({ view: 'datasets', dir: f.arc, split: 'train', set: 'all', name: 'aaaa0001' });
    assert.match(await page.textContent('.card.puzzle h2') ?? '', /aaaa0001$/);
    const inputs = await page.$$('.card.puzzle .grid.input');
    assert.equal(inputs.length, 3); // two train pairs and the test pair
    const twoByTwo = await page.$$eval('.card.puzzle .grid.input[data-rows="2"][data-cols="2"]', (g) => g.length);
    assert.ok(twoByTwo >= 1);
    assert.deepEqual(await colours('.card.puzzle .example:first-child .grid.input .cell'), [1, 2, 3, 4].map((c) => ARC_RGB[c]));
    assert.deepEqual(await colours('.card.puzzle .example:first-child .grid.label .cell'), [4, 3, 2, 1].map((c) => ARC_RGB[c]));
    assert.equal(await page.$$eval('.group a', (a) => a.length), 2); // the puzzle and its augment
    await shot('datasets-arc');

    await settle(() => page.selectOption('#split', 'test'));
    assert.equal(await page.inputValue('#split'), 'test');
    await page.fill('#jump', 'cccc0003');
    await settle(() => page.click('#go'));
    assert.match(await page.textContent('.card.puzzle h2') ?? '', /cccc0003$/);
    assert.deepEqual(await colours('.card.puzzle .grid.input .cell'), [ARC_RGB[1], ARC_RGB[1]]);
    await page.fill('#jump', '1');
    await settle(() => page.press('#jump', 'Enter'));
    assert.equal(await page.getAttribute('.card.puzzle', 'data-index'), '1');
  });

  it('draws Sudoku boards and mazes', async () => {
    await open({ view: 'datasets', dir: f.sudoku, split: 'test', set: 'all', puzzle: '0' });
    assert.equal(await page.$$eval('.grid[data-kind="sudoku"].label .cell', (c) => c.length), 16);
    const digits = await page.$$eval('.grid.label .cell', (c) => c.map((x) => x.textContent).sort().join(''));
    assert.equal(digits, '1111222233334444');
    assert.equal(await page.$$eval('.puzzle-list a', (a) => a.length), 4);
    await shot('datasets-sudoku');
    await open({ view: 'datasets', dir: f.maze, split: 'test', set: 'all', puzzle: '0' });
    assert.equal(await page.$$eval('.grid[data-kind="maze"].label .cell', (c) => c.length), 81);
    assert.equal(await page.$$eval('.grid.label .m-S', (c) => c.length), 1);
    assert.equal(await page.$$eval('.grid.label .m-G', (c) => c.length), 1);
    assert.ok(await page.$$eval('.grid.label .m-path', (c) => c.length) > 0);
    await shot('datasets-maze');
  });

  it('shows predictions beside labels with wrong cells marked, confidence, steps and the right/wrong filter', async () => {
    await open({ view: 'predictions', dir: f.runA, file: 'step_5_all_preds.0' });
    assert.equal(await page.$$eval('.pred-row', (r) => r.length), 2);
    assert.equal(await page.$$eval('.pred-row.is-right .grid.pred .cell.wrong', (c) => c.length), 0);
    const marked = await page.$$eval('.pred-row.is-wrong .grid.pred .cell', (cells) => cells.flatMap((c, i) => (c.classList.contains('wrong') ? [i] : [])));
    assert.deepEqual(marked, f.wrongCells);
    // The mark is drawn: a red outline on the ::after box.
    const outline = await page.$eval('.cell.wrong', (c) => getComputedStyle(c, '::after').borderTopColor);
    assert.equal(outline, 'rgb(255, 31, 31)');
    assert.match(await page.textContent('.pred-row.is-right .confidence') ?? '', /halt confidence 0\.881/);
    assert.match(await page.textContent('.pred-row.is-wrong .steps') ?? '', /steps 16/);
    await shot('predictions');
    await settle(() => page.click('button[data-filter="wrong"]'));
    assert.deepEqual(await page.$$eval('.pred-row', (r) => r.map((x) => x.getAttribute('data-row'))), ['1']);
    await settle(() => page.click('button[data-filter="right"]'));
    assert.deepEqual(await page.$$eval('.pred-row', (r) => r.map((x) => x.getAttribute('data-row'))), ['0']);
  });

  it('shows an ARC submission with attempts, labels, wrong cells and pass@k per puzzle', async () => {
    await open({ view: 'submission', dir: f.runA, file: 'evaluator_ARC_step_5/submission.json' });
    assert.equal(await page.$$eval('.sub-puzzle', (p) => p.length), 2);
    assert.match(await page.textContent('.toolbar') ?? '', /pass@1 0\.0% · pass@2 50\.0%/);
    assert.match(await page.textContent('.sub-puzzle[data-name="bbbb0002"] .passk') ?? '', /pass@1 0\.00 · pass@2 1\.00/);
    assert.equal(await page.$$eval('.sub-puzzle[data-name="bbbb0002"] .grid.pred', (g) => g.length), 2);
    assert.equal(await page.$$eval('.sub-puzzle[data-name="bbbb0002"] .grid.pred .cell.wrong', (c) => c.length), 1);
    assert.deepEqual(await colours('.sub-puzzle[data-name="bbbb0002"] .grid.label .cell'), [ARC_RGB[3], ARC_RGB[0], ARC_RGB[3]]);
    await shot('submission');
    await settle(() => page.click('button[data-filter="wrong"]'));
    assert.deepEqual(await page.$$eval('.sub-puzzle', (p) => p.map((x) => x.getAttribute('data-name'))), ['cccc0003']);
  });

  it('overlays the curves of several runs and adds points while training writes them', async () => {
    await page.goto('about:blank');
    await page.goto(`${server.url}#view=curves&dir=${encodeURIComponent(f.runA)}&dir=${encodeURIComponent(f.runB)}`);
    await page.waitForSelector('svg.chart[data-key="train/lm_loss"]');
    const points = (run: string) => page.$$eval(`svg.chart[data-key="train/lm_loss"] circle.pt[data-run="${run}"]`, (c) => c.length);
    assert.equal(await points(f.runA), 5);
    assert.equal(await points(f.runB), 3); // corrupt line 3 and the torn last line skipped
    assert.equal(await page.$$eval(`svg.chart[data-key="train/lm_loss"] polyline`, (l) => l.length), 2);
    const keys = await page.$$eval('svg.chart', (s) => s.map((x) => x.getAttribute('data-key')));
    assert.deepEqual(keys.slice(0, 4), ['train/lm_loss', 'train/accuracy', 'train/exact_accuracy', 'train/lr']);
    assert.ok(keys.includes('ARC/pass@2') && keys.includes('all/exact_accuracy') && !keys.includes('train/count'));
    assert.match(await page.textContent('.warning') ?? '', /line 3 is not valid JSON/);
    await shot('curves');
    fs.appendFileSync(path.join(f.runA, 'metrics.jsonl'), metricsLine(6) + metricsLine(7));
    await page.waitForFunction((run) => document.querySelectorAll(`svg.chart[data-key="train/lm_loss"] circle.pt[data-run="${run}"]`).length === 7, f.runA, { timeout: 10000 });
  });

  it('says clearly what is wrong with a bad folder or a truncated file, and keeps serving', async () => {
    await open({ view: 'datasets', dir: f.truncated, split: 'test', set: 'all' });
    assert.match(await page.textContent('#errors .error') ?? '', /truncated \.npy data/);
    assert.match(await page.textContent('#sidebar .source-error') ?? '', /bad is not a dataset folder .* nor a run folder/);
    await shot('error');
    await open({ view: 'datasets', dir: f.sudoku, split: 'test', set: 'all' });
    assert.equal(await page.$$('#errors .error').then((e) => e.length), 0);
    assert.equal(await page.$$eval('.grid.label .cell', (c) => c.length), 16);

    const lone = await startVizServer({ dirs: [f.bad] });
    try {
      await page.goto(lone.url);
      await page.waitForSelector('body[data-ready]');
      assert.match(await page.textContent('#sidebar .source-error') ?? '', /is not a dataset folder/);
      assert.match(await page.textContent('#content') ?? '', /Pass dataset folders/);
    } finally {
      await lone.close();
    }
  });
});
