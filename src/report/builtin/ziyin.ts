/**
 * The ziyin built-in study's comparisons and figures (Ziyin et al. 2022): measured stationary
 * fluctuations of sgdlab's own SGD against the exact discrete-time formulas and the continuous-time
 * ones, the 2-D fluctuation ellipse against the exact Σ and the Hessian, the width sweep, and the
 * test loss over weight decay. The comparisons are plain functions so tests can assert them.
 */
import type { TopLevelSpec } from 'vega-lite';
import { labelNoiseRegression, sigma1dContinuous, divergenceLearningRate, sampleStatistics, tailIndex } from '../../theory/index.js';
import type { StoredTrial } from '../../study/index.js';
import { fullFluctuations } from '../../study/records.js';
import type { ReportData } from '../data.js';
import type { Figure } from '../figures.js';
import { mnistDecayFigure, regressionDecayFigure } from './ziyin-decay.js';
import { generalNoiseFigure, ziyinGeneralNoiseRows } from './ziyin-general-noise.js';
import { batchSizeScale, covarianceName, noiseAlongTrainingFigure, noiseCovariance2dFigure, noiseCovarianceFigure, ziyinNoiseComparisons } from './ziyin-noise.js';

// The weight-decay and noise-covariance parts live in their own files; the report's index re-exports this one.
export * from './ziyin-decay.js';
export * from './ziyin-noise.js';
export * from './ziyin-general-noise.js';

type LR = { dim: number; covariance: number[] | number[][]; teacher: number[]; labelNoise: number };

const fluctuationsOf = (t: StoredTrial) => t.result?.fluctuations;
const regressionOf = (t: StoredTrial) => (t.config.data.name === 'linear-regression' && t.config.model.name === 'linear-regression' ? t.config.data.linearRegression as LR | undefined : undefined);

export interface SigmaComparison {
  key: string;
  lr: number;
  batchSize: number;
  status: string;
  exact: number;
  continuous: number;
  /** Undefined for a diverged trial. */
  measured?: number;
  /**
   * Relative standard error of the measured variance: an AR(1) chain with coefficient ρ = 1 − λa over
   * n steps. Undefined where the tail index β ≤ 4: the fourth moment is infinite and the sample
   * variance has no finite standard error (it converges slowly, and typically from below).
   */
  relativeError?: number;
  /** Tail index of the stationary distribution, β = 2S/(aλ) − S (Ziyin et al.). */
  tailIndex: number;
  trainingLoss?: { measured: number; exact: number; continuous: number };
  testLoss?: { measured: number; exact: number; continuous: number };
}

/** 1-D trials: measured Σ and losses against the exact and continuous-time predictions. */
export function ziyinSigmaComparisons(trials: readonly StoredTrial[]): SigmaComparison[] {
  const out: SigmaComparison[] = [];
  for (const t of trials) {
    const lr = regressionOf(t);
    // Trials with weight decay are the regularized experiment's (ziyin-decay.ts), not these formulas'.
    if (!lr || lr.dim !== 1 || typeof t.config.batchSize !== 'number' || (t.config.optimizer.weightDecay ?? 0) !== 0) continue;
    const a = (lr.covariance as number[])[0]!;
    const s2 = lr.labelNoise ** 2;
    const S = t.config.batchSize;
    const lambda = t.config.optimizer.lr;
    const exact = labelNoiseRegression({ eigenvalues: [a], noiseVariance: s2, batchSize: S, learningRate: lambda });
    const continuous = sigma1dContinuous(s2, S, lambda) * 1;
    const beta = tailIndex(a, S, lambda);
    const f = fullFluctuations(t.result);
    // A completed run whose burn-in spans fewer than 20 relaxation times 1/(λa) is not at stationarity (the
    // paper size's along-training trials, ziyin-noise.ts): it has no Σ to compare.
    if (t.status === 'completed' && !(f && typeof t.result?.steps === 'number' && (t.result.steps - f.steps) * lambda * a >= 20)) continue;
    const row: SigmaComparison = { key: t.key, lr: lambda, batchSize: S, status: t.status, exact: exact.sigma[0]!, continuous, tailIndex: beta };
    if (t.status === 'completed' && f && exact.stable) {
      const rho = Math.abs(1 - lambda * a);
      row.measured = f.weightVariance[0]!;
      if (beta > 4) row.relativeError = Math.sqrt((2 * (1 + rho ** 2)) / (f.steps * (1 - rho ** 2)));
      const bias2 = (f.weightMean[0]! - lr.teacher[0]!) ** 2;
      const measuredTest = 0.5 * a * (f.weightVariance[0]! + bias2);
      row.testLoss = { measured: measuredTest, exact: exact.testLoss, continuous: 0.5 * a * continuous };
      row.trainingLoss = { measured: f.lossMean, exact: exact.trainingLoss, continuous: 0.5 * s2 + 0.5 * a * continuous };
    }
    out.push(row);
  }
  return out.sort((x, y) => x.batchSize - y.batchSize || x.lr - y.lr);
}

export interface ZiyinEllipse {
  key: string;
  lr: number;
  batchSize: number;
  /** Measured Cov(w), averaged over the seeds of this (λ, S). */
  measured: number[][];
  seeds: number;
  exact: number[][];
  /** The continuous-time prediction: with C ∝ H = A the Lyapunov equation gives Σ = λσ²/(2S)·I, a circle. */
  continuous: number[][];
  /**
   * The discrete-time Hessian approximation (Fig. 4b–c's third curve): the discrete Lyapunov equation with
   * C ≈ (2L₀/S)H = σ²A/S (Theorem 5 at the minimum, L₀ = σ²/2), i.e. Σ = λσ²/(S(2 − λa_i)) along A's eigenvectors.
   */
  discreteHessian: number[][];
  hessian: number[][];
  mean: number[];
  steps: number;
}

/** The 2-D trials, one per (λ, S) with the seeds' measured Cov(w) averaged, against the exact Σ rotated back from A's eigenbasis. */
export function ziyinEllipses(trials: readonly StoredTrial[]): ZiyinEllipse[] {
  const groups = new Map<string, { t: StoredTrial; f: NonNullable<ReturnType<typeof fullFluctuations>> }[]>();
  for (const t of trials) {
    const lr = regressionOf(t);
    const f = fullFluctuations(t.result);
    if (!lr || lr.dim !== 2 || !f?.weightCovariance || typeof t.config.batchSize !== 'number' || (t.config.optimizer.weightDecay ?? 0) !== 0) continue;
    const id = `${t.config.optimizer.lr}|${t.config.batchSize}|${t.config.optimizer.momentum ?? 0}|${JSON.stringify(lr)}`;
    groups.set(id, [...(groups.get(id) ?? []), { t, f }]);
  }
  return [...groups.values()].map((g) => {
    const { t, f } = g[0]!;
    const lr = regressionOf(t)!;
    const A = lr.covariance as number[][];
    const S = t.config.batchSize as number;
    // Eigen-decomposition of the symmetric 2×2 A.
    const [p, q, r] = [A[0]![0]!, A[0]![1]!, A[1]![1]!];
    const mid = (p + r) / 2;
    const rad = Math.hypot((p - r) / 2, q);
    const values = [mid + rad, mid - rad];
    const theta = 0.5 * Math.atan2(2 * q, p - r);
    const Q = [[Math.cos(theta), -Math.sin(theta)], [Math.sin(theta), Math.cos(theta)]];
    const s2 = lr.labelNoise ** 2;
    const sol = labelNoiseRegression({ eigenvalues: values, noiseVariance: s2, batchSize: S, learningRate: t.config.optimizer.lr, momentum: t.config.optimizer.momentum ?? 0 });
    const rotate = (d: readonly number[]) => [0, 1].map((i) => [0, 1].map((j) => Q[i]![0]! * d[0]! * Q[j]![0]! + Q[i]![1]! * d[1]! * Q[j]![1]!));
    const exact = rotate(sol.sigma);
    const lambda = t.config.optimizer.lr;
    const discreteHessian = rotate(values.map((a) => (lambda * s2) / (S * (2 - lambda * a))));
    const average = (pick: (x: typeof f) => number[]) => pick(f).map((_, i) => g.reduce((acc, x) => acc + pick(x.f)[i]!, 0) / g.length);
    const measured = [0, 1].map((i) => average((x) => x.weightCovariance![i]!));
    const c = sigma1dContinuous(s2, S, t.config.optimizer.lr);
    return { key: t.key, lr: t.config.optimizer.lr, batchSize: S, measured, seeds: g.length, exact, continuous: [[c, 0], [0, c]], discreteHessian, hessian: A, mean: average((x) => x.weightMean), steps: f.steps };
  }).sort((x, y) => x.batchSize - y.batchSize || x.lr - y.lr);
}

/** The first 2-D (λ, S) of ziyinEllipses. */
export const ziyinEllipse = (trials: readonly StoredTrial[]): ZiyinEllipse | undefined => ziyinEllipses(trials)[0];

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Points of the ellipse {x : xᵀM⁻¹x = 1} around `center` (M symmetric positive definite, 2×2), scaled by s. */
function ellipse(M: number[][], center: number[], s: number, label: string): { x: number; y: number; order: number; curve: string }[] {
  const [p, q, r] = [M[0]![0]!, M[0]![1]!, M[1]![1]!];
  // Cholesky factor L with LLᵀ = M maps the unit circle onto the ellipse.
  const l11 = Math.sqrt(p);
  const l21 = q / l11;
  const l22 = Math.sqrt(Math.max(r - l21 * l21, 0));
  return Array.from({ length: 73 }, (_, k) => {
    const phi = (2 * Math.PI * k) / 72;
    const [c, sn] = [Math.cos(phi), Math.sin(phi)];
    return { x: center[0]! + s * l11 * c, y: center[1]! + s * (l21 * c + l22 * sn), order: k, curve: label };
  });
}

/** Σ vs λ at each batch size: the measured Var(w) against the exact and continuous-time curves, with the divergence thresholds. */
function sigmaFigure(rows: readonly SigmaComparison[]): Figure {
  const sizes = [...new Set(rows.map((r) => r.batchSize))];
  const lrMax = Math.max(...rows.map((r) => r.lr));
  const curve = sizes.flatMap((S) => {
    const stop = Math.min(lrMax, divergenceLearningRate(1, S) * 0.985);
    return Array.from({ length: 60 }, (_, k) => 0.02 + ((stop - 0.02) * k) / 59).flatMap((lambda) => {
      const e = labelNoiseRegression({ eigenvalues: [1], noiseVariance: 1, batchSize: S, learningRate: lambda });
      return [
        { lr: lambda, sigma: e.sigma[0]!, S: `S = ${S}`, theory: 'exact (discrete time)' },
        { lr: lambda, sigma: sigma1dContinuous(1, S, lambda), S: `S = ${S}`, theory: 'continuous time λσ²/(2S)' },
      ];
    });
  });
  const measured = rows.filter((r) => r.measured !== undefined).map((r) => ({
    lr: r.lr, sigma: r.measured!, heavy: r.relativeError === undefined,
    lo: r.measured! * (1 - 2 * (r.relativeError ?? 0)), hi: r.measured! * (1 + 2 * (r.relativeError ?? 0)), S: `S = ${r.batchSize}`,
  }));
  const thresholds = sizes.map((S) => ({ lr: divergenceLearningRate(1, S), S: `S = ${S}` })).filter((x) => x.lr <= lrMax * 1.05);
  const diverged = rows.filter((r) => r.status === 'diverged').map((r) => ({ lr: r.lr, S: `S = ${r.batchSize}` }));
  return {
    id: 'ziyin-sigma-vs-lr', title: 'Stationary weight variance vs learning rate (1-D label-noise regression)',
    caption: "sgdlab's SGD on y = x + ε, x ~ N(0, 1), Var ε = 1, online samples: the measured Var(w) at stationarity (points, ± 2 standard "
      + 'errors; open points: tail index β = 2S/(aλ) − S ≤ 4, where the sample variance has no finite standard error and falls short of Σ '
      + "in any finite run) against Ziyin et al.'s exact Σ = λσ²/(2S − λa(S + 2)) (solid) and the continuous-time λσ²/(2S) (dashed). "
      + `Vertical rules: divergence at λa = 2S/(S + 2)${diverged.length > 0 ? `; ${diverged.length} trial(s) past it diverged` : ''}.`,
    spec: {
      $schema: SCHEMA, title: 'Σ vs λ', width: 440, height: 280,
      layer: [
        {
          data: { values: curve }, mark: 'line',
          encoding: {
            x: { field: 'lr', type: 'quantitative', title: 'learning rate λ' },
            y: { field: 'sigma', type: 'quantitative', scale: { type: 'log' }, title: 'Var(w) at stationarity' },
            color: { field: 'S', type: 'nominal', title: 'batch size', scale: batchSizeScale(sizes) },
            strokeDash: {
              field: 'theory', type: 'nominal', title: 'theory',
              scale: { domain: ['exact (discrete time)', 'continuous time λσ²/(2S)'], range: [[1, 0], [5, 4]] },
            },
          },
        },
        {
          data: { values: measured }, mark: { type: 'point', size: 50 },
          encoding: {
            x: { field: 'lr', type: 'quantitative' }, y: { field: 'sigma', type: 'quantitative', scale: { type: 'log' } },
            color: { field: 'S', type: 'nominal', scale: batchSizeScale(sizes) },
            fill: { condition: { test: '!datum.heavy', field: 'S', type: 'nominal', scale: batchSizeScale(sizes) }, value: 'white' },
          },
        },
        {
          data: { values: measured }, mark: 'errorbar',
          encoding: {
            x: { field: 'lr', type: 'quantitative' },
            y: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, title: 'Var(w) at stationarity' },
            y2: { field: 'hi' }, color: { field: 'S', type: 'nominal', scale: batchSizeScale(sizes) },
          },
        },
        {
          data: { values: thresholds }, mark: { type: 'rule', strokeDash: [2, 2] },
          encoding: { x: { field: 'lr', type: 'quantitative' }, color: { field: 'S', type: 'nominal', scale: batchSizeScale(sizes) } },
        },
      ],
    } as TopLevelSpec,
  };
}

/** Training and excess test loss vs λ: measured at stationarity against the exact and continuous-time predictions. */
function lossesFigure(rows: readonly SigmaComparison[]): Figure | undefined {
  const losses = rows.filter((r) => r.trainingLoss).flatMap((r) => (['trainingLoss', 'testLoss'] as const).flatMap((which) => {
    const v = r[which]!;
    const loss = which === 'trainingLoss' ? 'training loss' : 'test loss (excess)';
    return [
      { lr: r.lr, S: `S = ${r.batchSize}`, loss, value: v.measured, source: 'measured' },
      { lr: r.lr, S: `S = ${r.batchSize}`, loss, value: v.exact, source: 'exact' },
      { lr: r.lr, S: `S = ${r.batchSize}`, loss, value: v.continuous, source: 'continuous time' },
    ];
  }));
  if (losses.length === 0) return undefined;
  const sizes = rows.map((r) => r.batchSize);
  return {
    id: 'ziyin-losses-vs-lr', title: 'Training and test loss vs learning rate (1-D label-noise regression)',
    caption: 'Measured at stationarity (points: the mean minibatch loss; the excess test loss ½a(Var w + (E w − u)²)) against the exact '
      + '(σ²/2)(1 + κ/S) and σ²κ/(2S) (solid) and the continuous-time predictions (dashed).',
    spec: {
      $schema: SCHEMA, title: 'Losses vs λ', data: { values: losses },
      facet: { column: { field: 'loss', type: 'nominal', title: null } },
      spec: {
        width: 260, height: 220,
        layer: [
          {
            transform: [{ filter: "datum.source !== 'measured'" }], mark: 'line',
            encoding: {
              x: { field: 'lr', type: 'quantitative', title: 'λ' },
              y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: null },
              color: { field: 'S', type: 'nominal', scale: batchSizeScale(sizes) },
              strokeDash: { field: 'source', type: 'nominal', scale: { domain: ['exact', 'continuous time'], range: [[1, 0], [5, 4]] } },
            },
          },
          {
            transform: [{ filter: "datum.source === 'measured'" }], mark: { type: 'point', filled: true },
            encoding: {
              x: { field: 'lr', type: 'quantitative' },
              y: { field: 'value', type: 'quantitative', scale: { type: 'log' } },
              color: { field: 'S', type: 'nominal', scale: batchSizeScale(sizes) },
            },
          },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    } as TopLevelSpec,
  };
}

/** Each 2-D (λ, S)'s one-standard-deviation ellipses: measured Cov(w), the exact Σ, the continuous-time circle, and the Hessian scaled to Σ's trace. */
function ellipseFigure(es: readonly ZiyinEllipse[]): Figure {
  // Scale the Hessian's ellipse to the exact Σ's size so that the shapes can be compared.
  const tr = (m: number[][]) => m[0]![0]! + m[1]![1]!;
  const curves = ['measured Cov(w)', 'exact Σ', 'discrete-time Hessian approximation', 'continuous time λσ²/(2S)·I', 'Hessian A (scaled)'];
  const covariances = [...new Set(es.map((e) => JSON.stringify(e.hessian)))];
  const panel = (e: ZiyinEllipse) => `λ = ${e.lr}, S = ${e.batchSize}${covariances.length > 1 ? `, ${covarianceName(covariances.indexOf(JSON.stringify(e.hessian)))}` : ''}`;
  const values = es.flatMap((e) => [
    ...ellipse(e.measured, e.mean, 1, curves[0]!),
    ...ellipse(e.exact, e.mean, 1, curves[1]!),
    ...ellipse(e.discreteHessian, e.mean, 1, curves[2]!),
    ...ellipse(e.continuous, e.mean, 1, curves[3]!),
    ...ellipse(e.hessian, e.mean, Math.sqrt(tr(e.exact) / tr(e.hessian)), curves[4]!),
  ].map((v) => ({ ...v, panel: panel(e) })));
  const e0 = es[0]!;
  // One panel per (λ, S, A), each with equal x and y ranges about the mean so that a circle looks round.
  const ordered = [...es].sort((x, y) => covariances.indexOf(JSON.stringify(x.hessian)) - covariances.indexOf(JSON.stringify(y.hessian)) || x.lr - y.lr || x.batchSize - y.batchSize);
  const panels = ordered.map((e) => {
    const mine = values.filter((v) => v.panel === panel(e));
    const h = 1.08 * Math.max(...mine.map((v) => Math.max(Math.abs(v.x - e.mean[0]!), Math.abs(v.y - e.mean[1]!))));
    return {
      width: 200, height: 200, title: panel(e), data: { values: mine }, mark: 'line',
      encoding: {
        x: { field: 'x', type: 'quantitative', scale: { domain: [e.mean[0]! - h, e.mean[0]! + h], nice: false }, title: 'w₁' },
        y: { field: 'y', type: 'quantitative', scale: { domain: [e.mean[1]! - h, e.mean[1]! + h], nice: false }, title: 'w₂' },
        order: { field: 'order', type: 'quantitative' },
        color: { field: 'curve', type: 'nominal', title: null, scale: { domain: curves } },
        strokeDash: { field: 'curve', type: 'nominal', scale: { domain: curves, range: [[1, 0], [5, 3], [6, 2, 1, 2], [1, 3], [2, 2]] } },
      },
    };
  });
  return {
    id: 'ziyin-fluctuation-ellipse', title: '2-D fluctuation ellipses vs the exact Σ, the Hessian approximations and continuous time',
    caption: `One-standard-deviation ellipses of the weights at stationarity (${e0.steps} steps recorded per trial; measured Cov(w) averaged over `
      + `${[...new Set(es.map((e) => e.seeds))].join('/')} seed(s)) for ${covariances.map((A, i) => `${covariances.length > 1 ? covarianceName(i) : 'A'} = ${A}`).join(' and ')}, `
      + "one panel per (λ, S, A): measured, exact (Ziyin et al.'s Σ, rotated from A's eigenbasis), the discrete-time Hessian approximation "
      + '(the discrete Lyapunov equation with C ≈ σ²A/S: λσ²/(S(2 − λa_i)) along A\'s axes), the continuous-time Σ = λσ²/(2S)·I (a circle), and the '
      + 'Hessian A scaled to the exact trace. Σ is not proportional to A: the noise is not "∝ H"; the smaller S, the larger and the less round '
      + 'the exact ellipse, and the further the Hessian approximation falls inside it (Fig. 4b–c: accurate at S = 50, too small at S = 10).',
    // Three panels a row: five side by side would shrink each below reading size.
    spec: { $schema: SCHEMA, title: 'Fluctuation ellipses', concat: panels, columns: 3 } as TopLevelSpec,
  };
}

/** How a width-sweep trial's step size was chosen: fixed SGD, SGD with λ ∝ 1/d, or Adam. */
function widthRule(t: StoredTrial): string {
  const o = t.config.optimizer;
  if (o.name !== 'sgd') return `${o.name === 'adam' ? 'Adam' : o.name} ${o.lr}`;
  const d = t.config.model.widths![0]!;
  return Math.abs(o.lr * d - 50) < 1e-6 * d ? 'SGD λ = 50/d' : `SGD λ = ${o.lr}`;
}

export interface WidthRow { width: number; rule: string; lossVariance: number; lo: number; hi: number; n: number }

/** The MLP trials: the variance of the training loss per width and rule, mean (and smallest, largest) over seeds. */
export function ziyinWidthRows(trials: readonly StoredTrial[]): WidthRow[] {
  // A variance stored as null (it overflowed) or 0 has no place on a log axis.
  const width = trials.flatMap((t) => {
    const v = fluctuationsOf(t)?.lossVariance;
    return t.config.model.name === 'mlp' && t.status === 'completed' && typeof v === 'number' && Number.isFinite(v) && v > 0 ? [{ t, v }] : [];
  });
  const groups = new Map<string, { width: number; rule: string; xs: number[] }>();
  for (const { t, v } of width) {
    const w = t.config.model.widths![0]!;
    const rule = widthRule(t);
    const g = groups.get(`${rule}|${w}`) ?? { width: w, rule, xs: [] };
    g.xs.push(v);
    groups.set(`${rule}|${w}`, g);
  }
  return [...groups.values()].map((g) => {
    const s = sampleStatistics(g.xs);
    return { width: g.width, rule: g.rule, lossVariance: s.mean, lo: Math.min(...g.xs), hi: Math.max(...g.xs), n: s.n };
  }).sort((a, b) => a.width - b.width || a.rule.localeCompare(b.rule));
}

/** The width sweep's figure (ziyinWidthRows). */
function widthFigure(trials: readonly StoredTrial[]): Figure | undefined {
  const values = ziyinWidthRows(trials);
  if (values.length === 0) return undefined;
  const y = { type: 'quantitative' as const, scale: { type: 'log' as const }, title: 'Var(training loss)' };
  const seeds = Math.max(...values.map((v) => v.n));
  return {
    id: 'ziyin-width-sweep', title: 'Variance of the training loss vs width',
    caption: 'A 1-hidden-layer tanh MLP on MNIST, S = 32: the variance of the minibatch training loss over the last 75% of training '
      + `(mean over ${seeds} seed(s), bars: the smallest and largest seed), with SGD at a fixed λ = 0.5, SGD with λ ∝ 1/d, and Adam at a fixed `
      + 'learning rate (Ziyin et al. Fig. 1 middle: it grows with d at a fixed step size, for Adam too; scaling λ with 1/d keeps it bounded).',
    spec: {
      $schema: SCHEMA, title: 'Loss variance vs width', width: 380, height: 240, data: { values },
      layer: [
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'width', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'hidden width d' },
            y: { field: 'lossVariance', ...y },
            color: { field: 'rule', type: 'nominal', title: null },
          },
        },
        {
          mark: 'errorbar',
          encoding: { x: { field: 'width', type: 'quantitative', scale: { type: 'log', base: 2 } }, y: { field: 'lo', ...y }, y2: { field: 'hi' }, color: { field: 'rule', type: 'nominal' } },
        },
      ],
    } as TopLevelSpec,
  };
}

export function ziyinFigures(d: ReportData): Figure[] {
  const rows = ziyinSigmaComparisons(d.trials);
  const es = ziyinEllipses(d.trials);
  const noise = ziyinNoiseComparisons(d.trials, d.measurements);
  return [
    ...(rows.length > 0 ? [sigmaFigure(rows), lossesFigure(rows)] : []),
    noiseCovarianceFigure(noise, d.trials),
    noiseAlongTrainingFigure(noise, d.trials),
    noiseCovariance2dFigure(noise, d.trials, es),
    generalNoiseFigure(ziyinGeneralNoiseRows(d.trials, d.measurements)),
    es.length > 0 ? ellipseFigure(es) : undefined,
    widthFigure(d.trials),
    mnistDecayFigure(d.trials),
    regressionDecayFigure(d.trials),
  ].filter((f): f is Figure => f !== undefined);
}
