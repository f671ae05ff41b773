/**
 * Helpers for tests of numerical code: closeness checks, fixtures written by the PyTorch
 * reference scripts, and gradient checks by central finite differences.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { grad, noGrad } from './autograd.js';
import { randn, tensor } from './creation.js';
import type { DType } from './dtype.js';
import { Generator } from './generator.js';
import { listDot } from './lists.js';
import { tidy } from './memory.js';
import { deviceProblem } from './runtime.js';
import { Tensor } from './tensor.js';

/** A tensor as the reference scripts store it (non-finite values as the strings 'nan', 'inf', '-inf'). */
export interface EncodedTensor {
  shape: number[];
  dtype: DType;
  data: (number | string)[];
}

/**
 * Reads a JSON fixture from the source tree. `from` is the caller's import.meta.url, which
 * points into dist/ once compiled; fixtures stay in src/.
 */
export function readFixture<T>(from: string, relativePath: string): T {
  const here = dirname(fileURLToPath(from)).replace(/([/\\])dist([/\\])src([/\\])/, '$1src$3');
  return JSON.parse(readFileSync(join(here, relativePath), 'utf8')) as T;
}

const decodeNumber = (v: number | string): number => (typeof v === 'number' ? v : v === 'nan' ? NaN : v === 'inf' ? Infinity : -Infinity);

export function decode(e: EncodedTensor): Tensor {
  return tensor(e.data.map(decodeNumber), { dtype: e.dtype, shape: e.shape });
}

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/** Largest violation of |a − e| ≤ atol + rtol·|e| (≤ 0 means close); NaN matches NaN, ±inf match exactly. */
function worst(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Required<Tolerance>): { index: number; excess: number } {
  let index = -1;
  let excess = -Infinity;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!Number.isFinite(e) && a === e) continue;
    const over = Math.abs(a - e) - (tol.atol + tol.rtol * Math.abs(e));
    if (!(over <= excess) || Number.isNaN(over)) {
      excess = Number.isNaN(over) ? Infinity : over;
      index = i;
    }
  }
  return { index, excess };
}

/** Throws unless `actual` has the expected shape, dtype and values within tolerance. */
export function assertClose(actual: Tensor, expected: EncodedTensor | Tensor | number[], tolerance: Tolerance = {}, what = 'tensor'): void {
  const tol = { rtol: tolerance.rtol ?? 1e-5, atol: tolerance.atol ?? 1e-6 };
  let shape: readonly number[];
  let dtype: DType;
  let values: number[];
  if (expected instanceof Tensor) {
    ({ shape, dtype } = expected);
    values = Array.from(expected.data() as ArrayLike<number | bigint>, Number);
  } else if (Array.isArray(expected)) {
    shape = [expected.length];
    dtype = actual.dtype;
    values = expected;
  } else {
    ({ shape, dtype } = expected);
    values = expected.data.map(decodeNumber);
  }
  if (actual.shape.join() !== shape.join()) throw new Error(`${what}: shape [${actual.shape.join(', ')}], expected [${shape.join(', ')}]`);
  if (actual.dtype !== dtype) throw new Error(`${what}: dtype ${actual.dtype}, expected ${dtype}`);
  const got = Array.from(actual.data() as ArrayLike<number | bigint>, Number);
  const { index, excess } = worst(got, values, tol);
  if (excess > 0) {
    throw new Error(`${what}: element ${index} is ${got[index]}, expected ${values[index]} (rtol ${tol.rtol}, atol ${tol.atol}; off by ${Math.abs(got[index]! - values[index]!)})`);
  }
}

export interface GradcheckResult {
  /** Largest |analytic − numeric| over all input elements. */
  maxAbsError: number;
  /** Largest |analytic − numeric| / max(1, |numeric|). */
  maxRelError: number;
  checked: number;
}

/**
 * Compares autograd with central finite differences for s(x) = Σ_k ⟨f(x)_k, R_k⟩, R_k fixed
 * random cotangents over the outputs autograd tracks: ∂s/∂x_j ≈ (s(x + εe_j) − s(x − εe_j)) / 2ε. Use float64 inputs.
 * Only floating inputs are differentiated, except those listed in `constant`.
 */
export function gradcheck(
  f: (inputs: Tensor[]) => Tensor[],
  inputs: readonly Tensor[],
  options: { eps?: number; seed?: number; /** indices of floating inputs held constant (buffers, not variables) */ constant?: readonly number[] } = {},
): GradcheckResult {
  const eps = options.eps ?? 1e-6;
  return tidy(() => {
    const variable = (x: Tensor, i: number) => x.dtype === 'float64' && !(options.constant ?? []).includes(i);
    const leaves = inputs.map((x, i) => (variable(x, i) ? x.detach().clone().requiresGrad_() : x));
    // Only outputs autograd tracks take part (e.g. batch norm's updated running statistics do not).
    const all = f(leaves);
    const tracked = all.map((o, k) => (o.dtype === 'float64' && o.requiresGrad ? k : -1)).filter((k) => k >= 0);
    const outputs = tracked.map((k) => all[k]!);
    const g = new Generator(options.seed ?? 0);
    const cotangents = outputs.map((o) => randn(o.shape, { dtype: 'float64', generator: g }));
    const s = (xs: Tensor[]): number =>
      tidy(() => {
        const ys = f(xs);
        return listDot(tracked.map((k) => ys[k]!), cotangents).item();
      });
    const diffIdx = leaves.map((x, i) => (variable(x, i) ? i : -1)).filter((i) => i >= 0);
    const analytic = grad([listDot(outputs, cotangents)], diffIdx.map((i) => leaves[i]!), { allowUnused: true });
    const work = inputs.map((x) => x.detach().clone());
    let maxAbsError = 0;
    let maxRelError = 0;
    let checked = 0;
    noGrad(() => {
      diffIdx.forEach((inputIndex, k) => {
        const view = work[inputIndex]!.dataView() as Float64Array;
        const exact = analytic[k] ? (analytic[k]!.data() as Float64Array) : new Float64Array(view.length);
        for (let j = 0; j < view.length; j++) {
          const x0 = view[j]!;
          view[j] = x0 + eps;
          const plus = s(work);
          view[j] = x0 - eps;
          const minus = s(work);
          view[j] = x0;
          const numeric = (plus - minus) / (2 * eps);
          const err = Math.abs(exact[j]! - numeric);
          maxAbsError = Math.max(maxAbsError, err);
          maxRelError = Math.max(maxRelError, err / Math.max(1, Math.abs(numeric)));
          checked++;
        }
      });
    });
    return { maxAbsError, maxRelError, checked };
  });
}

/**
 * For tests that compare CUDA with the CPU (files named *.cuda.test.ts): false where this process
 * sees a CUDA device, else the reason, for `test(name, { skip: skipWithoutCuda() }, …)` so that the
 * tally counts them as skipped.
 */
export function skipWithoutCuda(): string | false {
  const problem = deviceProblem('cuda');
  return problem === undefined ? false : `no CUDA device: ${problem}`;
}
