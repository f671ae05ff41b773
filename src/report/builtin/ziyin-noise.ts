/**
 * The ziyin study's noise covariance C (Ziyin et al. 2022, Lemma 1 / Theorem 3): the per-example gradient
 * covariance measured at the end of each label-noise-regression trial (measure `noise`: tr Σ₁ = S·tr C over
 * the training examples, measure/noise.ts) against the exact C at the trial's measured fluctuation Σ,
 *   S·C = AMA + Tr[AM]A + σ²A,   M = E(w − u)(w − u)ᵀ = Σ + (w̄ − u)(w̄ − u)ᵀ
 * (theory/ziyin.ts labelNoiseCovariance; the (w̄ − u) term carries a weight decay's bias), and the
 * Hessian ("continuous-time") approximation C ≈ (2L₀/S)H with L₀ = σ²/2 the loss at the minimum:
 * S·C ≈ σ²A, which misses the Σ-dependent terms.
 */
import type { TopLevelSpec } from 'vega-lite';
import { labelNoiseCovariance, labelNoiseRegression, sampleStatistics, trace, type Matrix } from '../../theory/index.js';
import { isMeasurementOf, type StoredMeasurement, type StoredTrial } from '../../study/index.js';
import { fullFluctuations } from '../../study/records.js';
import type { Figure } from '../figures.js';

/** The colour scale of batch sizes labelled "S = …", in numeric order (a nominal field's labels sort as text: S = 10 before S = 2). */
export const batchSizeScale = (sizes: Iterable<number>) => ({ domain: [...new Set(sizes)].sort((a, b) => a - b).map((S) => `S = ${S}`) });

type LR = { dim: number; covariance: number[] | number[][]; teacher: number[]; labelNoise: number };

export interface NoiseComparison {
  key: string;
  dim: number;
  lr: number;
  batchSize: number;
  weightDecay: number;
  /** tr Σ₁ = S·tr C measured from per-example gradients at the final weights. */
  measured: number;
  /** S·tr C, exact at the measured Σ and mean; undefined without recorded fluctuations (a run too short to record them). */
  exact?: number;
  /** Steps trained: the final w the measurement saw is w after this many steps. */
  steps: number;
  /**
   * Whether the burn-in before the fluctuations were recorded spans at least 20 relaxation times 1/(λa_max):
   * only then is the measured Σ the stationary one (the along-training trials are not).
   */
  stationary: boolean;
  /** S·tr C by the Hessian approximation: σ² tr A. */
  hessian: number;
  /**
   * S·tr C exact at the final weights w: the formula checked point by point, without the spread of one
   * draw of w about its stationary distribution. 1-D: 2a²(w − u)² + aσ², with a²(w − u)² read off the
   * measured squared full-batch gradient |∇L(w)|² over the same examples. More dimensions: tr of
   * AδδᵀA + Tr[Aδδᵀ]A + σ²A at δ = w − u, with w recorded by the measurement (|∇L|² does not fix δᵀAδ there).
   */
  exactAtWeights?: number;
  examples: number;
}

/** The input covariance A as a matrix (a 1-D covariance is stored as [a], a diagonal as its eigenvalues). */
const covarianceMatrix = (d: LR): Matrix => (Array.isArray(d.covariance[0]) ? d.covariance as number[][] : (d.covariance as number[]).map((v, i, all) => all.map((_, j) => (i === j ? v : 0))));

/** Label-noise regression trials with a noise measurement and full fluctuations, each with its exact and approximate S·tr C. */
export function ziyinNoiseComparisons(trials: readonly StoredTrial[], measurements: readonly StoredMeasurement[]): NoiseComparison[] {
  const noise = new Map(measurements.filter((m) => isMeasurementOf(m, 'noise') && m.status === 'completed').map((m) => [m.key, m as StoredMeasurement<'noise'>]));
  return trials.flatMap((t) => {
    const d = t.config.data.linearRegression as LR | undefined;
    const f = fullFluctuations(t.result);
    const m = noise.get(t.key)?.result;
    if (t.config.data.name !== 'linear-regression' || t.config.model.name !== 'linear-regression' || !d || typeof t.result?.steps !== 'number' || typeof m?.traceSigma !== 'number' || typeof t.config.batchSize !== 'number') return [];
    const A = covarianceMatrix(d);
    const s2 = d.labelNoise ** 2;
    const lambda = t.config.optimizer.lr;
    const steps = t.result.steps;
    let exact: number | undefined;
    let stationary = false;
    const sigma = f ? f.weightCovariance ?? [[f.weightVariance[0]!]] : undefined;
    if (f && sigma && sigma.length === A.length) {
      const delta = f.weightMean.map((w, i) => w - d.teacher[i]!);
      const M = sigma.map((row, i) => row.map((v, j) => v + delta[i]! * delta[j]!));
      exact = trace(labelNoiseCovariance(A, M, s2, 1));
      // The largest eigenvalue of A is at most its trace: a conservative relaxation rate.
      stationary = (steps - f.steps) * lambda * Math.max(...A.map((row, i) => row[i]!)) >= 20;
    }
    return [{
      key: t.key, dim: A.length, lr: lambda, batchSize: t.config.batchSize, weightDecay: t.config.optimizer.weightDecay ?? 0,
      measured: m.traceSigma, ...(exact === undefined ? {} : { exact }), steps, stationary, hessian: s2 * trace(A), examples: m.examples ?? NaN,
      ...exactAtFinalWeights(A, d, m),
    }];
  });
}

function exactAtFinalWeights(A: Matrix, d: LR, m: { gradNormSq?: number | null; weights?: number[] }): { exactAtWeights?: number } {
  const s2 = d.labelNoise ** 2;
  if (A.length === 1 && typeof m.gradNormSq === 'number') return { exactAtWeights: 2 * m.gradNormSq + A[0]![0]! * s2 };
  if (A.length > 1 && m.weights?.length === A.length) {
    const delta = m.weights.map((w, i) => w - d.teacher[i]!);
    return { exactAtWeights: trace(labelNoiseCovariance(A, delta.map((x) => delta.map((y) => x * y)), s2, 1)) };
  }
  return {};
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/**
 * S·tr C relative to the Hessian approximation σ² tr A, over λ per batch size (the 1-D trials without weight
 * decay): measured (mean ± 1 standard error over seeds), exact at the measured Σ, and the exact stationary
 * curve 1 + 2aΣ(λ)/σ² (1-D, u = w*: M = Σ).
 */
export function noiseCovarianceFigure(rows: readonly NoiseComparison[], trials: readonly StoredTrial[]): Figure | undefined {
  const oneD = rows.filter((r) => r.dim === 1 && r.weightDecay === 0 && r.stationary && r.exact !== undefined);
  if (oneD.length === 0) return undefined;
  const d = trials.find((t) => t.key === oneD[0]!.key)!.config.data.linearRegression as LR;
  const a = (d.covariance as number[])[0]!;
  const s2 = d.labelNoise ** 2;
  const groups = new Map<string, NoiseComparison[]>();
  for (const r of oneD) groups.set(`${r.batchSize}|${r.lr}`, [...(groups.get(`${r.batchSize}|${r.lr}`) ?? []), r]);
  const points = [...groups.values()].flatMap((g) => {
    // Past the divergence threshold Σ is infinite and the recorded variance has no meaning.
    if (!labelNoiseRegression({ eigenvalues: [a], noiseVariance: s2, batchSize: g[0]!.batchSize, learningRate: g[0]!.lr }).stable) return [];
    const measured = sampleStatistics(g.map((r) => r.measured / r.hessian));
    const exact = sampleStatistics(g.map((r) => r.exact! / r.hessian));
    const atWeights = sampleStatistics(g.flatMap((r) => (r.exactAtWeights === undefined ? [] : [r.exactAtWeights / r.hessian])));
    return [{ lr: g[0]!.lr, S: `S = ${g[0]!.batchSize}`, measured: measured.mean, lo: measured.mean - measured.standardError, hi: measured.mean + measured.standardError, exact: exact.mean, ...(atWeights.n > 0 ? { atWeights: atWeights.mean } : {}), n: measured.n }];
  });
  if (points.length === 0) return undefined;
  const sizes = [...new Set(oneD.map((r) => r.batchSize))].sort((x, y) => x - y);
  const lrMax = Math.max(...points.map((p) => p.lr));
  const curve = sizes.flatMap((S) => Array.from({ length: 60 }, (_, k) => 0.02 + ((lrMax - 0.02) * k) / 59).flatMap((lr) => {
    const e = labelNoiseRegression({ eigenvalues: [a], noiseVariance: s2, batchSize: S, learningRate: lr });
    const ratio = 1 + (2 * a * e.sigma[0]!) / s2;
    // Near the divergence threshold the curve runs off to infinity; stop where it would squash the points.
    return e.stable && ratio < 4 * Math.max(...points.map((p) => p.hi)) ? [{ lr, S: `S = ${S}`, ratio }] : [];
  }));
  const examples = Math.max(...oneD.map((r) => r.examples));
  const y = { type: 'quantitative' as const, scale: { zero: false }, title: 'S·tr C / (σ² tr A)' };
  return {
    id: 'ziyin-noise-covariance', title: 'The noise covariance C against its exact formula and the Hessian approximation (1-D label-noise regression)',
    caption: `S·tr C from per-example gradients over ${examples} training examples at the end of each trial (filled points, mean ± 1 standard error over seeds; `
      + 'each seed is one draw of w from the stationary distribution), divided by the Hessian approximation C ≈ (2L₀/S)H = σ²A/S (the line at 1). '
      + 'Open diamonds: the exact C = (1/S)(AMA + Tr[AM]A + σ²A) at the measured M = Var w + (E w − u)²; crosses: the exact C at each '
      + 'trial\'s final w, 2a²(w − u)² + aσ², with a²(w − u)² the measured |∇L(w)|²; solid curves: the exact stationary '
      + 'value 1 + 2aΣ(λ)/σ². The same training examples serve every trial, so their sampling error (≈ √(8/n) of σ²a) shifts all points together.',
    spec: {
      $schema: SCHEMA, title: 'Noise covariance vs λ', width: 440, height: 280,
      layer: [
        { data: { values: curve }, mark: 'line', encoding: { x: { field: 'lr', type: 'quantitative', title: 'learning rate λ' }, y: { field: 'ratio', ...y }, color: { field: 'S', type: 'nominal', title: 'batch size', scale: batchSizeScale(sizes) } } },
        { data: { values: [{ ratio: 1 }] }, mark: { type: 'rule', strokeDash: [5, 4], color: '#555' }, encoding: { y: { field: 'ratio', ...y } } },
        { data: { values: points }, mark: { type: 'point', filled: true, size: 50 }, encoding: { x: { field: 'lr', type: 'quantitative' }, y: { field: 'measured', ...y }, color: { field: 'S', type: 'nominal', scale: batchSizeScale(sizes) } } },
        { data: { values: points }, mark: 'errorbar', encoding: { x: { field: 'lr', type: 'quantitative' }, y: { field: 'lo', ...y }, y2: { field: 'hi' }, color: { field: 'S', type: 'nominal', scale: batchSizeScale(sizes) } } },
        { data: { values: points }, mark: { type: 'point', shape: 'diamond', size: 70 }, encoding: { x: { field: 'lr', type: 'quantitative' }, y: { field: 'exact', ...y }, color: { field: 'S', type: 'nominal', scale: batchSizeScale(sizes) } } },
        { data: { values: points.filter((p) => p.atWeights !== undefined) }, mark: { type: 'point', shape: 'cross', size: 60 }, encoding: { x: { field: 'lr', type: 'quantitative' }, y: { field: 'atWeights', ...y }, color: { field: 'S', type: 'nominal', scale: batchSizeScale(sizes) } } },
      ],
    } as TopLevelSpec,
  };
}

/**
 * E[S·C(w_t)]/(σ²a) along 1-D training from w₀: with m_t = E(w_t − u)², m_{t+1} = (1 − λa)²m_t + (λ²/S)(2a²m_t + aσ²)
 * (the mean step shrinks w − u by 1 − λa; the minibatch adds variance (2a²m_t + aσ²)/S given Isserlis), and
 * S·C(w) = 2a²(w − u)² + aσ². Returns the ratio at each t in `steps`.
 */
export function noiseAlongTraining1d(p: { a: number; noiseVariance: number; batchSize: number; learningRate: number; initialSquaredDistance: number }, steps: readonly number[]): number[] {
  const { a, noiseVariance: s2, batchSize: S, learningRate: lr } = p;
  const last = Math.max(...steps);
  const ratio: number[] = [];
  let m = p.initialSquaredDistance;
  for (let t = 0; t <= last; t++) {
    ratio.push(1 + (2 * a * m) / s2);
    m = (1 - lr * a) ** 2 * m + ((lr * lr) / S) * (2 * a * a * m + a * s2);
  }
  return steps.map((t) => ratio[t]!);
}

/** The along-training figure's series, in its legend's order, and their colours. */
const ALONG_SERIES = ['exact expectation along training', 'measured (mean ± 1 SE)', 'exact C at each trial\'s w_t'] as const;
const series = (name: (typeof ALONG_SERIES)[number]) => ({ datum: name, title: null, scale: { domain: [...ALONG_SERIES], range: ['#4c78a8', '#f58518', '#54a24b'] } });

/**
 * C along training (the 1-D trials of one (λ, S) trained to several step budgets from w₀ = 0): measured
 * S·tr C at w_t (mean ± 1 standard error over seeds) against the exact C at each trial's w_t (from |∇L(w_t)|²),
 * the exact expectation along training (noiseAlongTraining1d) and the Hessian approximation (1).
 */
export function noiseAlongTrainingFigure(rows: readonly NoiseComparison[], trials: readonly StoredTrial[]): Figure | undefined {
  const oneD = rows.filter((r) => r.dim === 1 && r.weightDecay === 0);
  const groups = new Map<string, NoiseComparison[]>();
  for (const r of oneD) groups.set(`${r.lr}|${r.batchSize}`, [...(groups.get(`${r.lr}|${r.batchSize}`) ?? []), r]);
  const along = [...groups.values()].find((g) => new Set(g.map((r) => r.steps)).size >= 3);
  if (!along) return undefined;
  const { lr, batchSize: S } = along[0]!;
  const d = trials.find((t) => t.key === along[0]!.key)!.config.data.linearRegression as LR;
  const a = (d.covariance as number[])[0]!;
  const s2 = d.labelNoise ** 2;
  const u = d.teacher[0]!;
  const bySteps = new Map<number, NoiseComparison[]>();
  for (const r of along) bySteps.set(r.steps, [...(bySteps.get(r.steps) ?? []), r]);
  const points = [...bySteps].sort((x, y) => x[0] - y[0]).map(([steps, g]) => {
    const measured = sampleStatistics(g.map((r) => r.measured / r.hessian));
    const atWeights = sampleStatistics(g.flatMap((r) => (r.exactAtWeights === undefined ? [] : [r.exactAtWeights / r.hessian])));
    return { steps, measured: measured.mean, lo: measured.mean - measured.standardError, hi: measured.mean + measured.standardError, atWeights: atWeights.mean, n: measured.n };
  });
  const last = points[points.length - 1]!.steps;
  const grid = [...new Set(Array.from({ length: 61 }, (_, k) => Math.round(10 ** ((Math.log10(last) * k) / 60))))];
  // The models start from w₀ = 0 (linear-regression's zeros init): (w₀ − u)² = u².
  const theory = noiseAlongTraining1d({ a, noiseVariance: s2, batchSize: S, learningRate: lr, initialSquaredDistance: u * u }, grid).map((ratio, i) => ({ steps: grid[i]!, ratio }));
  const x = { field: 'steps', type: 'quantitative' as const, scale: { type: 'log' as const }, title: 'SGD steps t' };
  const y = { type: 'quantitative' as const, scale: { type: 'log' as const }, title: 'S·tr C(w_t) / (σ² tr A)' };
  return {
    id: 'ziyin-noise-along-training', title: `The noise covariance C along training against its formula (1-D label-noise regression, λ = ${lr}, S = ${S})`,
    caption: `S·tr C from per-example gradients at w_t, one trial per step budget and seed, trained from w₀ = 0 (points: mean ± 1 standard error over `
      + `${Math.max(...points.map((p) => p.n))} seeds), divided by the Hessian approximation σ²a (the dashed line at 1). Crosses: the exact `
      + 'C = (1/S)(2a²(w_t − u)² + aσ²) at each trial\'s w_t, with a²(w_t − u)² the measured |∇L(w_t)|²; solid curve: its expectation along '
      + 'training, from m_{t+1} = (1 − λa)²m_t + (λ²/S)(2a²m_t + aσ²). Early in training C is several times the "C ∝ H" value; it falls to '
      + 'the stationary 1 + 2aΣ/σ².',
    spec: {
      $schema: SCHEMA, title: 'Noise covariance along training', width: 440, height: 260,
      layer: [
        { data: { values: theory }, mark: 'line', encoding: { x, y: { field: 'ratio', ...y }, color: series(ALONG_SERIES[0]) } },
        { data: { values: [{ ratio: 1 }] }, mark: { type: 'rule', strokeDash: [5, 4], color: '#555' }, encoding: { y: { field: 'ratio', ...y } } },
        { data: { values: points }, mark: { type: 'point', filled: true, size: 50 }, encoding: { x, y: { field: 'measured', ...y }, color: series(ALONG_SERIES[1]) } },
        { data: { values: points }, mark: 'errorbar', encoding: { x, y: { field: 'lo', ...y }, y2: { field: 'hi' }, color: series(ALONG_SERIES[1]) } },
        { data: { values: points }, mark: { type: 'point', shape: 'cross', size: 70 }, encoding: { x, y: { field: 'atWeights', ...y }, color: series(ALONG_SERIES[2]) } },
      ],
    } as TopLevelSpec,
  };
}

/** A₁, A₂, … : the name of the i-th distinct input covariance (0-based) in the 2-D figures and captions. */
export const covarianceName = (i: number): string => `A${'₁₂₃₄₅₆₇₈₉'[i] ?? i + 1}`;

/** The 2-D figure's series, in its legend's order, and their colours. */
const TWO_D_SERIES = ['measured', 'exact C at the trial\'s final w', 'exact C at the measured Σ', 'exact stationary E C'] as const;
const twoDSeries = { field: 'series', type: 'nominal' as const, title: null, scale: { domain: [...TWO_D_SERIES], range: ['#f58518', '#54a24b', '#4c78a8', '#333'] } };
// The same field on shape, so that the one legend shows each series' mark.
const twoDShape = { field: 'series', type: 'nominal' as const, title: null, scale: { domain: [...TWO_D_SERIES], range: ['circle', 'cross', 'diamond', 'stroke'] } };

/** The exact stationary Σ of a 2-D configuration and its A (the ellipse figure's, from labelNoiseRegression). */
export interface StationaryTwoD { lr: number; batchSize: number; exact: Matrix; hessian: Matrix }

/**
 * C in 2-D (Fig. 4's correlated A), one point per trial: S·tr C measured from per-example gradients at the
 * trial's final w against the exact C at that w (w recorded by the measurement), the exact C at the trial's
 * measured Σ, and the exact stationary expectation, all over the Hessian approximation σ² tr A. Each trial's
 * C is one draw at one w, quadratic in w − u and heavy-tailed where the tail index is small, so it sits
 * far from the stationary mean while agreeing with the formula at its own w.
 */
export function noiseCovariance2dFigure(rows: readonly NoiseComparison[], trials: readonly StoredTrial[], stationary: readonly StationaryTwoD[]): Figure | undefined {
  const twoD = rows.filter((r) => r.dim === 2 && r.weightDecay === 0 && r.stationary && r.exactAtWeights !== undefined);
  if (twoD.length === 0) return undefined;
  const trialOf = (key: string) => trials.find((t) => t.key === key)!;
  const covarianceOf = (key: string) => JSON.stringify((trialOf(key).config.data.linearRegression as LR).covariance);
  // Each distinct A is named A₁, A₂, … in the order of the trials, and in the caption.
  const covariances = [...new Set(twoD.map((r) => covarianceOf(r.key)))];
  const name = (A: string) => covarianceName(covariances.indexOf(A));
  const config = (lr: number, S: number, A: string) => `λ = ${lr}, S = ${S}${covariances.length > 1 ? `, ${name(A)}` : ''}`;
  const points = twoD.flatMap((r) => {
    const at = { config: config(r.lr, r.batchSize, covarianceOf(r.key)), seed: String(trialOf(r.key).config.seed ?? r.key) };
    return [
      { ...at, series: TWO_D_SERIES[0], ratio: r.measured / r.hessian },
      { ...at, series: TWO_D_SERIES[1], ratio: r.exactAtWeights! / r.hessian },
      ...(r.exact === undefined ? [] : [{ ...at, series: TWO_D_SERIES[2], ratio: r.exact / r.hessian }]),
    ];
  });
  const s2 = (trialOf(twoD[0]!.key).config.data.linearRegression as LR).labelNoise ** 2;
  const expected = stationary.flatMap((e) => {
    const A = JSON.stringify(e.hessian);
    if (!twoD.some((r) => r.lr === e.lr && r.batchSize === e.batchSize && covarianceOf(r.key) === A)) return [];
    return [{ config: config(e.lr, e.batchSize, A), series: TWO_D_SERIES[3], ratio: trace(labelNoiseCovariance(e.hessian, e.exact, s2, 1)) / (s2 * trace(e.hessian)) }];
  });
  const order = [...new Set([...twoD].sort((x, y) => covariances.indexOf(covarianceOf(x.key)) - covariances.indexOf(covarianceOf(y.key)) || x.lr - y.lr || x.batchSize - y.batchSize).map((r) => config(r.lr, r.batchSize, covarianceOf(r.key))))];
  const x = { field: 'config', type: 'nominal' as const, sort: order, title: null, axis: { labelAngle: 0 } };
  const y = { type: 'quantitative' as const, scale: { type: 'log' as const }, title: 'S·tr C / (σ² tr A)' };
  return {
    id: 'ziyin-noise-covariance-2d', title: 'The noise covariance C against its formula in 2-D label-noise regression',
    caption: `${covariances.map((A) => `${covariances.length > 1 ? name(A) : 'A'} = ${A}`).join('; ')}. `
      + `S·tr C from per-example gradients over ${Math.max(...twoD.map((r) => r.examples))} training examples at the end of each trial `
      + '(filled circles, one per seed, side by side), over the Hessian approximation σ² tr A (the dashed line at 1). Crosses: the exact '
      + 'C = (1/S)(AδδᵀA + Tr[Aδδᵀ]A + σ²A) at the trial\'s own final w, δ = w − u; diamonds: the exact C at the trial\'s measured '
      + 'M = Var w + (E w − u)(E w − u)ᵀ; dark bars: the exact stationary expectation at the exact Σ. One trial is one draw of w: '
      + 'C at that w is quadratic in w − u, so a draw far out (a small tail index) lies far above the stationary mean while matching the formula at its w.',
    spec: {
      $schema: SCHEMA, title: 'Noise covariance in 2-D', width: 120 * order.length, height: 260,
      layer: [
        { data: { values: [{ ratio: 1 }] }, mark: { type: 'rule', strokeDash: [5, 4], color: '#555' }, encoding: { y: { field: 'ratio', ...y } } },
        { data: { values: expected }, mark: { type: 'tick', thickness: 2, size: 40 }, encoding: { x, y: { field: 'ratio', ...y }, color: twoDSeries } },
        { data: { values: points.filter((p) => p.series === TWO_D_SERIES[0]) }, mark: { type: 'point', filled: true, size: 60 }, encoding: { x, xOffset: { field: 'seed', type: 'nominal' }, y: { field: 'ratio', ...y }, color: twoDSeries, shape: twoDShape } },
        { data: { values: points.filter((p) => p.series === TWO_D_SERIES[1]) }, mark: { type: 'point', shape: 'cross', size: 90 }, encoding: { x, xOffset: { field: 'seed', type: 'nominal' }, y: { field: 'ratio', ...y }, color: twoDSeries, shape: twoDShape } },
        { data: { values: points.filter((p) => p.series === TWO_D_SERIES[2]) }, mark: { type: 'point', shape: 'diamond', size: 60 }, encoding: { x, xOffset: { field: 'seed', type: 'nominal' }, y: { field: 'ratio', ...y }, color: twoDSeries, shape: twoDShape } },
      ],
    } as TopLevelSpec,
  };
}
