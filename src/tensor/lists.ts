/**
 * Operations on lists of tensors seen as one long vector — a model's parameters, a gradient,
 * a direction in parameter space. The measurements (Hessian-vector products, noise statistics,
 * sharpness) work on these.
 */
import { N, Tensor, handleOf, run, wrap } from './tensor.js';

const handles = (op: string, name: string, xs: readonly Tensor[]) => xs.map((x, i) => handleOf(op, `${name}[${i}]`, x));

/** Σ_i ⟨x_i, y_i⟩ as a 0-dim tensor (differentiable). */
export const listDot = (xs: readonly Tensor[], ys: readonly Tensor[]): Tensor =>
  run('listDot', [xs, ys], () => wrap(N.listDot(handles('listDot', 'xs', xs), handles('listDot', 'ys', ys))));
/** The p-norm of all entries together (differentiable). */
export const listNorm = (xs: readonly Tensor[], p = 2): Tensor => run('listNorm', [xs, p], () => wrap(N.listNorm(handles('listNorm', 'xs', xs), p)));
/** x_i += alpha·y_i for every i. */
export function listAdd_(xs: readonly Tensor[], ys: readonly Tensor[], alpha = 1): void {
  run('listAdd_', [xs, ys, alpha], () => N.listAdd_(handles('listAdd_', 'xs', xs), handles('listAdd_', 'ys', ys), alpha));
}
/** x_i *= s for every i. */
export function listMul_(xs: readonly Tensor[], s: number): void {
  run('listMul_', [xs, s], () => N.listMul_(handles('listMul_', 'xs', xs), s));
}
/** x_i ← y_i for every i. */
export function listCopy_(xs: readonly Tensor[], ys: readonly Tensor[]): void {
  run('listCopy_', [xs, ys], () => N.listCopy_(handles('listCopy_', 'xs', xs), handles('listCopy_', 'ys', ys)));
}
