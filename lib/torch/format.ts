// Prints a tensor as PyTorch does: `tensor([[1.0000, 2.5000], ...], dtype=torch.int32)`, with
// PyTorch's choice of integer / fixed / scientific mode, column width, summarising (> 1000
// elements, 3 edge items), line width 80 and the dtype, device and grad suffixes.
import { isFloatingDtype } from './dtype';
import type { Tensor } from './tensor';

const THRESHOLD = 1000;
const EDGE = 3;
const LINE_WIDTH = 80;
const PRECISION = 4;

function expo(v: number): string {
  // Python's "{:.4e}": mantissa with 4 decimals and a two-digit signed exponent.
  const [m, e] = v.toExponential(PRECISION).split('e');
  const n = Number(e);
  return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
}

function makeFormatter(values: number[], floating: boolean): (v: number) => string {
  if (!floating) return (v) => String(v);
  const finite = values.filter((v) => Number.isFinite(v) && v !== 0).map(Math.abs);
  const special = (v: number) => (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
  if (finite.length === 0 || finite.every((v) => Number.isInteger(v))) {
    const sci = finite.length > 0 && Math.max(...finite) / Math.min(...finite) > 1000 && Math.max(...finite) > 1e8;
    return (v) => (!Number.isFinite(v) ? special(v) : sci ? expo(v) : `${v.toFixed(0)}.`);
  }
  const max = Math.max(...finite);
  const min = Math.min(...finite);
  const sci = max / min > 1000 || max > 1e8 || min < 1e-4;
  return (v) => (!Number.isFinite(v) ? special(v) : sci ? expo(v) : v.toFixed(PRECISION));
}

/** Indices kept along a dimension of size n when summarising. */
function kept(n: number, summarize: boolean): (number | null)[] {
  if (!summarize || n <= 2 * EDGE) return Array.from({ length: n }, (_, i) => i);
  return [0, 1, 2, null, n - 3, n - 2, n - 1];
}

export function formatTensor(t: Tensor): string {
  const shape = t.shape;
  const dtype = t.dtype;
  const numel = shape.reduce((a, b) => a * b, 1);
  const summarize = numel > THRESHOLD;
  const flat = t.toArray();
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));

  // Only the printed elements decide the format, as in PyTorch.
  const shown: number[] = [];
  const gather = (d: number, offset: number) => {
    if (d === shape.length) return shown.push(flat[offset]);
    for (const i of kept(shape[d], summarize)) if (i !== null) gather(d + 1, offset + i * strides[d]);
  };
  if (numel > 0) gather(0, 0);
  const isBool = dtype === 'bool';
  const fmt = isBool ? (v: number) => (v ? 'True' : 'False') : makeFormatter(shown, isFloatingDtype(dtype));
  const width = Math.max(0, ...shown.map((v) => fmt(v).length));
  const cell = (v: number) => fmt(v).padStart(width);

  const render = (d: number, offset: number, indent: number): string => {
    if (d === shape.length) return cell(flat[offset]);
    const idx = kept(shape[d], summarize);
    if (d === shape.length - 1) {
      const items = idx.map((i) => (i === null ? '...' : cell(flat[offset + i * strides[d]])));
      const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / (width + 2)));
      const lines: string[] = [];
      for (let k = 0; k < items.length; k += perLine) lines.push(items.slice(k, k + perLine).join(', '));
      return `[${lines.join(',\n' + ' '.repeat(indent + 1))}]`;
    }
    const sep = ',' + '\n'.repeat(shape.length - d - 1) + ' '.repeat(indent + 1);
    const parts = idx.map((i) => (i === null ? '...' : render(d + 1, offset + i * strides[d], indent + 1)));
    return `[${parts.join(sep)}]`;
  };

  const prefix = 'tensor(';
  let body = numel === 0 ? '[]' : render(0, 0, prefix.length);
  const suffixes: string[] = [];
  if (numel === 0 && shape.length !== 1) suffixes.push(`size=(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`);
  if (t.device !== 'cpu') suffixes.push(`device='${t.device}'`);
  if (!['float32', 'int64', 'bool'].includes(dtype)) suffixes.push(`dtype=torch.${dtype}`);
  const gradFn = t.gradFn;
  if (gradFn) suffixes.push(`grad_fn=<${gradFn}>`);
  else if (t.requiresGrad) suffixes.push('requires_grad=True');
  if (shape.length === 0) body = fmt(flat[0]).trim();
  return `${prefix}${[body, ...suffixes].join(', ')})`;
}
