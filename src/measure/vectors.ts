/**
 * Parameter-space vectors: a list of tensors shaped like a model's parameters, treated as one long
 * vector (n = total number of parameters). All functions leave their inputs unchanged unless the
 * name ends in `_`.
 */
import * as T from '../tensor/index.js';

export type ParamVector = T.Tensor[];

export const dot = (a: ParamVector, b: ParamVector): number => T.tidy(() => T.listDot(a, b).item());
export const norm = (a: ParamVector): number => T.tidy(() => T.listNorm(a).item());
export const clone = (a: ParamVector): ParamVector => T.noGrad(() => a.map((t) => t.detach().clone()));
export const scale = (a: ParamVector, s: number): ParamVector => T.noGrad(() => a.map((t) => t.mul(s)));
/** a + s·b */
export const axpy = (a: ParamVector, b: ParamVector, s: number): ParamVector => T.noGrad(() => a.map((t, i) => t.add(b[i]!, s)));
export function normalize(a: ParamVector): ParamVector {
  const n = norm(a);
  if (!(n > 0)) throw new Error('cannot normalize a zero vector');
  return scale(a, 1 / n);
}
export const size = (a: ParamVector): number => a.reduce((n, t) => n + t.numel, 0);

/** Standard normal entries, shaped like `like`. */
// Probes are drawn on the CPU's seeded generator and moved to each tensor's device: the same seed, the same probes anywhere.
export const gaussianLike = (like: ParamVector, g: T.Generator): ParamVector => like.map((t) => T.randn(t.shape, { generator: g, dtype: t.dtype, device: T.deviceOf(t) }));
/** Rademacher (±1) entries, shaped like `like` (Hutchinson 1989). */
export const rademacherLike = (like: ParamVector, g: T.Generator): ParamVector =>
  like.map((t) => T.tidy(() => T.randint(0, 2, t.shape, { generator: g, device: T.deviceOf(t) }).mul(2).sub(1).to(t.dtype)));

/** v minus its projections on orthonormal vectors (Gram–Schmidt). */
export function orthogonalize(v: ParamVector, basis: readonly ParamVector[]): ParamVector {
  let out = v;
  for (const u of basis) out = axpy(out, u, -dot(out, u));
  return out;
}

/** Keeps every tensor of a vector out of the enclosing tidy scopes. */
export const keepAll = (a: ParamVector): ParamVector => a.map((t) => T.keep(t));
