/**
 * toString() as PyTorch prints tensors: a port of torch/_tensor_str.py (1.13) with its default
 * print options (precision 4, threshold 1000, edgeitems 3, linewidth 80). Checked against
 * PyTorch's own output in format.test.ts.
 */
import { isFloating } from './dtype.js';
import { Tensor, setTensorFormatter } from './tensor.js';

const PRECISION = 4;
const THRESHOLD = 1000;
const EDGEITEMS = 3;
const LINEWIDTH = 80;

/** Python's '{:.Ne}': at least two exponent digits. */
function exponential(v: number, digits: number): string {
  if (!Number.isFinite(v)) return pyNonFinite(v);
  const s = v.toExponential(digits);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}
function pyNonFinite(v: number): string {
  return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
}
function fixed(v: number, digits: number): string {
  if (!Number.isFinite(v)) return pyNonFinite(v);
  // Python rounds half to even on the exact binary value; toFixed rounds ties up. Ties are only
  // possible when v·10^digits is exactly representable with a fractional .5.
  const scaled = v * 10 ** digits;
  if (Math.abs(scaled) < 2 ** 52 && Math.abs(scaled - Math.trunc(scaled)) === 0.5) {
    const down = Math.trunc(scaled);
    const even = down % 2 === 0 ? down : down + Math.sign(scaled);
    const s = (even / 10 ** digits).toFixed(digits);
    return v < 0 && !s.startsWith('-') ? `-${s}` : s;
  }
  const s = v.toFixed(digits);
  return s === (-0).toFixed(digits) && (v < 0 || Object.is(v, -0)) ? `-${s}` : s;
}

class Formatter {
  private readonly floating: boolean;
  private intMode = true;
  private sciMode = false;
  private maxWidth = 1;

  constructor(values: readonly number[], isFloat: boolean, private readonly isBool: boolean) {
    this.floating = isFloat;
    if (!isFloat) {
      for (const v of values) this.maxWidth = Math.max(this.maxWidth, this.plain(v).length);
      return;
    }
    const finite = values.filter((v) => Number.isFinite(v) && v !== 0);
    if (finite.length === 0) return;
    const abs = finite.map(Math.abs);
    const lo = Math.min(...abs);
    const hi = Math.max(...abs);
    this.intMode = finite.every((v) => v === Math.ceil(v));
    if (this.intMode) {
      if (hi / lo > 1000 || hi > 1e8) {
        this.sciMode = true;
        for (const v of finite) this.maxWidth = Math.max(this.maxWidth, exponential(v, PRECISION).length);
      } else {
        for (const v of finite) this.maxWidth = Math.max(this.maxWidth, fixed(v, 0).length + 1);
      }
    } else if (hi / lo > 1000 || hi > 1e8 || lo < 1e-4) {
      this.sciMode = true;
      for (const v of finite) this.maxWidth = Math.max(this.maxWidth, exponential(v, PRECISION).length);
    } else {
      for (const v of finite) this.maxWidth = Math.max(this.maxWidth, fixed(v, PRECISION).length);
    }
  }

  width(): number {
    return this.maxWidth;
  }

  private plain(v: number): string {
    return this.isBool ? (v ? 'True' : 'False') : String(v);
  }

  format(v: number): string {
    let s: string;
    if (this.floating) {
      if (this.sciMode) s = exponential(v, PRECISION);
      else if (this.intMode) {
        s = fixed(v, 0);
        if (Number.isFinite(v)) s += '.';
      } else s = fixed(v, PRECISION);
    } else s = this.plain(v);
    return s.padStart(this.maxWidth, ' ');
  }
}

/** Nested view of flat row-major values, enough for the printer. */
interface Block {
  values: readonly number[];
  shape: readonly number[];
  offset: number;
}
function sub(b: Block, i: number): Block {
  let stride = 1;
  for (let d = 1; d < b.shape.length; d++) stride *= b.shape[d]!;
  return { values: b.values, shape: b.shape.slice(1), offset: b.offset + i * stride };
}
function elements(b: Block): number[] {
  let n = 1;
  for (const s of b.shape) n *= s;
  return b.values.slice(b.offset, b.offset + n) as number[];
}

/** The values the formatter sizes itself on when summarizing: the edge items of every dim. */
function summarized(b: Block): number[] {
  if (b.shape.length === 0) return [b.values[b.offset]!];
  const n = b.shape[0]!;
  const idx = n > 2 * EDGEITEMS ? [...Array(EDGEITEMS).keys(), ...Array.from({ length: EDGEITEMS }, (_, k) => n - EDGEITEMS + k)] : [...Array(n).keys()];
  if (b.shape.length === 1) return idx.map((i) => b.values[b.offset + i]!);
  return idx.flatMap((i) => summarized(sub(b, i)));
}

function vectorStr(b: Block, indent: number, summarize: boolean, f: Formatter): string {
  const elementLength = f.width() + 2;
  const perLine = Math.max(1, Math.floor((LINEWIDTH - indent) / elementLength));
  const n = b.shape[0]!;
  const vals = elements(b);
  let data: string[];
  if (summarize && n > 2 * EDGEITEMS) {
    data = [...vals.slice(0, EDGEITEMS).map((v) => f.format(v)), ' ...', ...vals.slice(n - EDGEITEMS).map((v) => f.format(v))];
  } else data = vals.map((v) => f.format(v));
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += perLine) lines.push(data.slice(i, i + perLine).join(', '));
  return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
}

function blockStr(b: Block, indent: number, summarize: boolean, f: Formatter): string {
  const dim = b.shape.length;
  if (dim === 0) return f.format(b.values[b.offset]!);
  if (dim === 1) return vectorStr(b, indent, summarize, f);
  const n = b.shape[0]!;
  let slices: string[];
  if (summarize && n > 2 * EDGEITEMS) {
    slices = [
      ...Array.from({ length: EDGEITEMS }, (_, i) => blockStr(sub(b, i), indent + 1, summarize, f)),
      '...',
      ...Array.from({ length: EDGEITEMS }, (_, k) => blockStr(sub(b, n - EDGEITEMS + k), indent + 1, summarize, f)),
    ];
  } else slices = Array.from({ length: n }, (_, i) => blockStr(sub(b, i), indent + 1, summarize, f));
  return `[${slices.join(`,${'\n'.repeat(dim - 1)}${' '.repeat(indent + 1)}`)}]`;
}

export function formatTensor(t: Tensor): string {
  const prefix = 'tensor(';
  const indent = prefix.length;
  const suffixes: string[] = [];
  const shape = t.shape;
  const dtype = t.dtype;
  let body: string;
  if (t.device !== 'cpu') suffixes.push(`device='${t.device}'`);
  if (t.numel === 0) {
    if (shape.length !== 1) suffixes.push(`size=(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`);
    if (dtype !== 'float32') suffixes.push(`dtype=torch.${dtype}`);
    body = '[]';
  } else {
    // PyTorch omits the dtype for its defaults: float32, int64 and bool.
    if (dtype !== 'float32' && dtype !== 'int64' && dtype !== 'bool') suffixes.push(`dtype=torch.${dtype}`);
    const flat = Array.from(t.data() as ArrayLike<number | bigint>, Number);
    const block: Block = { values: flat, shape, offset: 0 };
    const summarize = t.numel > THRESHOLD;
    const formatter = new Formatter(summarize ? summarized(block) : flat, isFloating(dtype), dtype === 'bool');
    body = blockStr(block, indent, summarize, formatter);
  }
  const gradFn = t.gradFn;
  if (gradFn !== undefined) suffixes.push(`grad_fn=<${gradFn}>`);
  else if (t.requiresGrad) suffixes.push('requires_grad=True');

  // _add_suffixes: a suffix goes on a new line when the last line would pass the line width.
  let out = prefix + body;
  let lastLineLen = out.length - out.lastIndexOf('\n') + 1;
  for (const suffix of suffixes) {
    if (lastLineLen + suffix.length + 2 > LINEWIDTH) {
      out += `,\n${' '.repeat(indent)}${suffix}`;
      lastLineLen = indent + suffix.length;
    } else {
      out += `, ${suffix}`;
      lastLineLen += suffix.length + 2;
    }
  }
  return `${out})`;
}

setTensorFormatter(formatTensor);
