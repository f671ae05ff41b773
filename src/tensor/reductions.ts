/**
 * Reductions over all dimensions (dim omitted) or over chosen ones:
 * sum, mean, var, std, max/min (with indices over a dim), argmax/argmin, norm, logsumexp.
 */
import { dtypeCode, type DType } from './dtype.js';
import { N, Tensor, checkInt, dimsArg, run, wrap } from './tensor.js';

type Dims = number | readonly number[];
export interface ReduceOptions {
  keepdim?: boolean;
}
export interface VarianceOptions extends ReduceOptions {
  /** Subtracted from the count in the denominator: 1 (default) is Bessel's unbiased estimate, 0 the population variance. */
  correction?: number;
}
export interface ValuesAndIndices {
  values: Tensor;
  indices: Tensor;
}

declare module './tensor.js' {
  interface Tensor {
    sum(dims?: Dims, options?: ReduceOptions & { dtype?: DType }): Tensor;
    mean(dims?: Dims, options?: ReduceOptions): Tensor;
    prod(dim?: number, options?: ReduceOptions): Tensor;
    var(dims?: Dims, options?: VarianceOptions): Tensor;
    std(dims?: Dims, options?: VarianceOptions): Tensor;
    /** The largest element, or the largest along a dimension with its index. */
    max(): Tensor;
    max(dim: number, options?: ReduceOptions): ValuesAndIndices;
    min(): Tensor;
    min(dim: number, options?: ReduceOptions): ValuesAndIndices;
    argmax(dim?: number, options?: ReduceOptions): Tensor;
    argmin(dim?: number, options?: ReduceOptions): Tensor;
    /** The vector p-norm over the given dims (all by default); p may be Infinity. */
    norm(p?: number, dims?: Dims, options?: ReduceOptions): Tensor;
    logsumexp(dims: Dims, options?: ReduceOptions): Tensor;
    cumsum(dim: number): Tensor;
  }
}

export const sum = (t: Tensor, dims?: Dims, options: ReduceOptions & { dtype?: DType } = {}): Tensor =>
  run('sum', [t, dims], () => wrap(N.sum(t.handle, dimsArg('sum', dims), options.keepdim ?? false, options.dtype === undefined ? null : dtypeCode(options.dtype))));
export const mean = (t: Tensor, dims?: Dims, options: ReduceOptions = {}): Tensor =>
  run('mean', [t, dims], () => wrap(N.mean(t.handle, dimsArg('mean', dims), options.keepdim ?? false)));
export const prod = (t: Tensor, dim?: number, options: ReduceOptions = {}): Tensor =>
  run('prod', [t, dim], () => wrap(N.prod(t.handle, dim === undefined ? null : checkInt('prod', 'dim', dim), options.keepdim ?? false)));
export const variance = (t: Tensor, dims?: Dims, options: VarianceOptions = {}): Tensor =>
  run('var', [t, dims], () => wrap(N.var(t.handle, dimsArg('var', dims), checkInt('var', 'correction', options.correction ?? 1), options.keepdim ?? false)));
export const std = (t: Tensor, dims?: Dims, options: VarianceOptions = {}): Tensor =>
  run('std', [t, dims], () => wrap(N.std(t.handle, dimsArg('std', dims), checkInt('std', 'correction', options.correction ?? 1), options.keepdim ?? false)));

export function max(t: Tensor): Tensor;
export function max(t: Tensor, dim: number, options?: ReduceOptions): ValuesAndIndices;
export function max(t: Tensor, dim?: number, options: ReduceOptions = {}): Tensor | ValuesAndIndices {
  if (dim === undefined) return run('max', [t], () => wrap(N.maxAll(t.handle)));
  return run('max', [t, dim], () => {
    const [values, indices] = N.maxDim(t.handle, checkInt('max', 'dim', dim), options.keepdim ?? false);
    return { values: wrap(values), indices: wrap(indices) };
  });
}
export function min(t: Tensor): Tensor;
export function min(t: Tensor, dim: number, options?: ReduceOptions): ValuesAndIndices;
export function min(t: Tensor, dim?: number, options: ReduceOptions = {}): Tensor | ValuesAndIndices {
  if (dim === undefined) return run('min', [t], () => wrap(N.minAll(t.handle)));
  return run('min', [t, dim], () => {
    const [values, indices] = N.minDim(t.handle, checkInt('min', 'dim', dim), options.keepdim ?? false);
    return { values: wrap(values), indices: wrap(indices) };
  });
}
export const argmax = (t: Tensor, dim?: number, options: ReduceOptions = {}): Tensor =>
  run('argmax', [t, dim], () => wrap(N.argmax(t.handle, dim === undefined ? null : checkInt('argmax', 'dim', dim), options.keepdim ?? false)));
export const argmin = (t: Tensor, dim?: number, options: ReduceOptions = {}): Tensor =>
  run('argmin', [t, dim], () => wrap(N.argmin(t.handle, dim === undefined ? null : checkInt('argmin', 'dim', dim), options.keepdim ?? false)));
export const norm = (t: Tensor, p = 2, dims?: Dims, options: ReduceOptions = {}): Tensor =>
  run('norm', [t, p, dims], () => wrap(N.norm(t.handle, p, dimsArg('norm', dims), options.keepdim ?? false)));
export const logsumexp = (t: Tensor, dims: Dims, options: ReduceOptions = {}): Tensor =>
  run('logsumexp', [t, dims], () => wrap(N.logsumexp(t.handle, dimsArg('logsumexp', dims) ?? [], options.keepdim ?? false)));
export const cumsum = (t: Tensor, dim: number): Tensor => run('cumsum', [t, dim], () => wrap(N.cumsum(t.handle, checkInt('cumsum', 'dim', dim))));

const proto = Tensor.prototype;
proto.sum = function (dims, options) { return sum(this, dims, options); };
proto.mean = function (dims, options) { return mean(this, dims, options); };
proto.prod = function (dim, options) { return prod(this, dim, options); };
proto.var = function (dims, options) { return variance(this, dims, options); };
proto.std = function (dims, options) { return std(this, dims, options); };
proto.max = function (this: Tensor, dim?: number, options?: ReduceOptions) { return dim === undefined ? max(this) : max(this, dim, options); } as Tensor['max'];
proto.min = function (this: Tensor, dim?: number, options?: ReduceOptions) { return dim === undefined ? min(this) : min(this, dim, options); } as Tensor['min'];
proto.argmax = function (dim, options) { return argmax(this, dim, options); };
proto.argmin = function (dim, options) { return argmin(this, dim, options); };
proto.norm = function (p, dims, options) { return norm(this, p, dims, options); };
proto.logsumexp = function (dims, options) { return logsumexp(this, dims, options); };
proto.cumsum = function (dim) { return cumsum(this, dim); };
