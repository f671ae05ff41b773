/**
 * The Tensor class: a typed, disposable reference to a libtorch tensor.
 *
 * Ops are added to the prototype by the op-family files (views.ts, elementwise.ts, …), each of
 * which also exports the same ops as functions; `src/tensor/index.ts` loads them all. Import the
 * tensor layer through that index.
 *
 * Memory: a tensor's native memory is freed by `dispose()` or when the innermost `tidy()` scope
 * that created it closes. A FinalizationRegistry frees tensors that are garbage-collected without
 * being disposed; it is only a safety net, and dispose() unregisters from it.
 */
import { inspect } from 'node:util';
import { native, type TensorHandle } from '../native/index.js';
import { dtypeFromCode, type AnyTypedArray, type DType } from './dtype.js';
import { TensorOpError } from './errors.js';
import { track, untrack } from './scope.js';

/** The native binding, loaded once for the whole tensor layer. */
export const N = native();

/** 'cpu', or 'cuda' / 'cuda:K' when the linked libtorch was built with CUDA. */
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

/** Nested arrays of numbers (or booleans), as `toArray()` returns and `tensor()` accepts. */
export type NestedArray<T> = T | NestedArray<T>[];

/** Frees tensors that became unreachable without dispose(); N.dispose ignores ids already freed. */
const finalizer = new FinalizationRegistry<TensorHandle>((handle) => N.dispose(handle));

export class Tensor {
  #handle: TensorHandle;
  #disposed = false;
  #shape: readonly number[] | undefined;
  #dtype: DType | undefined;

  /** Wraps a native handle; use the creation functions (tensor, zeros, randn, …) instead. */
  constructor(handle: TensorHandle) {
    this.#handle = handle;
    finalizer.register(this, handle, this);
    track(this);
  }

  /** The native handle; throws if the tensor was disposed. */
  get handle(): TensorHandle {
    if (this.#disposed) throw new Error('this tensor was disposed; keep() it or return it from tidy() to use it later');
    return this.#handle;
  }

  get shape(): readonly number[] {
    this.#shape ??= Object.freeze(N.shape(this.handle));
    return this.#shape;
  }
  get dtype(): DType {
    this.#dtype ??= dtypeFromCode(N.dtype(this.handle));
    return this.#dtype;
  }
  get device(): string {
    return N.device(this.handle);
  }
  get rank(): number {
    return this.shape.length;
  }
  get numel(): number {
    let n = 1;
    for (const s of this.shape) n *= s;
    return n;
  }
  /** Size of one dimension; negative dims count from the end. */
  size(dim: number): number {
    const d = dim < 0 ? dim + this.rank : dim;
    const s = this.shape[d];
    if (s === undefined) throw new RangeError(`size: dimension ${dim} is out of range for a tensor of rank ${this.rank}`);
    return s;
  }

  get requiresGrad(): boolean {
    return N.requiresGrad(this.handle);
  }
  /** Marks a leaf tensor as a variable that autograd differentiates with respect to. */
  requiresGrad_(flag = true): this {
    run('requiresGrad_', [this], () => N.setRequiresGrad(this.handle, flag));
    return this;
  }
  get isLeaf(): boolean {
    return N.isLeaf(this.handle);
  }
  /** The name of the autograd node that produced this tensor (e.g. 'AddBackward0'), if any. */
  get gradFn(): string | undefined {
    return N.gradFnName(this.handle);
  }
  /** The accumulated gradient (after backward()), as a new tensor reference. */
  get grad(): Tensor | undefined {
    const g = N.getGrad(this.handle);
    return g === undefined ? undefined : new Tensor(g);
  }
  set grad(g: Tensor | undefined) {
    run('setGrad', [this, g], () => N.setGrad(this.handle, g === undefined ? null : g.handle));
  }
  /** Keeps .grad for a non-leaf tensor. */
  retainGrad(): this {
    N.retainGrad(this.handle);
    return this;
  }

  get isDisposed(): boolean {
    return this.#disposed;
  }
  /** Frees the native memory now. A second call does nothing. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    finalizer.unregister(this);
    N.dispose(this.#handle);
    untrack(this);
  }

  /** A copy of the values as a TypedArray, row-major (int64 → BigInt64Array, bool → Uint8Array). */
  data(): AnyTypedArray {
    return run('data', [this], () => N.data(this.handle));
  }
  /**
   * The values without a copy: a TypedArray over the tensor's own memory (contiguous CPU
   * tensors only). It stays valid after dispose(); writing to it writes to the tensor.
   */
  dataView(): AnyTypedArray {
    return run('dataView', [this], () => N.dataView(this.handle));
  }
  /** The value of a one-element tensor. */
  item(): number {
    return run('item', [this], () => N.item(this.handle));
  }
  /** The values as nested arrays of numbers (booleans for bool tensors), like PyTorch's tolist(). */
  toArray(): NestedArray<number | boolean> {
    const flat = this.data();
    const values: (number | boolean)[] = new Array(flat.length);
    const isBool = this.dtype === 'bool';
    for (let i = 0; i < flat.length; i++) values[i] = isBool ? flat[i] !== 0 : Number(flat[i]);
    return nest(values, this.shape);
  }

  toString(): string {
    if (this.#disposed) return 'tensor(<disposed>)';
    return formatTensor(this);
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

function nest(values: (number | boolean)[], shape: readonly number[]): NestedArray<number | boolean> {
  if (shape.length === 0) return values[0]!;
  const build = (offset: number, dim: number): NestedArray<number | boolean>[] => {
    const n = shape[dim]!;
    if (dim === shape.length - 1) return values.slice(offset, offset + n);
    let stride = 1;
    for (let d = dim + 1; d < shape.length; d++) stride *= shape[d]!;
    const out: NestedArray<number | boolean>[] = [];
    for (let i = 0; i < n; i++) out.push(build(offset + i * stride, dim + 1));
    return out;
  };
  return build(0, 0);
}

// toString is implemented in format.ts, which imports this file; it registers itself here.
let formatTensor: (t: Tensor) => string = (t) => `tensor(shape=[${t.shape.join(', ')}], dtype=${t.dtype})`;
export function setTensorFormatter(f: (t: Tensor) => string): void {
  formatTensor = f;
}

// ---- helpers shared by every op file ----

function describe(x: unknown): string {
  if (x instanceof Tensor) return x.isDisposed ? '<disposed tensor>' : `${x.dtype}[${x.shape.join(', ')}]`;
  if (Array.isArray(x)) return x.length > 6 ? `[${x.slice(0, 6).map(describe).join(', ')}, …]` : `[${x.map(describe).join(', ')}]`;
  if (x === null || x === undefined) return String(x);
  if (typeof x === 'object') return '{…}';
  return String(x);
}

/**
 * Runs one native call, turning any failure into a TensorOpError that names the op and
 * describes its inputs (dtype and shape), with libtorch's message.
 */
export function run<T>(op: string, inputs: readonly unknown[], body: () => T): T {
  try {
    return body();
  } catch (error) {
    // Argument errors from this layer already name the op and argument.
    if (error instanceof TypeError && error.message.startsWith(`${op}:`)) throw error;
    throw new TensorOpError(op, inputs.map(describe), error);
  }
}

/** The handle of a tensor argument, with a TypeError naming the op and argument otherwise. */
export function handleOf(op: string, name: string, x: unknown): TensorHandle {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: '${name}' must be a Tensor, got ${describe(x)}`);
  if (x.isDisposed) throw new TypeError(`${op}: '${name}' was disposed`);
  return x.handle;
}

/** Whether a tensor-or-number operand is a number (the native layer needs to be told). */
export const isScalarOperand = (x: unknown): boolean => !(x instanceof Tensor);

/** A tensor-or-number argument as the native layer takes it. */
export function operand(op: string, name: string, x: unknown): TensorHandle | number {
  if (typeof x === 'number') return x;
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (x instanceof Tensor) return handleOf(op, name, x);
  throw new TypeError(`${op}: '${name}' must be a Tensor or a number, got ${describe(x)}`);
}

export function checkInt(op: string, name: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isInteger(x)) throw new TypeError(`${op}: '${name}' must be an integer, got ${describe(x)}`);
  return x;
}

export function checkIntList(op: string, name: string, x: unknown): number[] {
  if (!Array.isArray(x) || !x.every((v) => typeof v === 'number' && Number.isInteger(v))) {
    throw new TypeError(`${op}: '${name}' must be an array of integers, got ${describe(x)}`);
  }
  return x as number[];
}

/** Normalizes `dim` arguments: a number, a list, or undefined (all dimensions). */
export function dimsArg(op: string, dims: number | readonly number[] | undefined): number[] | null {
  if (dims === undefined) return null;
  if (typeof dims === 'number') return [checkInt(op, 'dim', dims)];
  return checkIntList(op, 'dims', [...dims]);
}

export function wrap(h: TensorHandle): Tensor {
  return new Tensor(h);
}

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}
