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
