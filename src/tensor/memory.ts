/**
 * Deterministic release of native memory, in the manner of tfjs: `tidy(fn)` frees every
 * tensor created while fn runs except those it returns (and those passed to `keep`);
 * `dispose(x)` frees tensors in any container; `memory()` reports what is alive.
 *
 *   const loss = tidy(() => crossEntropy(model(x), y));   // intermediates freed here
 */
import { N, Tensor } from './tensor.js';
import { closeScope, openScope, untrack, type Disposable } from './scope.js';

/** What tidy may return: tensors anywhere inside arrays and plain objects, or anything else. */
export type TensorContainer = void | Tensor | string | number | boolean | null | undefined | TensorContainer[] | { [key: string]: TensorContainer };

function collect(value: unknown, into: Set<Disposable>, seen = new Set<unknown>()): void {
  if (value instanceof Tensor) {
    into.add(value);
    return;
  }
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value)) for (const v of value) collect(v, into, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, into, seen);
}

/**
 * Runs fn in a memory scope. Tensors created inside are disposed when it returns, except the
 * tensors found in its result — directly, or inside arrays and plain objects — which move to the
 * enclosing scope, and those passed to keep().
 * Scopes nest. fn must be synchronous: a scope cannot follow an `await`.
 */
export function tidy<T>(fn: () => T): T {
  const scope = openScope();
  let result: T;
  try {
    result = fn();
  } catch (error) {
    closeScope(scope, new Set());
    throw error;
  }
  if (result instanceof Promise) {
    closeScope(scope, new Set());
    throw new TypeError('tidy: the function returned a Promise; tidy only works with synchronous code');
  }
  const survivors = new Set<Disposable>();
  collect(result, survivors);
  closeScope(scope, survivors);
  return result;
}

/** Exempts a tensor from every enclosing tidy(); the caller now owns it. */
export function keep<T extends Tensor>(t: T): T {
  untrack(t);
  return t;
}

/** Disposes every tensor in a container (tensor, array, plain object). */
export function dispose(container: TensorContainer | readonly Tensor[]): void {
  const found = new Set<Disposable>();
  collect(container, found);
  for (const t of found) t.dispose();
}

export interface MemoryInfo {
  /** Tensor references alive in libtorch (not disposed, not yet collected). */
  numTensors: number;
  /** Bytes of the distinct storages they use. */
  numBytes: number;
}

export function memory(): MemoryInfo {
  return N.memory();
}
