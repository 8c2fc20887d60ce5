// A small SVG line chart (no dependencies): one panel per series, log-scaled axes, a dot and a
// label at each point. Enough for the benchmark's scaling figure.

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  points: Array<{ x: number; y: number }>;
}

const W = 300;
const H = 220;
const M = { left: 56, right: 16, top: 28, bottom: 40 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function panel(p: Panel, ox: number, oy: number): string {
  const xs = p.points.map((q) => Math.log(q.x));
  const ys = p.points.map((q) => Math.log(q.y));
  const span = (v: number[]) => [Math.min(...v), Math.max(...v) === Math.min(...v) ? Math.min(...v) + 1 : Math.max(...v)];
  const [x0, x1] = span(xs);
  const [y0, y1] = span(ys);
  const px = (x: number) => ox + M.left + ((x - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (y: number) => oy + H - M.bottom - ((y - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const path = p.points.map((q, i) => `${i ? 'L' : 'M'}${px(xs[i]).toFixed(1)},${py(ys[i]).toFixed(1)}`).join(' ');
  const dots = p.points
    .map((q, i) => `<circle cx="${px(xs[i]).toFixed(1)}" cy="${py(ys[i]).toFixed(1)}" r="3"/>` +
      `<text x="${px(xs[i]).toFixed(1)}" y="${(py(ys[i]) - 7).toFixed(1)}" text-anchor="middle" font-size="10">${fmt(q.y)}</text>` +
      `<text x="${px(xs[i]).toFixed(1)}" y="${(oy + H - M.bottom + 14).toFixed(1)}" text-anchor="middle" font-size="10">${q.x}</text>`)
    .join('');
  return [
    `<text x="${ox + W / 2}" y="${oy + 16}" text-anchor="middle" font-size="12" font-weight="bold">${esc(p.title)}</text>`,
    `<rect x="${ox + M.left}" y="${oy + M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#ccc"/>`,
    `<path d="${path}" fill="none" stroke="#1f77b4" stroke-width="2"/>`,
    `<g fill="#1f77b4">${dots}</g>`,
    `<text x="${ox + W / 2}" y="${oy + H - 8}" text-anchor="middle" font-size="11">${esc(p.xLabel)}</text>`,
    `<text x="${ox + 14}" y="${oy + H / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 ${ox + 14} ${oy + H / 2})">${esc(p.yLabel)}</text>`,
  ].join('\n');
}

/** Panels laid out in rows of `columns`. */
export function chartSvg(panels: Panel[], columns: number): string {
  const rows = Math.ceil(panels.length / columns);
  const body = panels.map((p, i) => panel(p, (i % columns) * W, Math.floor(i / columns) * H)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${columns * W}" height="${rows * H}" font-family="sans-serif">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n${body}\n</svg>\n`;
}
