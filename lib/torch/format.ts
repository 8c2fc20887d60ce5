// Prints a tensor as PyTorch does: `tensor([[1.0000, 2.5000], ...], dtype=torch.int32)`, with
// PyTorch's choice of integer / fixed / scientific mode, column width, summarising (> 1000
// elements, 3 edge items), line width 80 and the dtype, device and grad suffixes.
import { isFloatingDtype } from './dtype';
import type { Tensor } from './tensor';

const THRESHOLD = 1000;
const EDGE = 3;
const LINE_WIDTH = 80;
const PRECISION = 4;

// JS's toFixed/toExponential round an exact tie away from zero; Python's format() rounds it to
// even (1.03125 -> "1.0312"). Ties are common in bfloat16/float16 data, so correct them.
function halfEven(v: number, digits: number, f: (x: number, d: number) => string): string {
  const plain = f(v, digits);
  const longer = f(v, digits + 1);
  const mant = (s: string) => s.split('e')[0];
  if (!mant(longer).endsWith('5')) return plain;
  const exact = mant(f(v, Math.min(100, digits + 40)));
  const cut = mant(longer).length - 1;
  if (!/^50*$/.test(exact.slice(cut))) return plain;
  // An exact tie: the truncated candidate wins when its last digit is even.
  const truncated = mant(longer).slice(0, -1);
  const last = truncated.replace(/\.$/, '').slice(-1);
  if (Number(last) % 2 !== 0) return plain;
  const exp = longer.includes('e') ? 'e' + longer.split('e')[1] : '';
  return (truncated.endsWith('.') ? truncated.slice(0, -1) : truncated) + exp;
}

const fixed = (v: number, d: number) => halfEven(v, d, (x, k) => x.toFixed(k));

function expo(v: number): string {
  // Python's "{:.4e}": mantissa with 4 decimals and a two-digit signed exponent.
  const [m, e] = halfEven(v, PRECISION, (x, k) => x.toExponential(k)).split('e');
  const n = Number(e);
  return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
}

/** PyTorch's _Formatter: the mode and width come from the nonzero finite values shown. */
function makeFormatter(values: number[], floating: boolean): { fmt: (v: number) => string; width: number } {
  if (!floating) return { fmt: (v) => String(v), width: Math.max(1, ...values.map((v) => String(v).length)) };
  const finite = values.filter((v) => Number.isFinite(v) && v !== 0);
  const special = (v: number) => (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
  if (finite.length === 0) return { fmt: (v) => (Number.isFinite(v) ? `${fixed(v, 0)}.` : special(v)), width: 1 };
  const abs = finite.map(Math.abs);
  const max = Math.max(...abs);
  const min = Math.min(...abs);
  let fmt: (v: number) => string;
  if (finite.every((v) => Number.isInteger(v))) {
    fmt = max / min > 1000 || max > 1e8 ? expo : (v) => `${fixed(v, 0)}.`;
  } else {
    fmt = max / min > 1000 || max > 1e8 || min < 1e-4 ? expo : (v) => fixed(v, PRECISION);
  }
  const width = Math.max(1, ...finite.map((v) => fmt(v).length));
  return { fmt: (v) => (Number.isFinite(v) ? fmt(v) : special(v)), width };
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
  const { fmt, width } = isBool
    ? { fmt: (v: number) => (v ? 'True' : 'False'), width: shown.some((v) => !v) ? 5 : 4 }
    : makeFormatter(shown, isFloatingDtype(dtype));
  const cell = (v: number) => fmt(v).padStart(width);

  const render = (d: number, offset: number, indent: number): string => {
    if (d === shape.length) return cell(flat[offset]);
    const idx = kept(shape[d], summarize);
    if (d === shape.length - 1) {
      const items = idx.map((i) => (i === null ? ' ...' : cell(flat[offset + i * strides[d]])));
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
  if (shape.length === 0) body = fmt(flat[0]).trim();
  const suffixes: string[] = [];
  if (numel === 0 && shape.length !== 1) suffixes.push(`size=(${shape.join(', ')})`);
  if (t.device !== 'cpu') suffixes.push(`device='${t.device}'`);
  // An empty tensor shows every dtype but the default one (nothing else tells int64 from float32).
  if (numel === 0 ? dtype !== 'float32' : !['float32', 'int64', 'bool'].includes(dtype)) suffixes.push(`dtype=torch.${dtype}`);
  const gradFn = t.gradFn;
  if (gradFn) suffixes.push(`grad_fn=<${gradFn}>`);
  else if (t.requiresGrad) suffixes.push('requires_grad=True');
  // PyTorch's _add_suffixes: a suffix that would pass the line width goes on its own line.
  let out = prefix + body;
  let lastLine = out.length - out.lastIndexOf('\n') + 1;
  for (const s of suffixes) {
    if (lastLine + s.length + 2 > LINE_WIDTH) {
      out += ',\n' + ' '.repeat(prefix.length) + s;
      lastLine = prefix.length + s.length;
    } else {
      out += ', ' + s;
      lastLine += s.length + 2;
    }
  }
  return out + ')';
}
