/**
 * Label-noise linear regression with L2 regularization (Ziyin et al. 2022, §5): loss
 * ½(wᵀx − y)² + ½wᵀΓw, x ~ N(0, A), y = uᵀx + ε, Var ε = σ². With K = A + Γ the minimum is
 * w* = K⁻¹Au; write r = w* − u. For Gaussian x (Isserlis' theorem) the minibatch noise at
 * stationarity is
 *   C = (1/S)[A(Σ + rrᵀ)A + Tr(A(Σ + rrᵀ))A + σ²A],
 * which depends on Σ, so Σ solves the generalized Lyapunov equation (lyapunov.ts) with H = K and
 * this C, by fixed-point iteration. With Γ = 0 it is the unregularized closed form (ziyin.ts).
 *   test loss = ½ Tr(A(Σ + rrᵀ))   (excess over the noise floor, as in ziyin.ts),
 * and the optimal weight decay minimizes it; at a large learning rate it can be negative.
 */
import { add, identity, inverse, matmul, scale, trace, type Matrix } from './linalg.js';
import { solveGeneralizedLyapunov } from './lyapunov.js';

export interface RegularizedProblem {
  /** Input covariance A. */
  A: Matrix;
  /** Teacher u. */
  teacher: number[];
  noiseVariance: number;
  batchSize: number;
  learningRate: number;
  momentum?: number;
  /** Γ = γI. */
  weightDecay: number;
}

export interface RegularizedSolution {
  stable: boolean;
  /** w* = (A + Γ)⁻¹Au. */
  minimum: number[];
  /** Cov(w) at stationarity. */
  sigma: Matrix;
  testLoss: number;
  iterations: number;
}

export function regularizedLabelNoise(p: RegularizedProblem, options: { maxIter?: number; tol?: number } = {}): RegularizedSolution {
  const d = p.A.length;
  const K = add(p.A, scale(identity(d), p.weightDecay));
  const u = p.teacher.map((v) => [v]);
  const wStar = matmul(matmul(inverse(K), p.A), u);
  const r = wStar.map((row, i) => [row[0]! - u[i]![0]!]);
  const rrT = matmul(r, [r.map((row) => row[0]!)]);
  const lr = scale(identity(d), p.learningRate);
  let sigma: Matrix = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  let iterations = 0;
  let stable = true;
  const maxIter = options.maxIter ?? 2000;
  const tol = options.tol ?? 1e-13;
  for (; iterations < maxIter; iterations++) {
    const m = add(sigma, rrT);
    const C = scale(add(add(matmul(matmul(p.A, m), p.A), scale(p.A, trace(matmul(p.A, m)))), scale(p.A, p.noiseVariance)), 1 / p.batchSize);
    const next = solveGeneralizedLyapunov(K, C, lr, p.momentum ?? 0);
    const change = Math.max(...next.flatMap((row, i) => row.map((v, j) => Math.abs(v - sigma[i]![j]!))));
    const size = Math.max(...next.flatMap((row) => row.map(Math.abs)), 1e-300);
    sigma = next;
    if (!Number.isFinite(size) || next.some((row, i) => row[i]! < 0) || size > 1e12) {
      stable = false;
      break;
    }
    if (change <= tol * size) break;
  }
  if (iterations === maxIter) stable = false;
  const testLoss = stable ? 0.5 * trace(matmul(p.A, add(sigma, rrT))) : Infinity;
  return { stable, minimum: wStar.map((row) => row[0]!), sigma, testLoss, iterations };
}

/** The weight decay γ on a grid that minimizes the stationary test loss, with the whole curve. */
export function optimalWeightDecay(p: Omit<RegularizedProblem, 'weightDecay'>, gammas: number[]): { weightDecay: number; testLoss: number; curve: { weightDecay: number; testLoss: number }[] } {
  const curve = gammas.map((g) => ({ weightDecay: g, testLoss: regularizedLabelNoise({ ...p, weightDecay: g }).testLoss }));
  const best = curve.reduce((a, b) => (b.testLoss < a.testLoss ? b : a));
  return { weightDecay: best.weightDecay, testLoss: best.testLoss, curve };
}
