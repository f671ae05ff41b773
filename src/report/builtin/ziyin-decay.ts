/**
 * The ziyin study's weight-decay experiments (Ziyin et al. 2022, Fig. 1 right): the test loss over the
 * weight decay γ, mean ± standard error over seeds, with the best γ and the range of γ that the seeds
 * cannot tell from it. Two settings: logistic regression on MNIST at λ = 1.5, S = 32 (the paper's), and
 * 1-D label-noise regression at the same λ and S, where the exact stationary test loss (theory/ziyin.ts
 * regularized1d) puts the optimum at a negative γ whenever 1 < λa < 2S/(S + 2).
 */
import type { TopLevelSpec } from 'vega-lite';
import { optimalWeightDecay1d, optimalWeightDecayIsNegative, regularized1d, sampleStatistics } from '../../theory/index.js';
import type { StoredTrial } from '../../study/index.js';
import { fullFluctuations } from '../../study/records.js';
import type { Figure } from '../figures.js';

export interface DecayPoint {
  weightDecay: number;
  mean: number;
  standardError: number;
  n: number;
}

export interface BestWeightDecay {
  weightDecay: number;
  mean: number;
  standardError: number;
  /**
   * The smallest and largest γ whose mean lies within one standard error of the difference from the best
   * (√(se_γ² + se_best²)): the error bar of the best γ. Its lower end is the best γ when nothing else is that close.
   */
  range: [number, number];
  /** Whether γ = 0 is in the grid and outside `range` with the best γ negative: a negative optimum the seeds resolve. */
  negativeResolved: boolean;
  /** Whether the best γ is the grid's smallest or largest (of more than one): the optimum may lie beyond it. */
  onEdge: boolean;
}

/** Mean ± standard error of `value` per weight decay (one value per seed), sorted by γ. */
export function decayPoints(values: readonly { weightDecay: number; value: number }[]): DecayPoint[] {
  const byDecay = new Map<number, number[]>();
  for (const v of values) if (Number.isFinite(v.value)) byDecay.set(v.weightDecay, [...(byDecay.get(v.weightDecay) ?? []), v.value]);
  return [...byDecay].map(([weightDecay, xs]) => {
    const s = sampleStatistics(xs);
    return { weightDecay, mean: s.mean, standardError: s.standardError, n: s.n };
  }).sort((a, b) => a.weightDecay - b.weightDecay);
}

/** The γ of least mean and the γ the seeds cannot tell from it (see BestWeightDecay). */
export function bestWeightDecay(points: readonly DecayPoint[]): BestWeightDecay | undefined {
  if (points.length === 0) return undefined;
  const best = points.reduce((a, b) => (b.mean < a.mean ? b : a));
  const close = points.filter((p) => p.mean - best.mean <= Math.hypot(p.standardError, best.standardError));
  const range: [number, number] = [Math.min(...close.map((p) => p.weightDecay)), Math.max(...close.map((p) => p.weightDecay))];
  const hasZero = points.some((p) => p.weightDecay === 0);
  const onEdge = points.length > 1 && (best === points[0] || best === points[points.length - 1]);
  return { weightDecay: best.weightDecay, mean: best.mean, standardError: best.standardError, range, negativeResolved: hasZero && best.weightDecay < 0 && range[1] < 0, onEdge };
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const decayOf = (t: StoredTrial) => t.config.optimizer.weightDecay ?? 0;

/**
 * γ on an axis with ticks at the grid's values: in 1e-4 style for the MNIST grid (2.5e-5 prints as 0.000025
 * otherwise) with 0 as "0" (not "0e+0"), plain for the regression's. The MNIST grid is geometric on each
 * side of 0 (±2.5e-5 … ±8e-4), so its axis is symmetric-logarithmic, linear within its least |γ| of 0:
 * on a linear axis the points near 0 would crowd into one tick.
 */
const gammaAxis = (title: string, grid: readonly number[] = []) => {
  const exponent = Math.max(...grid.map(Math.abs), 0) < 1e-3;
  const least = Math.min(...grid.filter((g) => g !== 0).map(Math.abs));
  return {
    field: 'weightDecay', type: 'quantitative' as const, title,
    ...(exponent && Number.isFinite(least) ? { scale: { type: 'symlog' as const, constant: least } } : {}),
    axis: {
      ...(grid.length > 0 ? { values: [...grid] } : {}), labelAngle: -45, labelOverlap: false,
      ...(exponent ? { labelExpr: "datum.value === 0 ? '0' : format(datum.value, '.2~e')" } : { format: '~g' }),
    },
  };
};

/** A y scale for means that span more than a factor of 30 (a runaway point would flatten the rest): log, else linear without zero. */
const meanScale = (points: readonly DecayPoint[]) => {
  const lows = points.map((p) => p.mean - p.standardError);
  return Math.min(...lows) > 0 && Math.max(...points.map((p) => p.mean)) > 30 * Math.min(...points.map((p) => p.mean)) ? { type: 'log' as const } : { zero: false };
};

/** Points ± 1 standard error, the best γ as a red diamond with its range as a horizontal bar, and optional theory lines. */
function decayLayers(points: readonly DecayPoint[], best: BestWeightDecay, yTitle: string, theory: { weightDecay: number; value: number }[] = [], title = 'weight decay γ'): object[] {
  const x = gammaAxis(title, points.map((p) => p.weightDecay));
  const values = points.map((p) => ({ ...p, lo: p.mean - p.standardError, hi: p.mean + p.standardError }));
  const y = { field: 'mean', type: 'quantitative' as const, scale: meanScale(points), title: yTitle };
  return [
    ...(theory.length > 0 ? [{
      data: { values: theory }, mark: { type: 'line' as const, color: '#888', strokeDash: [5, 3] },
      encoding: { x: x, y: { field: 'value', type: 'quantitative' as const, scale: y.scale, title: yTitle } },
    }] : []),
    { data: { values }, mark: { type: 'line' as const, point: true }, encoding: { x: x, y } },
    { data: { values }, mark: 'errorbar' as const, encoding: { x: x, y: { field: 'lo', type: 'quantitative' as const, scale: y.scale, title: yTitle }, y2: { field: 'hi' } } },
    {
      data: { values: [{ weightDecay: best.range[0], weightDecay2: best.range[1], mean: best.mean }] }, mark: { type: 'rule' as const, color: '#d62728', strokeWidth: 2 },
      encoding: { x: x, x2: { field: 'weightDecay2' }, y },
    },
    {
      data: { values: [best] }, mark: { type: 'point' as const, shape: 'diamond', size: 140, color: '#d62728', filled: true },
      encoding: { x: x, y },
    },
    { data: { values: [{ weightDecay: 0 }] }, mark: { type: 'rule' as const, color: '#bbb', strokeDash: [2, 2] }, encoding: { x: x } },
  ];
}

const verdict = (b: BestWeightDecay) => `best γ = ${b.weightDecay.toPrecision(3)} (seeds cannot tell γ in [${b.range[0].toPrecision(3)}, ${b.range[1].toPrecision(3)}] from it, red bar)`
  + (b.negativeResolved ? ': a negative optimum, resolved from γ = 0' : b.weightDecay < 0 ? ': negative, but not resolved from γ = 0' : ': not negative')
  + (b.onEdge ? ', at the edge of the grid (the optimum may lie beyond it)' : '');

/**
 * The trials that did not complete, per γ and status, with the test error of those that still have one: a
 * run stopped for its training loss (the weights' runaway at γ < 0) may still classify well, since the
 * predicted class depends only on the direction of the weights.
 */
function failedText(failed: readonly StoredTrial[]): string {
  const groups = new Map<string, StoredTrial[]>();
  for (const t of failed) groups.set(`γ = ${decayOf(t)}: ${t.status}`, [...(groups.get(`γ = ${decayOf(t)}: ${t.status}`) ?? []), t]);
  return [...groups].map(([label, ts]) => {
    const errors = ts.flatMap((t) => (t.result?.test?.accuracy == null ? [] : [100 * (1 - t.result.test.accuracy)]));
    return errors.length === 0 ? label : `${label}, test error ${sampleStatistics(errors).mean.toFixed(2)}% (n = ${errors.length})`;
  }).join('; ');
}

/** The MNIST logistic-regression trials at λ = 1.5, S = 32: test loss and test accuracy (lower error = 1 − accuracy) over γ. */
export function mnistDecayFigure(trials: readonly StoredTrial[]): Figure | undefined {
  const decay = trials.filter((t) => t.config.model.name === 'logistic-regression' && t.status === 'completed' && t.result?.test);
  if (decay.length === 0) return undefined;
  const loss = decayPoints(decay.map((t) => ({ weightDecay: decayOf(t), value: t.result!.test!.loss ?? NaN })));
  const error = decayPoints(decay.filter((t) => t.result!.test!.accuracy != null).map((t) => ({ weightDecay: decayOf(t), value: 100 * (1 - t.result!.test!.accuracy!) })));
  const bestLoss = bestWeightDecay(loss)!;
  const bestError = bestWeightDecay(error);
  const c = decay[0]!.config;
  const failed = trials.filter((t) => t.config.model.name === 'logistic-regression' && t.status !== 'completed' && t.status !== 'pending' && t.status !== 'running');
  const seeds = Math.max(...loss.map((p) => p.n));
  return {
    id: 'ziyin-weight-decay', title: `Test loss vs weight decay (logistic regression on MNIST, λ = ${c.optimizer.lr}, S = ${String(c.batchSize)})`,
    caption: `Mean ± 1 standard error over ${seeds} seed(s) at the end of training. Test loss: ${verdict(bestLoss)}.`
      + (bestError ? ` Test error: ${verdict(bestError)}.` : '')
      + ' Ziyin et al. report a negative optimal γ here; a negative γ makes the penalized loss unbounded below, so the weights grow like e^{λ|γ|t} and the grid stays at small |γ|.'
      + (failed.length > 0 ? ` ${failed.length} trial(s) did not complete (${failedText(failed)}).` : ''),
    spec: {
      $schema: SCHEMA, title: 'Test loss and test error vs γ',
      hconcat: [
        { width: 300, height: 220, title: 'test loss', layer: decayLayers(loss, bestLoss, 'test loss') },
        ...(bestError ? [{ width: 300, height: 220, title: 'test error (%)', layer: decayLayers(error, bestError, 'test error (%)') }] : []),
      ],
    } as TopLevelSpec,
  };
}

type LR = { dim: number; covariance: number[]; teacher: number[]; labelNoise: number };

export interface RegressionDecayRow { weightDecay: number; key: string; measured: number; exact: number }

/**
 * The 1-D label-noise regression trials at the weight-decay grid's λ and S: the measured excess test loss
 * ½a(Var w + (E w − u)²) at stationarity against regularized1d's exact value, per trial. Trials without
 * weight decay at that (λ, S) are its γ = 0 points.
 */
export function regressionDecayRows(trials: readonly StoredTrial[], lr: number, batchSize: number): RegressionDecayRow[] {
  const withDecay = trials.some((t) => t.config.data.name === 'linear-regression' && (t.config.optimizer.weightDecay ?? 0) !== 0);
  if (!withDecay) return [];
  return trials.flatMap((t) => {
    const d = t.config.data.linearRegression as LR | undefined;
    const f = fullFluctuations(t.result);
    if (t.config.model.name !== 'linear-regression' || d?.dim !== 1 || t.config.optimizer.lr !== lr || t.config.batchSize !== batchSize || t.status !== 'completed' || !f) return [];
    const a = d.covariance[0]!;
    const u = d.teacher[0]!;
    const exact = regularized1d({ a, noiseVariance: d.labelNoise ** 2, teacher: u, batchSize, learningRate: lr, weightDecay: decayOf(t) });
    return [{ weightDecay: decayOf(t), key: t.key, measured: 0.5 * a * (f.weightVariance[0]! + (f.weightMean[0]! - u) ** 2), exact: exact.testLoss }];
  }).sort((x, y) => x.weightDecay - y.weightDecay);
}

/** The regression trials with weight decay, at their (λ, S), with that (λ, S)'s unregularized trials as γ = 0. */
export function regressionDecayFigure(trials: readonly StoredTrial[]): Figure | undefined {
  const first = trials.find((t) => t.config.data.name === 'linear-regression' && (t.config.optimizer.weightDecay ?? 0) !== 0 && typeof t.config.batchSize === 'number');
  if (!first) return undefined;
  const [lr, batchSize] = [first.config.optimizer.lr, first.config.batchSize as number];
  const rows = regressionDecayRows(trials, lr, batchSize);
  if (rows.length === 0) return undefined;
  const points = decayPoints(rows.map((r) => ({ weightDecay: r.weightDecay, value: r.measured })));
  const best = bestWeightDecay(points)!;
  const d = trials.find((t) => t.key === rows[0]!.key)!.config.data.linearRegression as LR;
  const a = d.covariance[0]!;
  const p = { a, noiseVariance: d.labelNoise ** 2, teacher: d.teacher[0]!, batchSize, learningRate: lr };
  const [lo, hi] = [points[0]!.weightDecay, points[points.length - 1]!.weightDecay];
  const theory = Array.from({ length: 81 }, (_, k) => lo + ((hi - lo) * k) / 80).map((g) => ({ weightDecay: g, value: regularized1d({ ...p, weightDecay: g }).testLoss }));
  const optimum = optimalWeightDecay1d(p);
  return {
    id: 'ziyin-weight-decay-regression', title: `Test loss vs weight decay where theory puts the optimum below 0 (1-D label-noise regression, λ = ${lr}, S = ${batchSize}, a = ${a})`,
    caption: `Measured excess test loss ½a(Var w + (E w − u)²) at stationarity, mean ± 1 standard error over ${Math.max(...points.map((q) => q.n))} seeds; `
      + `dashed: the exact stationary value (theory/ziyin.ts regularized1d), whose optimum is γ* = ${optimum.weightDecay.toFixed(3)}. `
      + `λa = ${lr * a} is ${optimalWeightDecayIsNegative(a, batchSize, lr) ? 'inside' : 'outside'} 1 < λa < 2S/(S + 2) = ${((2 * batchSize) / (batchSize + 2)).toFixed(3)}, where the optimal γ is negative. Measured: ${verdict(best)}.`,
    spec: { $schema: SCHEMA, title: 'Excess test loss vs γ', width: 380, height: 240, layer: decayLayers(points, best, 'excess test loss', theory) } as TopLevelSpec,
  };
}
