/**
 * Exact minibatch-SGD noise near a minimum: Ziyin, Liu, Mori & Ueda, "Strength of Minibatch Noise
 * in SGD", ICLR 2022. Label-noise linear regression: x ~ N(0, A), y = uᵀx + ε, Var ε = σ², loss
 * ½(wᵀx − y)², batch size S, learning rate λ (a scalar: Λ = λI), momentum μ, with replacement.
 * Formulas (SCIENCE.md §3, the paper's Theorem 2 and its corollaries), in A's eigenbasis where
 * they are diagonal:
 *   G = 2(1−μ)I − ((1−μ)/(1+μ) + 1/S)ΛA,   κ = Tr[ΛAG⁻¹] / (1 − Tr[ΛAG⁻¹]/S),
 *   Σ = (σ²/S)(1 + κ/S) ΛG⁻¹,   training loss = (σ²/2)(1 + κ/S),   test loss = σ²κ/(2S),
 *   C = (1/S)(AΣA + Tr[AΣ]A + σ²A).
 */
import { add, matmul, scale, trace, type Matrix } from './linalg.js';

export interface LabelNoiseProblem {
  /** Eigenvalues a_i of the input covariance A (Σ and C below are in A's eigenbasis). */
  eigenvalues: number[];
  /** Label-noise variance σ². */
  noiseVariance: number;
  batchSize: number;
  learningRate: number;
  momentum?: number;
}

export interface LabelNoiseSolution {
  /** Whether the stationary distribution exists (all g_i > 0 and Tr[ΛAG⁻¹] < S). */
  stable: boolean;
  kappa: number;
  /** Diagonal of the weight covariance Σ = Cov(w) at stationarity. */
  sigma: number[];
  trainingLoss: number;
  testLoss: number;
  /** The gradient-noise covariance C (diagonal). */
  noise: number[];
}

export function labelNoiseRegression(p: LabelNoiseProblem): LabelNoiseSolution {
  const { eigenvalues: a, noiseVariance: s2, batchSize: S, learningRate: lr } = p;
  const mu = p.momentum ?? 0;
  const g = a.map((ai) => 2 * (1 - mu) - ((1 - mu) / (1 + mu) + 1 / S) * lr * ai);
  const t = a.reduce((acc, ai, i) => acc + (lr * ai) / g[i]!, 0);
  const stable = g.every((gi) => gi > 0) && t < S;
  const kappa = t / (1 - t / S);
  const sigma = g.map((gi) => (s2 / S) * (1 + kappa / S) * (lr / gi));
  const trAS = a.reduce((acc, ai, i) => acc + ai * sigma[i]!, 0);
  const noise = a.map((ai, i) => (ai * ai * sigma[i]! + trAS * ai + s2 * ai) / S);
  return { stable, kappa, sigma: stable ? sigma : sigma.map(() => Infinity), trainingLoss: stable ? (s2 / 2) * (1 + kappa / S) : Infinity, testLoss: stable ? (s2 * kappa) / (2 * S) : Infinity, noise };
}

/** 1-D, no momentum: Σ = λσ²/(2S − λa(S + 2)). */
export const sigma1d = (a: number, noiseVariance: number, batchSize: number, learningRate: number): number => {
  const d = 2 * batchSize - learningRate * a * (batchSize + 2);
  return d > 0 ? (learningRate * noiseVariance) / d : Infinity;
};
/** The continuous-time (SDE) prediction the paper corrects: Σ = λσ²/(2S). */
export const sigma1dContinuous = (noiseVariance: number, batchSize: number, learningRate: number): number => (learningRate * noiseVariance) / (2 * batchSize);
/** The learning rate at which the 1-D variance diverges: λa = 2S/(S + 2). */
export const divergenceLearningRate = (a: number, batchSize: number): number => (2 * batchSize) / ((batchSize + 2) * a);
/** Tail index of the 1-D stationary distribution in discrete time: β = 2S/(aλ) − S. */
export const tailIndex = (a: number, batchSize: number, learningRate: number): number => (2 * batchSize) / (a * learningRate) - batchSize;
/** The stability condition Σ_i 1/(2/(λa_i) − 1 + 1/S) < S (the paper's width discussion). */
export function isStable(eigenvalues: number[], batchSize: number, learningRate: number): boolean {
  return eigenvalues.reduce((s, a) => s + 1 / (2 / (learningRate * a) - 1 + 1 / batchSize), 0) < batchSize;
}

/** Noise covariance C = (1/S)(AΣA + Tr[AΣ]A + σ²A) for full matrices. */
export function labelNoiseCovariance(A: Matrix, sigma: Matrix, noiseVariance: number, batchSize: number): Matrix {
  const aSa = matmul(matmul(A, sigma), A);
  return scale(add(add(aSa, scale(A, trace(matmul(A, sigma)))), scale(A, noiseVariance)), 1 / batchSize);
}

/**
 * 1-D label-noise regression with weight decay γ (loss ½(wx − y)² + ½γw², x ~ N(0, a), y = ux + ε,
 * Var ε = σ²), no momentum, closed form. With k = a + γ the minimum is w* = au/k, r = w* − u = −γu/k.
 * Given w, the minibatch gradient's noise has variance (1/S)[2a²(w − u)² + aσ²] (Isserlis: Var x² = 2a²),
 * and E(w − u)² = Σ + r² at stationarity, so Σ = (1 − λk)²Σ + (λ²/S)[2a²(Σ + r²) + aσ²], i.e.
 *   Σ = λ(2a²r² + aσ²) / (S(2k − λk²) − 2λa²),   excess test loss = ½a(Σ + r²)
 * (the 1-D case of regularized.ts's Lyapunov fixed point; at γ = 0 it is sigma1d).
 */
export interface WeightDecay1d { a: number; noiseVariance: number; teacher: number; batchSize: number; learningRate: number; weightDecay: number }

export function regularized1d(p: WeightDecay1d): { stable: boolean; minimum: number; sigma: number; testLoss: number } {
  const { a, noiseVariance: s2, teacher: u, batchSize: S, learningRate: lr, weightDecay: g } = p;
  const k = a + g;
  const r = (-g * u) / k;
  const denominator = S * (2 * k - lr * k * k) - 2 * lr * a * a;
  const stable = k > 0 && denominator > 0;
  const sigma = stable ? (lr * (2 * a * a * r * r + a * s2)) / denominator : Infinity;
  return { stable, minimum: (a * u) / k, sigma, testLoss: stable ? 0.5 * a * (sigma + r * r) : Infinity };
}

/**
 * Whether the weight decay that minimizes the stationary test loss is negative (1-D, no momentum). At
 * γ = 0 the bias r² is second order in γ, and dΣ/dγ = 2SΣ(λa − 1)/(S(2a − λa²) − 2λa²): positive exactly
 * when λa > 1. So inside the stable range λa < 2S/(S + 2) the optimal γ is negative iff λa > 1 — past the
 * learning rate at which the iterates start to overshoot, a smaller curvature a + γ (nearer 1/λ) damps the
 * fluctuation more than the bias it adds costs. The condition depends on S only through the stability edge,
 * and on the data only through λa: scaling the inputs by c multiplies a by c², the same as multiplying λ by c².
 */
export function optimalWeightDecayIsNegative(a: number, batchSize: number, learningRate: number): boolean {
  return learningRate * a > 1 && learningRate * a < (2 * batchSize) / (batchSize + 2);
}

/**
 * The test-loss-minimizing weight decay of regularized1d, by golden-section search on (γ_lo, γ_hi)
 * (the loss is smooth and unimodal there for the stable range; γ_lo > −a keeps the curvature positive).
 */
export function optimalWeightDecay1d(p: Omit<WeightDecay1d, 'weightDecay'>, range: { lo: number; hi: number } = { lo: -0.9 * p.a, hi: p.a }, tol = 1e-9): { weightDecay: number; testLoss: number } {
  const f = (g: number) => regularized1d({ ...p, weightDecay: g }).testLoss;
  const phi = (Math.sqrt(5) - 1) / 2;
  let [lo, hi] = [range.lo, range.hi];
  let x1 = hi - phi * (hi - lo);
  let x2 = lo + phi * (hi - lo);
  let [f1, f2] = [f(x1), f(x2)];
  while (hi - lo > tol) {
    if (f1 <= f2) {
      [hi, x2, f2] = [x2, x1, f1];
      x1 = hi - phi * (hi - lo);
      f1 = f(x1);
    } else {
      [lo, x1, f1] = [x1, x2, f2];
      x2 = lo + phi * (hi - lo);
      f2 = f(x2);
    }
  }
  const weightDecay = (lo + hi) / 2;
  return { weightDecay, testLoss: f(weightDecay) };
}
