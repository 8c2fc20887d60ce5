// trm viz page: plain JS, no build step, no network beyond this server. The URL hash holds the
// view and its parameters, so every view can be bookmarked and reloaded.
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const content = $('#content');
const sidebar = $('#sidebar');
const errors = $('#errors');
let state = { sources: [], pollMs: 2000 };
let pollTimer = null;
let lastCurves = '';

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function showError(msg) {
  errors.append(el('div', { class: 'error', text: msg }));
}

async function api(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  let res;
  try {
    res = await fetch(`/api/${path}?${q}`);
  } catch (e) {
    throw new Error(`the trm viz server does not answer (${e.message}); is it still running?`);
  }
  let body;
  try {
    body = await res.json();
  } catch (e) {
    throw new Error(`bad answer from the server for /api/${path} (HTTP ${res.status})`);
  }
  if (!res.ok || body.error) throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

function hashParams() {
  return new URLSearchParams(location.hash.slice(1));
}

function link(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  return `#${q}`;
}

const shortName = (p) => p.split('/').filter(Boolean).slice(-2).join('/');

// ---- grids ---------------------------------------------------------------------------------

function cellSize(g, max = 260) {
  return Math.max(6, Math.min(28, Math.floor(max / Math.max(g.rows, g.cols, 1))));
}

/** One grid; `given` marks Sudoku clues; `wrong` cells get the red mark. */
function gridEl(kind, g, role, given) {
  const wrong = new Set(g.wrong || []);
  const box = kind === 'sudoku' ? Math.round(Math.sqrt(g.rows)) : 0;
  const div = el('div', { class: `grid ${role || ''}`, 'data-kind': kind, 'data-rows': g.rows, 'data-cols': g.cols, 'data-wrong': wrong.size });
  div.style.gridTemplateColumns = `repeat(${g.cols}, var(--cell))`;
  div.style.setProperty('--cell', `${cellSize(g)}px`);
  g.cells.forEach((v, i) => {
    const r = Math.floor(i / g.cols), c = i % g.cols;
    let cls = 'cell';
    let text = '';
    if (kind === 'arc') cls += v >= 0 ? ` c${v}` : ' cx';
    else if (kind === 'sudoku') {
      text = v === 0 ? '' : String(v);
      if (given && given.cells[i] !== 0) cls += ' given';
      if (box * box === g.rows && c > 0 && c % box === 0) cls += ' bl';
      if (box * box === g.rows && r > 0 && r % box === 0) cls += ' bt';
    } else cls += { '#': ' m-wall', ' ': ' m-open', S: ' m-S', G: ' m-G', o: ' m-path' }[v] || ' m-unk';
    if (wrong.has(i)) cls += ' wrong';
    div.append(el('div', { class: cls, text, title: `(${r}, ${c}) ${v}` }));
  });
  return div;
}

const figure = (caption, grid) => el('div', { class: 'figure' }, grid, el('span', { text: caption }));
const sizeOf = (g) => `${g.rows}×${g.cols}`;

// ---- sidebar -------------------------------------------------------------------------------

function renderSidebar(view, p) {
  sidebar.replaceChildren();
  const datasets = state.sources.filter((s) => s.kind === 'dataset');
  const runs = state.sources.filter((s) => s.kind === 'run');
  const bad = state.sources.filter((s) => s.kind === 'error');
  if (view === 'datasets') {
    sidebar.append(el('h3', { text: 'Datasets' }));
    if (!datasets.length) sidebar.append(el('p', { class: 'muted', text: 'No dataset folder among the served folders.' }));
    for (const d of datasets) sidebar.append(el('a', { href: link({ view: 'datasets', dir: d.path }), class: p.get('dir') === d.path ? 'active' : '', text: shortName(d.path) }));
  } else if (view === 'predictions') {
    sidebar.append(el('h3', { text: 'Saved predictions' }));
    for (const r of runs) {
      for (const f of r.predFiles) sidebar.append(el('a', { href: link({ view: 'predictions', dir: r.path, file: f }), class: p.get('dir') === r.path && p.get('file') === f ? 'active' : '', text: `${shortName(r.path)} · ${f}` }));
    }
    sidebar.append(el('h3', { text: 'ARC submissions' }));
    for (const r of runs) {
      for (const f of r.submissions) sidebar.append(el('a', { href: link({ view: 'submission', dir: r.path, file: f }), class: p.get('dir') === r.path && p.get('file') === f ? 'active' : '', text: `${shortName(r.path)} · ${f}` }));
    }
  } else {
    sidebar.append(el('h3', { text: 'Runs (overlaid)' }));
    const withMetrics = runs.filter((x) => x.hasMetrics);
    const chosen = new Set(p.getAll('dir').length ? p.getAll('dir') : withMetrics.map((r) => r.path));
    for (const r of withMetrics) {
      const box = el('input', { type: 'checkbox', checked: chosen.has(r.path), onchange: () => {
        const next = new Set(chosen);
        if (box.checked) next.add(r.path); else next.delete(r.path);
        location.hash = link({ view: 'curves', dir: [...next], filter: hashParams().get('filter') });
      } });
      sidebar.append(el('label', {}, box, ` ${shortName(r.path)}`));
    }
  }
  if (bad.length) {
    sidebar.append(el('h3', { text: 'Not readable' }));
    for (const b of bad) sidebar.append(el('div', { class: 'error source-error', text: b.error }));
  }
}

// ---- datasets ------------------------------------------------------------------------------

async function viewDatasets(p) {
  const datasets = state.sources.filter((s) => s.kind === 'dataset');
  const dir = p.get('dir') || (datasets[0] && datasets[0].path);
  if (!dir) {
    content.replaceChildren(el('p', { class: 'muted', text: 'Pass dataset folders to trm viz to browse them.' }));
    return;
  }
  const ds = datasets.find((d) => d.path === dir);
  if (!ds) throw new Error(`${dir} is not a dataset folder being served`);
  const splitInfo = ds.splits.find((s) => s.split === p.get('split')) || ds.splits.find((s) => s.split === 'test') || ds.splits[0];
  if (splitInfo.error) throw new Error(splitInfo.error);
  const split = splitInfo.split;
  const set = p.get('set') || splitInfo.sets[0];
  const page = Number(p.get('page') || 0);
  const query = p.get('q') || '';
  const PER = 50;
  const go = (extra) => { location.hash = link({ view: 'datasets', dir, split, set, q: query, page, ...extra }); };

  const list = await api('dataset/puzzles', { dir, split, set, offset: page * PER, limit: PER, q: query });
  const byName = p.get('name');
  const idx = p.get('puzzle');
  const puzzle = await api('dataset/puzzle', byName ? { dir, split, set, name: byName } : { dir, split, set, index: idx || (list.puzzles[0] ? list.puzzles[0].index : 0) });

  const jump = el('input', { id: 'jump', placeholder: 'name or index', size: 24 });
  const doJump = () => {
    const v = jump.value.trim();
    if (!v) return;
    if (/^\d+$/.test(v)) go({ puzzle: v, name: null });
    else go({ name: v, puzzle: null });
  };
  jump.addEventListener('keydown', (e) => { if (e.key === 'Enter') doJump(); });
  const filterBox = el('input', { id: 'filter', placeholder: 'filter names', value: query, size: 16 });
  filterBox.addEventListener('keydown', (e) => { if (e.key === 'Enter') go({ q: filterBox.value.trim(), page: 0, puzzle: null, name: null }); });
  const toolbar = el('div', { class: 'toolbar' },
    el('strong', { text: shortName(dir) }), el('span', { class: 'muted', text: list.task }),
    el('select', { id: 'split', onchange: (e) => go({ split: e.target.value, set: null, page: 0, puzzle: null, name: null, q: null }) },
      ds.splits.map((s) => el('option', { value: s.split, selected: s.split === split, text: `split: ${s.split}` }))),
    el('select', { id: 'set', onchange: (e) => go({ set: e.target.value, page: 0, puzzle: null, name: null }) },
      splitInfo.sets.map((s) => el('option', { value: s, selected: s === set, text: `set: ${s}` }))),
    jump, el('button', { id: 'go', onclick: doJump, text: 'Go to puzzle' }), filterBox);

  const pages = Math.max(1, Math.ceil(list.matched / PER));
  const listEl = el('div', { class: 'puzzle-list' },
    list.puzzles.map((q) => el('a', { href: link({ view: 'datasets', dir, split, set, q: query, page, puzzle: q.index }), class: q.index === puzzle.index ? 'active' : '', text: `${q.index}  ${q.name} (${q.examples})` })));
  const pager = el('div', { class: 'pager' },
    el('button', { disabled: page <= 0, onclick: () => go({ page: page - 1 }), text: '‹ prev' }),
    el('span', { text: `page ${page + 1} / ${pages} · ${list.matched} of ${list.total} puzzles` }),
    el('button', { disabled: page + 1 >= pages, onclick: () => go({ page: page + 1 }), text: 'next ›' }));

  const card = el('div', { class: 'card puzzle', 'data-index': puzzle.index },
    el('h2', { text: `#${puzzle.index} ${puzzle.name}` }),
    el('div', { class: 'muted', text: `${puzzle.totalExamples} example(s)${puzzle.totalExamples > puzzle.examples.length ? `, first ${puzzle.examples.length} shown` : ''}` }),
    el('div', { class: 'pairs' }, puzzle.examples.map((ex, i) => el('div', { class: 'pair example' },
      figure(`input ${i} · ${sizeOf(ex.input)}`, gridEl(puzzle.task, ex.input, 'input')), el('span', { class: 'arrow', text: '→' }),
      figure(`output ${i} · ${sizeOf(ex.label)}`, gridEl(puzzle.task, ex.label, 'label', ex.input))))));
  if (puzzle.group.puzzles.length > 1) {
    card.append(el('h4', { text: `Group ${puzzle.group.index}: the puzzle and its augments` }),
      el('div', { class: 'group' }, puzzle.group.puzzles.map((g) => el('a', { href: link({ view: 'datasets', dir, split, set, puzzle: g.index }), text: g.name }))));
  }
  content.replaceChildren(toolbar, el('div', { class: 'split' }, el('div', {}, listEl, pager), el('div', {}, card)));
}

// ---- predictions ---------------------------------------------------------------------------

function filterBar(p, counts, view) {
  const filter = p.get('filter') || 'all';
  return el('span', { class: 'filters' }, ['all', 'right', 'wrong'].map((f) => el('button', {
    class: f === filter ? 'on' : '', 'data-filter': f, text: `${f} (${counts[f]})`,
    onclick: () => { location.hash = link({ view, dir: p.get('dir'), file: p.get('file'), filter: f, page: 0 }); },
  })));
}

function pagerFor(p, view, matched, per) {
  const page = Number(p.get('page') || 0);
  const pages = Math.max(1, Math.ceil(matched / per));
  const go = (n) => { location.hash = link({ view, dir: p.get('dir'), file: p.get('file'), filter: p.get('filter'), page: n }); };
  return el('div', { class: 'pager' },
    el('button', { disabled: page <= 0, onclick: () => go(page - 1), text: '‹ prev' }),
    el('span', { text: `page ${page + 1} / ${pages} · ${matched} shown by this filter` }),
    el('button', { disabled: page + 1 >= pages, onclick: () => go(page + 1), text: 'next ›' }));
}

async function viewPredictions(p) {
  const runs = state.sources.filter((s) => s.kind === 'run');
  if (!p.get('dir')) {
    const r = runs.find((x) => x.predFiles.length) || runs.find((x) => x.submissions.length);
    if (!r) {
      content.replaceChildren(el('p', { class: 'muted', text: 'No step_N_all_preds.* or submission.json under the served folders (train with eval_save_outputs=[inputs,labels,preds,q_halt_logits]).' }));
      return;
    }
    location.replace(link(r.predFiles.length ? { view: 'predictions', dir: r.path, file: r.predFiles[r.predFiles.length - 1] } : { view: 'submission', dir: r.path, file: r.submissions[r.submissions.length - 1] }));
    return;
  }
  const PER = 20;
  const page = Number(p.get('page') || 0);
  const d = await api('predictions', { dir: p.get('dir'), file: p.get('file'), filter: p.get('filter') || 'all', offset: page * PER, limit: PER });
  const acc = d.counts.all ? (100 * d.counts.right / d.counts.all).toFixed(1) : '0.0';
  const head = el('div', { class: 'toolbar' }, el('strong', { text: `${shortName(p.get('dir'))} · ${d.file}` }),
    el('span', { class: 'muted', text: `${d.task} · exact accuracy ${acc}% (${d.counts.right}/${d.counts.all})` }), filterBar(p, d.counts, 'predictions'));
  const cards = d.rows.map((r) => el('div', { class: `card pred-row ${r.correct ? 'is-right' : 'is-wrong'}`, 'data-row': r.row },
    el('h2', {}, `row ${r.row}${r.name ? ` · ${r.name}` : ''}`, el('span', { class: `badge ${r.correct ? 'right' : 'wrong'}`, text: r.correct ? 'right' : `${r.wrongTokens} wrong` }),
      r.confidence !== null ? el('span', { class: 'meta confidence', text: `halt confidence ${r.confidence.toFixed(3)}` }) : null,
      r.steps !== null ? el('span', { class: 'meta steps', text: `steps ${r.steps}` }) : null),
    el('div', { class: 'pairs' },
      figure(`input · ${sizeOf(r.input)}`, gridEl(d.task, r.input, 'input')),
      figure('prediction', gridEl(d.task, r.pred, 'pred', r.input)),
      figure(`label · ${sizeOf(r.label)}`, gridEl(d.task, r.label, 'label', r.input)))));
  content.replaceChildren(head, ...(cards.length ? cards : [el('p', { class: 'muted', text: 'No rows for this filter.' })]), pagerFor(p, 'predictions', d.matched, PER));
}

async function viewSubmission(p) {
  const PER = 10;
  const page = Number(p.get('page') || 0);
  const d = await api('submission', { dir: p.get('dir'), file: p.get('file'), filter: p.get('filter') || 'all', offset: page * PER, limit: PER });
  const pass = d.passAtK.map((v, k) => `pass@${k + 1} ${(100 * v).toFixed(1)}%`).join(' · ');
  const head = el('div', { class: 'toolbar' }, el('strong', { text: `${shortName(p.get('dir'))} · ${d.file}` }),
    el('span', { class: 'muted', text: d.labels ? pass : 'no test_puzzles.json found: attempts shown without labels' }), filterBar(p, d.counts, 'submission'));
  const cards = d.puzzles.map((z) => el('div', { class: `card sub-puzzle ${z.solved ? 'is-right' : 'is-wrong'}`, 'data-name': z.name },
    el('h2', {}, z.name, d.labels ? el('span', { class: `badge ${z.solved ? 'right' : 'wrong'}`, text: z.solved ? 'solved' : 'not solved' }) : null,
      d.labels ? el('span', { class: 'meta passk', text: z.passAtK.map((v, k) => `pass@${k + 1} ${v.toFixed(2)}`).join(' · ') }) : null),
    z.tests.map((t, i) => el('div', { class: 'pairs' },
      t.input ? figure(`test ${i} input · ${sizeOf(t.input)}`, gridEl('arc', t.input, 'input')) : null,
      t.attempts.map((a, k) => figure(`attempt ${k + 1}${a.correct === null ? '' : a.correct ? ' ✓' : ' ✗'}`, gridEl('arc', a, 'pred'))),
      t.label ? figure(`label · ${sizeOf(t.label)}`, gridEl('arc', t.label, 'label')) : null))));
  content.replaceChildren(head, ...(cards.length ? cards : [el('p', { class: 'muted', text: 'No puzzles for this filter.' })]), pagerFor(p, 'submission', d.matched, PER));
}

// ---- curves --------------------------------------------------------------------------------

const PALETTE = ['#2a62c9', '#d62828', '#2a9d3f', '#f77f00', '#7b2cbf', '#0096c7', '#6a994e', '#bc4749'];
const PREFERRED = ['train/lm_loss', 'train/accuracy', 'train/exact_accuracy', 'train/lr'];

function keyOrder(a, b) {
  const ia = PREFERRED.indexOf(a), ib = PREFERRED.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  const ta = a.startsWith('train/'), tb = b.startsWith('train/');
  return ta !== tb ? (ta ? -1 : 1) : a.localeCompare(b);
}

const fmt = (v) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : Number(v.toFixed(4)).toString());

function chartEl(key, runs) {
  const W = 400, H = 200, L = 52, R = 10, T = 8, B = 24;
  const all = runs.flatMap((r) => r.series[key] || []);
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { y0 -= Math.abs(y0) * 0.1 || 1; y1 += Math.abs(y1) * 0.1 || 1; }
  const sx = (x) => L + (x - x0) / (x1 - x0) * (W - L - R);
  const sy = (y) => H - B - (y - y0) / (y1 - y0) * (H - T - B);
  const ns = 'http://www.w3.org/2000/svg';
  const s = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = s('svg', { class: 'chart', width: W, height: H, viewBox: `0 0 ${W} ${H}`, 'data-key': key });
  svg.append(s('line', { class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B }), s('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B }));
  svg.append(s('text', { x: L - 4, y: T + 8, 'text-anchor': 'end' }, fmt(y1)), s('text', { x: L - 4, y: H - B, 'text-anchor': 'end' }, fmt(y0)));
  svg.append(s('text', { x: L, y: H - 8 }, `step ${x0}`), s('text', { x: W - R, y: H - 8, 'text-anchor': 'end' }, `${x1}`));
  runs.forEach((r, i) => {
    const pts = r.series[key] || [];
    if (!pts.length) return;
    const color = PALETTE[i % PALETTE.length];
    svg.append(s('polyline', { fill: 'none', stroke: color, 'stroke-width': 1.5, points: pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' '), 'data-run': r.path }));
    for (const [x, y] of pts) {
      const c = s('circle', { class: 'pt', cx: sx(x).toFixed(1), cy: sy(y).toFixed(1), r: pts.length > 200 ? 1 : 2.2, fill: color, 'data-run': r.path });
      c.append(s('title', {}, `${r.name} step ${x}: ${y}`));
      svg.append(c);
    }
  });
  return el('div', { class: 'chart-box' }, el('h4', { text: key }), svg);
}

async function viewCurves(p, polling) {
  const withMetrics = state.sources.filter((s) => s.kind === 'run' && s.hasMetrics);
  let dirs = p.getAll('dir');
  if (!dirs.length) {
    if (!withMetrics.length) {
      content.replaceChildren(el('p', { class: 'muted', text: 'No metrics.jsonl under the served folders.' }));
      return;
    }
    dirs = withMetrics.map((r) => r.path);
  }
  const d = await api('curves', { dir: dirs });
  const key = JSON.stringify(d);
  if (polling && key === lastCurves) return;
  lastCurves = key;
  const good = d.runs.filter((r) => !r.error);
  const filter = p.get('filter') || '';
  const keys = [...new Set(good.flatMap((r) => Object.keys(r.series)))]
    .filter((k) => k !== 'num_params' && !k.endsWith('/count') && k.includes(filter)).sort(keyOrder);
  const filterBox = el('input', { id: 'metric-filter', placeholder: 'filter metrics', value: filter });
  filterBox.addEventListener('keydown', (e) => { if (e.key === 'Enter') location.hash = link({ view: 'curves', dir: p.getAll('dir'), filter: filterBox.value.trim() }); });
  content.replaceChildren(
    el('div', { class: 'toolbar' }, el('strong', { text: `${good.length} run(s)` }), filterBox,
      el('span', { class: 'muted', text: `refreshing every ${state.pollMs / 1000}s · last ${new Date().toLocaleTimeString()}` })),
    ...d.runs.filter((r) => r.error).map((r) => el('div', { class: 'error', text: r.error })),
    ...good.flatMap((r) => r.warnings.map((w) => el('div', { class: 'warning', text: w }))),
    el('div', { class: 'legend' }, good.map((r, i) => el('span', { style: `--c: ${PALETTE[i % PALETTE.length]}`, text: r.name }))),
    el('div', { class: 'charts' }, keys.map((k) => chartEl(k, good))));
}

// ---- routing -------------------------------------------------------------------------------

async function route(polling = false) {
  const p = hashParams();
  const view = p.get('view') || 'datasets';
  const tab = view === 'submission' ? 'predictions' : view;
  if (!polling) {
    errors.replaceChildren();
    document.querySelectorAll('#tabs a').forEach((a) => a.classList.toggle('active', a.dataset.view === tab));
  }
  clearTimeout(pollTimer);
  try {
    const s = await api('sources');
    state.sources = s.sources;
    state.pollMs = s.pollMs;
    if (!polling) renderSidebar(tab, p);
    if (view === 'datasets') await viewDatasets(p);
    else if (view === 'predictions') await viewPredictions(p);
    else if (view === 'submission') await viewSubmission(p);
    else if (view === 'curves') await viewCurves(p, polling);
    else throw new Error(`unknown view '${view}'`);
    $('#status').textContent = '';
  } catch (e) {
    if (polling) $('#status').textContent = `refresh failed: ${e.message}`;
    else {
      content.replaceChildren();
      showError(e.message);
    }
  }
  document.body.dataset.ready = view;
  if (view === 'curves') pollTimer = setTimeout(() => route(true), state.pollMs);
}

window.addEventListener('hashchange', () => { lastCurves = ''; route(); });
route();
