/**
 * Gradient-noise closed forms used across the batch-size literature (SCIENCE.md §2, §4, §5).
 */

/** Qian & Klabjan 2020: E‖g_b‖² = ‖∇L‖² + tr(Σ₁)/b with replacement, tr(Σ₁)(N − b)/(b(N − 1)) without. */
export function minibatchGradientSecondMoment(gradNormSq: number, traceSigma: number, b: number, n: number, replacement: boolean): number {
  return gradNormSq + minibatchGradientVariance(traceSigma, b, n, replacement);
}
/** The variance part alone: tr Cov(g_b). Σ₁ is the per-example gradient covariance with 1/N normalization. */
export function minibatchGradientVariance(traceSigma: number, b: number, n: number, replacement: boolean): number {
  if (replacement) return traceSigma / b;
  if (n <= 1) return 0;
  return (traceSigma * (n - b)) / (b * (n - 1));
}

/**
 * SGD temperature (Smith, Elsen & De 2020): T = ε(N − B)/(B(N − 1)), divided by (1 − m) with momentum m.
 * N = Infinity gives the limit ε/B/(1 − m) (an infinite or unknown training set).
 */
export const sgdTemperature = (lr: number, b: number, n: number, momentum = 0): number => (Number.isFinite(n) ? (lr * (n - b)) / (b * (n - 1)) : lr / b) / (1 - momentum);
/** Noise scale of Smith & Le 2018: g = ε(N/B − 1). */
export const noiseScale = (lr: number, b: number, n: number): number => lr * (n / b - 1);
/** Linear stability of SGD on a 1-D quadratic with curvature a and per-example gradient spread s: (1 − εa)² + ε²s²/B ≤ 1. */
export const linearlyStable = (lr: number, a: number, s: number, b: number): boolean => (1 - lr * a) ** 2 + (lr * lr * s * s) / b <= 1;

/** McCandlish et al. 2018: ε_opt(B) = ε_max / (1 + B_noise/B). */
export const optimalLearningRate = (lrMax: number, bNoise: number, b: number): number => lrMax / (1 + bNoise / b);
/** Steps needed for a given number of examples processed: (S/S_min − 1)(E/E_min − 1) = 1 ⇒ S = S_min(1 + 1/(E/E_min − 1)). */
export const stepsForExamples = (examples: number, sMin: number, eMin: number): number => (examples <= eMin ? Infinity : sMin * (1 + 1 / (examples / eMin - 1)));
/** The critical batch size B_crit = E_min / S_min. */
export const criticalBatchSize = (sMin: number, eMin: number): number => eMin / sMin;

/**
 * McCandlish's unbiased two-batch estimators from the squared norms of two minibatch gradients:
 * |G|² ≈ (B_big|G_big|² − B_small|G_small|²)/(B_big − B_small),
 * tr Σ ≈ (|G_small|² − |G_big|²)/(1/B_small − 1/B_big).
 */
export function twoBatchEstimates(small: { b: number; normSq: number }, big: { b: number; normSq: number }): { gradNormSq: number; traceSigma: number; bSimple: number } {
  const gradNormSq = (big.b * big.normSq - small.b * small.normSq) / (big.b - small.b);
  const traceSigma = (small.normSq - big.normSq) / (1 / small.b - 1 / big.b);
  return { gradNormSq, traceSigma, bSimple: traceSigma / gradNormSq };
}
