/**
 * Shape changes, views and indexing: reshape, view, flatten, transpose, permute, squeeze,
 * unsqueeze, narrow, slice, select, indexSelect, gather, cat, stack, chunk, split, …
 * Views share memory with their source (as in PyTorch); in-place writes show through.
 */
import { dtypeCode, type DType } from './dtype.js';
import { N, Tensor, checkInt, checkIntList, handleOf, run, wrap, type Device } from './tensor.js';

declare module './tensor.js' {
  interface Tensor {
    reshape(shape: readonly number[]): Tensor;
    view(shape: readonly number[]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    transpose(dim0: number, dim1: number): Tensor;
    /** Transpose of a matrix (rank ≤ 2). */
    t(): Tensor;
    permute(dims: readonly number[]): Tensor;
    squeeze(dim?: number): Tensor;
    unsqueeze(dim: number): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    slice(dim: number, start?: number, end?: number, step?: number): Tensor;
    select(dim: number, index: number): Tensor;
    indexSelect(dim: number, index: Tensor): Tensor;
    gather(dim: number, index: Tensor): Tensor;
    scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    maskedSelect(mask: Tensor): Tensor;
    chunk(chunks: number, dim?: number): Tensor[];
    split(sizes: number | readonly number[], dim?: number): Tensor[];
    expand(shape: readonly number[]): Tensor;
    repeat(repeats: readonly number[]): Tensor;
    flip(dims: readonly number[]): Tensor;
    contiguous(): Tensor;
    clone(): Tensor;
    /** The same values cut from the autograd graph. */
    detach(): Tensor;
    /** A copy converted to another dtype and/or device (the same tensor if nothing changes). */
    to(target: { dtype?: DType; device?: Device } | DType): Tensor;
    float(): Tensor;
    double(): Tensor;
    long(): Tensor;
  }
}

const one = (op: string, t: Tensor, args: readonly unknown[], body: () => ReturnType<typeof N.clone>): Tensor =>
  run(op, [t, ...args], () => wrap(body()));

export const reshape = (t: Tensor, shape: readonly number[]): Tensor => one('reshape', t, [shape], () => N.reshape(t.handle, checkIntList('reshape', 'shape', [...shape])));
export const view = (t: Tensor, shape: readonly number[]): Tensor => one('view', t, [shape], () => N.view(t.handle, checkIntList('view', 'shape', [...shape])));
export const flatten = (t: Tensor, startDim = 0, endDim = -1): Tensor => one('flatten', t, [startDim, endDim], () => N.flatten(t.handle, checkInt('flatten', 'startDim', startDim), checkInt('flatten', 'endDim', endDim)));
export const transpose = (t: Tensor, dim0: number, dim1: number): Tensor => one('transpose', t, [dim0, dim1], () => N.transpose(t.handle, checkInt('transpose', 'dim0', dim0), checkInt('transpose', 'dim1', dim1)));
export const permute = (t: Tensor, dims: readonly number[]): Tensor => one('permute', t, [dims], () => N.permute(t.handle, checkIntList('permute', 'dims', [...dims])));
export const squeeze = (t: Tensor, dim?: number): Tensor => one('squeeze', t, [dim], () => N.squeeze(t.handle, dim === undefined ? null : checkInt('squeeze', 'dim', dim)));
export const unsqueeze = (t: Tensor, dim: number): Tensor => one('unsqueeze', t, [dim], () => N.unsqueeze(t.handle, checkInt('unsqueeze', 'dim', dim)));
export const narrow = (t: Tensor, dim: number, start: number, length: number): Tensor =>
  one('narrow', t, [dim, start, length], () => N.narrow(t.handle, checkInt('narrow', 'dim', dim), checkInt('narrow', 'start', start), checkInt('narrow', 'length', length)));
/** Elements start, start+step, … before end along dim (negative indices count from the end). */
export const slice = (t: Tensor, dim: number, start?: number, end?: number, step = 1): Tensor =>
  one('slice', t, [dim, start, end, step], () =>
    N.slice(t.handle, checkInt('slice', 'dim', dim), start === undefined ? null : checkInt('slice', 'start', start), end === undefined ? null : checkInt('slice', 'end', end), checkInt('slice', 'step', step)));
export const select = (t: Tensor, dim: number, index: number): Tensor => one('select', t, [dim, index], () => N.select(t.handle, checkInt('select', 'dim', dim), checkInt('select', 'index', index)));
export const indexSelect = (t: Tensor, dim: number, index: Tensor): Tensor =>
  one('indexSelect', t, [dim, index], () => N.indexSelect(t.handle, checkInt('indexSelect', 'dim', dim), handleOf('indexSelect', 'index', index)));
export const gather = (t: Tensor, dim: number, index: Tensor): Tensor => one('gather', t, [dim, index], () => N.gather(t.handle, checkInt('gather', 'dim', dim), handleOf('gather', 'index', index)));
export const scatterAdd = (t: Tensor, dim: number, index: Tensor, src: Tensor): Tensor =>
  one('scatterAdd', t, [dim, index, src], () => N.scatterAdd(t.handle, checkInt('scatterAdd', 'dim', dim), handleOf('scatterAdd', 'index', index), handleOf('scatterAdd', 'src', src)));
export const maskedSelect = (t: Tensor, mask: Tensor): Tensor => one('maskedSelect', t, [mask], () => N.maskedSelect(t.handle, handleOf('maskedSelect', 'mask', mask)));
export const expand = (t: Tensor, shape: readonly number[]): Tensor => one('expand', t, [shape], () => N.expand(t.handle, checkIntList('expand', 'shape', [...shape])));
export const repeat = (t: Tensor, repeats: readonly number[]): Tensor => one('repeat', t, [repeats], () => N.repeat(t.handle, checkIntList('repeat', 'repeats', [...repeats])));
export const flip = (t: Tensor, dims: readonly number[]): Tensor => one('flip', t, [dims], () => N.flip(t.handle, checkIntList('flip', 'dims', [...dims])));
/** Constant padding; `pads` lists (before, after) pairs starting from the last dimension, as torch.nn.functional.pad. */
export const pad = (t: Tensor, pads: readonly number[], value = 0): Tensor => one('pad', t, [pads, value], () => N.pad(t.handle, checkIntList('pad', 'pads', [...pads]), value));
export const contiguous = (t: Tensor): Tensor => one('contiguous', t, [], () => N.contiguous(t.handle));
export const clone = (t: Tensor): Tensor => one('clone', t, [], () => N.clone(t.handle));
export const detach = (t: Tensor): Tensor => one('detach', t, [], () => N.detach(t.handle));

export function to(t: Tensor, target: { dtype?: DType; device?: Device } | DType): Tensor {
  const spec = typeof target === 'string' ? { dtype: target } : target;
  return one('to', t, [spec.dtype, spec.device], () => N.to(t.handle, spec.dtype === undefined ? null : dtypeCode(spec.dtype), spec.device ?? null));
}

function handles(op: string, ts: readonly Tensor[]) {
  if (!Array.isArray(ts) || ts.length === 0) throw new TypeError(`${op}: expected a non-empty array of tensors`);
  return ts.map((x, i) => handleOf(op, `tensors[${i}]`, x));
}
export const cat = (ts: readonly Tensor[], dim = 0): Tensor => run('cat', [ts, dim], () => wrap(N.cat(handles('cat', ts), checkInt('cat', 'dim', dim))));
export const stack = (ts: readonly Tensor[], dim = 0): Tensor => run('stack', [ts, dim], () => wrap(N.stack(handles('stack', ts), checkInt('stack', 'dim', dim))));
export const chunk = (t: Tensor, chunks: number, dim = 0): Tensor[] =>
  run('chunk', [t, chunks, dim], () => N.chunk(t.handle, checkInt('chunk', 'chunks', chunks), checkInt('chunk', 'dim', dim)).map(wrap));
/** Pieces of `size` along dim (the last may be smaller), or pieces of the listed sizes. */
export const split = (t: Tensor, sizes: number | readonly number[], dim = 0): Tensor[] =>
  run('split', [t, sizes, dim], () =>
    N.split(t.handle, typeof sizes === 'number' ? checkInt('split', 'size', sizes) : checkIntList('split', 'sizes', [...sizes]), checkInt('split', 'dim', dim)).map(wrap));

const proto = Tensor.prototype;
proto.reshape = function (shape) { return reshape(this, shape); };
proto.view = function (shape) { return view(this, shape); };
proto.flatten = function (startDim, endDim) { return flatten(this, startDim, endDim); };
proto.transpose = function (dim0, dim1) { return transpose(this, dim0, dim1); };
proto.t = function () { return this.rank < 2 ? this.view(this.shape) : transpose(this, 0, 1); };
proto.permute = function (dims) { return permute(this, dims); };
proto.squeeze = function (dim) { return squeeze(this, dim); };
proto.unsqueeze = function (dim) { return unsqueeze(this, dim); };
proto.narrow = function (dim, start, length) { return narrow(this, dim, start, length); };
proto.slice = function (dim, start, end, step) { return slice(this, dim, start, end, step); };
proto.select = function (dim, index) { return select(this, dim, index); };
proto.indexSelect = function (dim, index) { return indexSelect(this, dim, index); };
proto.gather = function (dim, index) { return gather(this, dim, index); };
proto.scatterAdd = function (dim, index, src) { return scatterAdd(this, dim, index, src); };
proto.maskedSelect = function (mask) { return maskedSelect(this, mask); };
proto.chunk = function (chunks, dim) { return chunk(this, chunks, dim); };
proto.split = function (sizes, dim) { return split(this, sizes, dim); };
proto.expand = function (shape) { return expand(this, shape); };
proto.repeat = function (repeats) { return repeat(this, repeats); };
proto.flip = function (dims) { return flip(this, dims); };
proto.contiguous = function () { return contiguous(this); };
proto.clone = function () { return clone(this); };
proto.detach = function () { return detach(this); };
proto.to = function (target) { return to(this, target); };
proto.float = function () { return to(this, 'float32'); };
proto.double = function () { return to(this, 'float64'); };
proto.long = function () { return to(this, 'int64'); };
