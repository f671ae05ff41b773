/**
 * Creating tensors: from JavaScript data, constant fills, ranges, and seeded random draws.
 *
 *   tensor([[1, 2], [3, 4]])                 // float32, shape [2, 2]
 *   tensor([1, 2, 3], { dtype: 'int64' })
 *   randn([64, 784], { generator: new Generator(0) })
 */
import { dtypeCode, dtypeOfTypedArray, typedArrayFrom, type AnyTypedArray, type DType } from './dtype.js';
import type { Generator } from './generator.js';
import { N, Tensor, checkInt, checkIntList, run, type Device, type NestedArray } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}
export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

function finish(t: Tensor, options: CreateOptions | undefined): Tensor {
  if (options?.requiresGrad) t.requiresGrad_(true);
  return t;
}

function flatten(data: NestedArray<number | boolean>, op: string): { values: (number | boolean)[]; shape: number[] } {
  const shape: number[] = [];
  for (let level: unknown = data; Array.isArray(level); level = level[0]) shape.push(level.length);
  const values: (number | boolean)[] = [];
  const walk = (x: unknown, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof x !== 'number' && typeof x !== 'boolean') throw new TypeError(`${op}: element ${path || '[]'} is ${JSON.stringify(x)}; expected a number or boolean`);
      values.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[dim]) {
      throw new TypeError(`${op}: the nested arrays are ragged: ${path || 'the top level'} has ${Array.isArray(x) ? `length ${x.length}` : 'no array'} where length ${shape[dim]} was expected`);
    }
    x.forEach((v, i) => walk(v, dim + 1, `${path}[${i}]`));
  };
  walk(data, 0, '');
  return { values, shape };
}

/**
 * A tensor from nested arrays, a number, or a TypedArray (with `shape`, default 1-D).
 * Numbers default to float32, booleans to bool, TypedArrays to their own element type.
 */
export function tensor(data: NestedArray<number | boolean> | AnyTypedArray, options: CreateOptions & { shape?: readonly number[] } = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const source = dtypeOfTypedArray(data);
    const dtype = options.dtype ?? source;
    const shape = options.shape ? checkIntList('tensor', 'shape', [...options.shape]) : [data.length];
    const buffer = dtype === source || (dtype === 'bool' && source === 'uint8') ? data : typedArrayFrom(dtype, Array.from(data as ArrayLike<number>, Number));
    return finish(run('tensor', [shape], () => new Tensor(N.fromBuffer(buffer, shape, dtypeCode(dtype), options.device ?? null))), options);
  }
  const { values, shape } = flatten(data, 'tensor');
  const dtype = options.dtype ?? (values.length > 0 && typeof values[0] === 'boolean' ? 'bool' : 'float32');
  const target = options.shape ? checkIntList('tensor', 'shape', [...options.shape]) : shape;
  return finish(run('tensor', [target], () => new Tensor(N.fromBuffer(typedArrayFrom(dtype, values), target, dtypeCode(dtype), options.device ?? null))), options);
}

/** A 0-dim tensor holding one number. */
export function scalar(value: number, options: CreateOptions = {}): Tensor {
  return tensor(value, options);
}

function filled(op: 'empty' | 'zeros' | 'ones', shape: readonly number[], options: CreateOptions): Tensor {
  const dims = checkIntList(op, 'shape', [...shape]);
  const dtype = dtypeCode(options.dtype ?? 'float32');
  return finish(run(op, [dims], () => new Tensor(N[op](dims, dtype, options.device ?? null))), options);
}
export const empty = (shape: readonly number[], options: CreateOptions = {}): Tensor => filled('empty', shape, options);
export const zeros = (shape: readonly number[], options: CreateOptions = {}): Tensor => filled('zeros', shape, options);
export const ones = (shape: readonly number[], options: CreateOptions = {}): Tensor => filled('ones', shape, options);

export function full(shape: readonly number[], value: number | boolean, options: CreateOptions = {}): Tensor {
  const dims = checkIntList('full', 'shape', [...shape]);
  const dtype = options.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  return finish(run('full', [dims, value], () => new Tensor(N.full(dims, value, dtypeCode(dtype), options.device ?? null))), options);
}

function like(t: Tensor, options: CreateOptions): CreateOptions {
  return { dtype: options.dtype ?? t.dtype, device: options.device ?? (t.device as Device), requiresGrad: options.requiresGrad };
}
export const zerosLike = (t: Tensor, options: CreateOptions = {}): Tensor => zeros(t.shape, like(t, options));
export const onesLike = (t: Tensor, options: CreateOptions = {}): Tensor => ones(t.shape, like(t, options));
export const fullLike = (t: Tensor, value: number, options: CreateOptions = {}): Tensor => full(t.shape, value, like(t, options));

/**
 * Values from start (inclusive) to end (exclusive) by step, as torch.arange. `arange(n)` is 0..n-1.
 * The dtype defaults to int64 when every argument is an integer, float32 otherwise.
 */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  const [a, b] = end === undefined ? [0, start] : [start, end];
  const dtype = options.dtype ?? ([a, b, step].every(Number.isInteger) ? 'int64' : 'float32');
  return finish(run('arange', [a, b, step], () => new Tensor(N.arange(a, b, step, dtypeCode(dtype), options.device ?? null))), options);
}

/** `steps` evenly spaced values from start to end, both included. */
export function linspace(start: number, end: number, steps: number, options: CreateOptions = {}): Tensor {
  checkInt('linspace', 'steps', steps);
  return finish(run('linspace', [start, end, steps], () => new Tensor(N.linspace(start, end, steps, dtypeCode(options.dtype ?? 'float32'), options.device ?? null))), options);
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  checkInt('eye', 'n', n);
  checkInt('eye', 'm', m);
  return finish(run('eye', [n, m], () => new Tensor(N.eye(n, m, dtypeCode(options.dtype ?? 'float32'), options.device ?? null))), options);
}

/** Uniform on [0, 1). */
export function rand(shape: readonly number[], options: RandomOptions = {}): Tensor {
  const dims = checkIntList('rand', 'shape', [...shape]);
  return finish(run('rand', [dims], () => new Tensor(N.rand(dims, options.generator?.handle ?? null, dtypeCode(options.dtype ?? 'float32'), options.device ?? null))), options);
}
/** Standard normal. */
export function randn(shape: readonly number[], options: RandomOptions = {}): Tensor {
  const dims = checkIntList('randn', 'shape', [...shape]);
  return finish(run('randn', [dims], () => new Tensor(N.randn(dims, options.generator?.handle ?? null, dtypeCode(options.dtype ?? 'float32'), options.device ?? null))), options);
}
/** Integers uniform on [low, high). */
export function randint(low: number, high: number, shape: readonly number[], options: RandomOptions = {}): Tensor {
  const dims = checkIntList('randint', 'shape', [...shape]);
  checkInt('randint', 'low', low);
  checkInt('randint', 'high', high);
  return finish(run('randint', [low, high, dims], () => new Tensor(N.randint(low, high, dims, options.generator?.handle ?? null, dtypeCode(options.dtype ?? 'int64'), options.device ?? null))), options);
}
/**
 * Row k is randint(low, high, [count]) drawn from generators[k] (the same numbers, each generator advanced
 * as by that call): int64 [K, count] on the CPU, in one native call instead of K (a Monte Carlo over many
 * sequences draws one batch per sequence per step).
 */
export function randintRows(generators: readonly Generator[], low: number, high: number, count: number): Tensor {
  for (const [name, v] of [['low', low], ['high', high], ['count', count]] as const) checkInt('randintRows', name, v);
  return run('randintRows', [low, high, count], () => new Tensor(N.randintRows(generators.map((g) => g.handle), low, high, count)));
}
/** Row k is randperm(n) drawn from generators[k], cut to its first `count` entries: int64 [K, count] on the CPU, in one native call. */
export function randpermRows(generators: readonly Generator[], n: number, count: number): Tensor {
  checkInt('randpermRows', 'n', n);
  checkInt('randpermRows', 'count', count);
  return run('randpermRows', [n, count], () => new Tensor(N.randpermRows(generators.map((g) => g.handle), n, count)));
}
/** A uniformly random permutation of 0..n-1. */
export function randperm(n: number, options: RandomOptions = {}): Tensor {
  checkInt('randperm', 'n', n);
  return finish(run('randperm', [n], () => new Tensor(N.randperm(n, options.generator?.handle ?? null, dtypeCode(options.dtype ?? 'int64'), options.device ?? null))), options);
}
