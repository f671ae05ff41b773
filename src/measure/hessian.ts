/**
 * Curvature of the objective from exact Hessian-vector products:
 *   topEigenvalues — Lanczos with full reorthogonalization (default), or power iteration with
 *                    deflation as PyHessian does it (Yao et al. 2020);
 *   hessianTrace    — Hutchinson's estimator tr H ≈ mean zᵀHz over Rademacher z, with its standard error;
 *   spectralDensity — stochastic Lanczos quadrature (Ghorbani et al. 2019; Lin et al. 2016).
 * Each result reports the Hessian-vector products it used.
 */
import * as T from '../tensor/index.js';
import { sampleStatistics } from '../theory/statistics.js';
import type { Objective } from './objective.js';
import { axpy, dot, gaussianLike, keepAll, norm, normalize, orthogonalize, rademacherLike, scale, type ParamVector } from './vectors.js';

export interface EigenResult {
  /** Largest eigenvalues, in decreasing order. */
  eigenvalues: number[];
  /** Matching unit eigenvectors (owned by the caller), if requested. */
  eigenvectors?: ParamVector[];
  /**
   * ‖Hu − λu‖ for each pair: Lanczos computes it with one more Hessian-vector product per pair
   * (counted in hvps); power iteration reports ‖H̃v − λv‖ at its last iterate v, H̃ the operator
   * deflated by the eigenvectors found before (= ‖Hv − λv‖ when v is orthogonal to them).
   */
  residuals: number[];
  iterations: number;
  hvps: number;
  method: 'lanczos' | 'power';
}

export interface EigenOptions {
  topK?: number;
  method?: 'lanczos' | 'power';
  /** Lanczos steps, or power iterations per eigenvalue. */
  maxIter?: number;
  /** Power iteration: stop when |λ − λ_prev| / (|λ_prev| + 1e-6) < tol. */
  tol?: number;
  seed?: number;
  returnEigenvectors?: boolean;
}

/** A symmetric linear operator on parameter vectors (H·v, C·v, …). */
export type SymmetricOperator = (v: ParamVector) => ParamVector;

/** The Lanczos tridiagonalization of an operator from a unit start vector, with full reorthogonalization. */
function lanczosBasis(apply: SymmetricOperator, start: ParamVector, steps: number): { alpha: number[]; beta: number[]; basis: ParamVector[] } {
  const basis: ParamVector[] = [keepAll(normalize(start))];
  const alpha: number[] = [];
  const beta: number[] = [];
  for (let j = 0; j < steps; j++) {
    const next = T.tidy(() => {
      const q = basis[j]!;
      let w = apply(q);
      const a = dot(w, q);
      alpha.push(a);
      // Full reorthogonalization, twice ("twice is enough", Parlett), keeps the basis orthonormal.
      w = orthogonalize(orthogonalize(w, basis), basis);
      const b = norm(w);
      if (j === steps - 1 || b < 1e-10 * Math.max(1, Math.abs(a))) return null;
      beta.push(b);
      return keepAll(scale(w, 1 / b));
    });
    if (next === null) break;
    basis.push(next);
  }
  return { alpha, beta, basis };
}

/** Eigen-decomposition of the symmetric tridiagonal matrix with diagonal α and off-diagonal β. */
function tridiagonalEigen(alpha: number[], beta: number[]): { values: number[]; vectors: number[][] } {
  return T.tidy(() => {
    const m = alpha.length;
    const rows = Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => (i === j ? alpha[i]! : Math.abs(i - j) === 1 ? beta[Math.min(i, j)]! : 0)));
    const { eigenvalues, eigenvectors } = T.eigh(T.tensor(rows, { dtype: 'float64' }));
    return { values: eigenvalues.toArray() as number[], vectors: eigenvectors.toArray() as number[][] };
  });
}

/** Lanczos steps when none are given: enough for the top k of a spectrum like a network Hessian's. */
export const lanczosSteps = (topK: number): number => Math.max(2 * topK + 20, 30);

export interface LanczosOptions {
  topK: number;
  maxIter: number;
  seed: number;
  returnEigenvectors: boolean;
  /** Compute the true residuals ‖Au − λu‖ (one more product with the operator per reported pair; default true). */
  residuals?: boolean;
}

/**
 * Top eigenpairs of any symmetric operator on vectors shaped like `like`, by Lanczos. The residuals
 * are the true ‖Au − λu‖ of each Ritz pair, from one more product with the operator, not the
 * a-posteriori estimate |β_m s_{m,i}| of exact arithmetic (Parlett 1998, §13.2), which in float32
 * prints values like 4e-27 while the true residual is orders of magnitude larger.
 */
export function lanczosTopEigen(apply: SymmetricOperator, like: readonly T.Tensor[], options: LanczosOptions): Omit<EigenResult, 'hvps' | 'method' | 'residuals'> & { residuals?: number[] } {
  const g = new T.Generator(options.seed);
  const n = like.reduce((s, p) => s + p.numel, 0);
  const steps = Math.min(options.maxIter, n);
  const { alpha, beta, basis } = T.tidy(() => lanczosBasis(apply, gaussianLike([...like], g), steps));
  try {
    const { values, vectors } = tridiagonalEigen(alpha, beta);
    const order = values.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, options.topK);
    const result: ReturnType<typeof lanczosTopEigen> = { eigenvalues: order.map(([v]) => v), iterations: alpha.length };
    const wantResiduals = options.residuals ?? true;
    if (!options.returnEigenvectors && !wantResiduals) return result;
    const eigenvectors: ParamVector[] = [];
    const residuals: number[] = [];
    for (const [value, i] of order) {
      // The Ritz vector u = Q s_i (unit, the basis being orthonormal).
      const u = keepAll(T.tidy(() => basis.reduce<ParamVector | null>((acc, q, j) => (acc === null ? scale(q, vectors[j]![i]!) : axpy(acc, q, vectors[j]![i]!)), null)!));
      if (wantResiduals) residuals.push(T.tidy(() => norm(axpy(apply(u), u, -value))));
      if (options.returnEigenvectors) eigenvectors.push(u);
      else T.dispose(u);
    }
    if (options.returnEigenvectors) result.eigenvectors = eigenvectors;
    if (wantResiduals) result.residuals = residuals;
    return result;
  } finally {
    for (const q of basis) T.dispose(q);
  }
}

function lanczosTop(objective: Objective, options: LanczosOptions): EigenResult {
  const before = objective.cost.hessianVectorProducts;
  const r = lanczosTopEigen((v) => objective.hessianVectorProduct(v), objective.params, { ...options, residuals: true });
  return { ...r, residuals: r.residuals!, hvps: objective.cost.hessianVectorProducts - before, method: 'lanczos' };
}

function powerTop(objective: Objective, options: Required<Omit<EigenOptions, 'method'>>): EigenResult {
  const before = objective.cost.hessianVectorProducts;
  const g = new T.Generator(options.seed);
  const found: ParamVector[] = [];
  const eigenvalues: number[] = [];
  const residuals: number[] = [];
  let iterations = 0;
  for (let k = 0; k < options.topK; k++) {
    let v = keepAll(T.tidy(() => normalize(gaussianLike(objective.params, g))));
    let lambda = NaN;
    let residual = NaN;
    for (let i = 0; i < options.maxIter; i++) {
      iterations++;
      const step = T.tidy(() => {
        const hv = objective.hessianVectorProduct(orthogonalize(v, found));
        const deflated = orthogonalize(hv, found);
        const value = dot(deflated, v);
        return { value, residual: norm(axpy(deflated, v, -value)), next: keepAll(normalize(deflated)) };
      });
      T.dispose(v);
      v = step.next;
      const previous = lambda;
      lambda = step.value;
      residual = step.residual;
      if (Number.isFinite(previous) && Math.abs(lambda - previous) / (Math.abs(previous) + 1e-6) < options.tol) break;
    }
    found.push(v);
    eigenvalues.push(lambda);
    residuals.push(residual);
  }
  const result: EigenResult = { eigenvalues, residuals, iterations, hvps: objective.cost.hessianVectorProducts - before, method: 'power' };
  if (options.returnEigenvectors) result.eigenvectors = found;
  else for (const v of found) T.dispose(v);
  return result;
}

/** The top-k eigenvalues (and optionally eigenvectors) of the Hessian of the objective. */
export function topEigenvalues(objective: Objective, options: EigenOptions = {}): EigenResult {
  const topK = options.topK ?? 1;
  if (!(Number.isInteger(topK) && topK >= 1)) throw new RangeError(`topK must be a positive integer, got ${topK}`);
  const common = { topK, seed: options.seed ?? 0, returnEigenvectors: options.returnEigenvectors ?? false };
  if ((options.method ?? 'lanczos') === 'power') return powerTop(objective, { ...common, maxIter: options.maxIter ?? 100, tol: options.tol ?? 1e-3 });
  return lanczosTop(objective, { ...common, maxIter: options.maxIter ?? lanczosSteps(topK) });
}

export interface TraceResult {
  trace: number;
  /** Standard error of the estimate: sample std of zᵀHz over √probes. */
  standardError: number;
  probes: number;
  hvps: number;
}

/** Hutchinson's trace estimator with Rademacher probes. */
export function hessianTrace(objective: Objective, options: { probes?: number; seed?: number } = {}): TraceResult {
  const probes = options.probes ?? 100;
  if (!(Number.isInteger(probes) && probes >= 2)) throw new RangeError(`probes must be an integer ≥ 2, got ${probes}`);
  const g = new T.Generator(options.seed ?? 0);
  const before = objective.cost.hessianVectorProducts;
  const samples: number[] = [];
  for (let k = 0; k < probes; k++) {
    samples.push(T.tidy(() => {
      const z = rademacherLike(objective.params, g);
      return dot(z, objective.hessianVectorProduct(z));
    }));
  }
  const { mean, standardError } = sampleStatistics(samples);
  return { trace: mean, standardError, probes, hvps: objective.cost.hessianVectorProducts - before };
}

export interface DensityResult {
  /** Gauss quadrature nodes θ and weights w of every probe (weights of a probe sum to 1). */
  quadrature: { nodes: number[]; weights: number[] }[];
  /** Spectral density smoothed with a Gaussian of width sigma, on a grid. */
  grid: number[];
  density: number[];
  sigma: number;
  hvps: number;
}

/** Stochastic Lanczos quadrature of the Hessian's spectral density (Ghorbani et al. 2019, §2). */
export function spectralDensity(objective: Objective, options: { probes?: number; steps?: number; seed?: number; gridPoints?: number; sigma?: number } = {}): DensityResult {
  const probes = options.probes ?? 1;
  const steps = options.steps ?? 80;
  const g = new T.Generator(options.seed ?? 0);
  const before = objective.cost.hessianVectorProducts;
  const quadrature: DensityResult['quadrature'] = [];
  for (let k = 0; k < probes; k++) {
    const { alpha, beta, basis } = T.tidy(() => lanczosBasis((v) => objective.hessianVectorProduct(v), rademacherLike(objective.params, g), steps));
    for (const q of basis) T.dispose(q);
    const { values, vectors } = tridiagonalEigen(alpha, beta);
    quadrature.push({ nodes: values, weights: vectors[0]!.map((s) => s * s) });
  }
  const all = quadrature.flatMap((q) => q.nodes);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const sigma = options.sigma ?? Math.max((hi - lo) * 0.01, 1e-8);
  const points = options.gridPoints ?? 400;
  const grid = Array.from({ length: points }, (_, i) => lo - 5 * sigma + ((hi - lo + 10 * sigma) * i) / (points - 1));
  const density = grid.map((t) =>
    quadrature.reduce((acc, q) => acc + q.nodes.reduce((s, node, j) => s + q.weights[j]! * Math.exp(-((t - node) ** 2) / (2 * sigma * sigma)), 0), 0) /
    (probes * sigma * Math.sqrt(2 * Math.PI)));
  return { quadrature, grid, density, sigma, hvps: objective.cost.hessianVectorProducts - before };
}
