/**
 * Downsampling of learning curves for display: a trial can store far more rows than a screen has
 * pixels. Min/max decimation (as in M4, Jugel et al. 2014, "M4: a visualization-oriented time
 * series data aggregation", VLDB): the steps are cut into equal-width buckets and each bucket keeps
 * its first, minimum, maximum and last point, so spikes (a divergence, a loss jump) survive and the
 * drawn line is the same at the chart's resolution. Points keep their order.
 */
export interface StepValue {
  step: number;
  value: number;
}

/** At most about `maxPoints` points of one series (sorted by step), with every bucket's extremes. */
export function minMaxDecimate<T extends StepValue>(points: readonly T[], maxPoints: number): T[] {
  if (points.length <= maxPoints || maxPoints < 4) return points.slice();
  const buckets = Math.max(1, Math.floor(maxPoints / 4));
  const first = points[0]!.step;
  const span = points.at(-1)!.step - first || 1;
  const out: T[] = [];
  let start = 0;
  for (let b = 0; b < buckets && start < points.length; b++) {
    const end = b === buckets - 1 ? points.length : upperBound(points, first + ((b + 1) * span) / buckets, start);
    if (end > start) {
      let lo = start;
      let hi = start;
      for (let i = start + 1; i < end; i++) {
        if (points[i]!.value < points[lo]!.value) lo = i;
        if (points[i]!.value > points[hi]!.value) hi = i;
      }
      // first, min, max, last of the bucket, in step order, each once
      for (const i of [...new Set([start, lo, hi, end - 1])].sort((x, y) => x - y)) out.push(points[i]!);
    }
    start = end;
  }
  return out;
}

/** The first index at or after `from` whose step is ≥ `limit` (steps sorted). */
function upperBound(points: readonly StepValue[], limit: number, from: number): number {
  let lo = from;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]!.step < limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
