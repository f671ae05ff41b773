/** Summary statistics of a sample: one definition for every mean ± std and mean ± standard error sgdlab prints. */

export interface SampleStatistics {
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator; 0 for a single value). */
  std: number;
  /** std / √n: the standard error of the mean. */
  standardError: number;
  n: number;
}

export function sampleStatistics(xs: readonly number[]): SampleStatistics {
  const n = xs.length;
  if (n === 0) return { mean: NaN, std: NaN, standardError: NaN, n: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, standardError: std / Math.sqrt(n), n };
}

/**
 * The ordinary least-squares slope of y on x, Σ(x − x̄)(y − ȳ) / Σ(x − x̄)²: NaN with fewer than two
 * distinct x.
 */
/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function leastSquaresSlope(points: readonly { x: number; y: number }[]): number {
  const x = sampleStatistics(points.map((p) => p.x)).mean;
  const y = sampleStatistics(points.map((p) => p.y)).mean;
  const sxx = points.reduce((a, p) => a + (p.x - x) ** 2, 0);
  return sxx > 0 ? points.reduce((a, p) => a + (p.x - x) * (p.y - y), 0) / sxx : NaN;
}
