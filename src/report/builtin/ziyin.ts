/**
 * The ziyin built-in study's comparisons and figures (Ziyin et al. 2022): measured stationary
 * fluctuations of sgdlab's own SGD against the exact discrete-time formulas and the continuous-time
 * ones, the 2-D fluctuation ellipse against the exact Σ and the Hessian, the width sweep, and the
 * test loss over weight decay. The comparisons are plain functions so tests can assert them.
 */
import type { TopLevelSpec } from 'vega-lite';
import { labelNoiseRegression, sigma1dContinuous, divergenceLearningRate, tailIndex } from '../../theory/index.js';
import type { StoredTrial } from '../../study/index.js';
import { fullFluctuations } from '../../study/records.js';
import type { ReportData } from '../data.js';
import type { Figure } from '../figures.js';

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
    if (!lr || lr.dim !== 1 || typeof t.config.batchSize !== 'number') continue;
    const a = (lr.covariance as number[])[0]!;
    const s2 = lr.labelNoise ** 2;
    const S = t.config.batchSize;
    const lambda = t.config.optimizer.lr;
    const exact = labelNoiseRegression({ eigenvalues: [a], noiseVariance: s2, batchSize: S, learningRate: lambda });
    const continuous = sigma1dContinuous(s2, S, lambda) * 1;
    const beta = tailIndex(a, S, lambda);
    const row: SigmaComparison = { key: t.key, lr: lambda, batchSize: S, status: t.status, exact: exact.sigma[0]!, continuous, tailIndex: beta };
    const f = fullFluctuations(t.result);
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
  measured: number[][];
  exact: number[][];
  hessian: number[][];
  mean: number[];
  steps: number;
}

/** The 2-D trial: measured Cov(w) against the exact Σ rotated back from A's eigenbasis. */
export function ziyinEllipse(trials: readonly StoredTrial[]): ZiyinEllipse | undefined {
  for (const t of trials) {
    const lr = regressionOf(t);
    const f = fullFluctuations(t.result);
    if (!lr || lr.dim !== 2 || !f?.weightCovariance || typeof t.config.batchSize !== 'number') continue;
    const A = lr.covariance as number[][];
    // Eigen-decomposition of the symmetric 2×2 A.
    const [p, q, r] = [A[0]![0]!, A[0]![1]!, A[1]![1]!];
    const mid = (p + r) / 2;
    const rad = Math.hypot((p - r) / 2, q);
    const values = [mid + rad, mid - rad];
    const theta = 0.5 * Math.atan2(2 * q, p - r);
    const Q = [[Math.cos(theta), -Math.sin(theta)], [Math.sin(theta), Math.cos(theta)]];
    const sol = labelNoiseRegression({
      eigenvalues: values, noiseVariance: lr.labelNoise ** 2, batchSize: t.config.batchSize,
      learningRate: t.config.optimizer.lr, momentum: t.config.optimizer.momentum ?? 0,
    });
    const exact = [0, 1].map((i) => [0, 1].map((j) => Q[i]![0]! * sol.sigma[0]! * Q[j]![0]! + Q[i]![1]! * sol.sigma[1]! * Q[j]![1]!));
    return { key: t.key, measured: f.weightCovariance, exact, hessian: A, mean: f.weightMean, steps: f.steps };
  }
  return undefined;
}

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
            color: { field: 'S', type: 'nominal', title: 'batch size' },
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
            color: { field: 'S', type: 'nominal' },
            fill: { condition: { test: '!datum.heavy', field: 'S', type: 'nominal' }, value: 'white' },
          },
        },
        {
          data: { values: measured }, mark: 'errorbar',
          encoding: {
            x: { field: 'lr', type: 'quantitative' },
            y: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, title: 'Var(w) at stationarity' },
            y2: { field: 'hi' }, color: { field: 'S', type: 'nominal' },
          },
        },
        {
          data: { values: thresholds }, mark: { type: 'rule', strokeDash: [2, 2] },
          encoding: { x: { field: 'lr', type: 'quantitative' }, color: { field: 'S', type: 'nominal' } },
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
              color: { field: 'S', type: 'nominal' },
              strokeDash: { field: 'source', type: 'nominal', scale: { domain: ['exact', 'continuous time'], range: [[1, 0], [5, 4]] } },
            },
          },
          {
            transform: [{ filter: "datum.source === 'measured'" }], mark: { type: 'point', filled: true },
            encoding: {
              x: { field: 'lr', type: 'quantitative' },
              y: { field: 'value', type: 'quantitative', scale: { type: 'log' } },
              color: { field: 'S', type: 'nominal' },
            },
          },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    } as TopLevelSpec,
  };
}

/** The 2-D trial's one-standard-deviation ellipses: measured Cov(w), the exact Σ, and the Hessian scaled to Σ's trace. */
function ellipseFigure(e: ZiyinEllipse): Figure {
  // Scale the Hessian's ellipse to the exact Σ's size so that the shapes can be compared.
  const tr = (m: number[][]) => m[0]![0]! + m[1]![1]!;
  const values = [
    ...ellipse(e.measured, e.mean, 1, 'measured Cov(w)'),
    ...ellipse(e.exact, e.mean, 1, 'exact Σ'),
    ...ellipse(e.hessian, e.mean, Math.sqrt(tr(e.exact) / tr(e.hessian)), 'Hessian A (scaled)'),
  ];
  return {
    id: 'ziyin-fluctuation-ellipse', title: '2-D fluctuation ellipse vs the exact Σ and the Hessian',
    caption: `One-standard-deviation ellipses of the weights at stationarity (${e.steps} steps recorded) for A = [[1, 0.5], [0.5, 0.5]], `
      + "λ = 0.5, S = 4: measured, exact (Ziyin et al.'s Σ, rotated from A's eigenbasis), and the Hessian A scaled to the same trace. "
      + 'Σ is not proportional to A: the noise is not "∝ H".',
    spec: {
      $schema: SCHEMA, title: 'Fluctuation ellipses', width: 320, height: 320, data: { values },
      mark: 'line',
      encoding: {
        x: { field: 'x', type: 'quantitative', scale: { zero: false }, title: 'w₁' },
        y: { field: 'y', type: 'quantitative', scale: { zero: false }, title: 'w₂' },
        order: { field: 'order', type: 'quantitative' },
        color: { field: 'curve', type: 'nominal', title: null },
        strokeDash: {
          field: 'curve', type: 'nominal',
          scale: { domain: ['measured Cov(w)', 'exact Σ', 'Hessian A (scaled)'], range: [[1, 0], [5, 3], [2, 2]] },
        },
      },
    } as TopLevelSpec,
  };
}

/** The MLP trials: the variance of the training loss over the hidden width, at fixed λ and with λ ∝ 1/d. */
function widthFigure(trials: readonly StoredTrial[]): Figure | undefined {
  const width = trials.filter((t) => t.config.model.name === 'mlp' && t.status === 'completed' && fluctuationsOf(t));
  if (width.length === 0) return undefined;
  const values = width.map((t) => {
    const w = t.config.model.widths![0]!;
    return { width: w, lossVariance: fluctuationsOf(t)!.lossVariance, rule: t.config.optimizer.lr === 0.5 ? 'λ = 0.5' : 'λ = 50/d' };
  });
  return {
    id: 'ziyin-width-sweep', title: 'Variance of the training loss vs width',
    caption: 'A 1-hidden-layer tanh MLP on MNIST, S = 32: the variance of the minibatch training loss over the last 75% of training, '
      + 'at a fixed λ = 0.5 and with λ ∝ 1/d (Ziyin et al.: it grows with d at fixed λ; scaling λ with 1/d keeps it bounded).',
    spec: {
      $schema: SCHEMA, title: 'Loss variance vs width', width: 380, height: 240, data: { values },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'width', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'hidden width d' },
        y: { field: 'lossVariance', type: 'quantitative', scale: { type: 'log' }, title: 'Var(training loss)' },
        color: { field: 'rule', type: 'nominal', title: null },
      },
    } as TopLevelSpec,
  };
}

/** The logistic-regression trials: the test loss over the weight decay γ, the best γ marked. */
function weightDecayFigure(trials: readonly StoredTrial[]): Figure | undefined {
  const decay = trials.filter((t) => t.config.model.name === 'logistic-regression' && t.status === 'completed');
  if (decay.length === 0) return undefined;
  const values = decay.map((t) => ({ weightDecay: t.config.optimizer.weightDecay ?? 0, testLoss: t.result?.test?.loss ?? NaN })).sort((a, b) => a.weightDecay - b.weightDecay);
  const best = values.reduce((a, b) => (b.testLoss < a.testLoss ? b : a));
  return {
    id: 'ziyin-weight-decay', title: 'Test loss vs weight decay (logistic regression on MNIST, λ = 1.5, S = 32)',
    caption: `The best weight decay in this grid is γ = ${best.weightDecay} (test loss ${best.testLoss.toPrecision(4)}). `
      + 'Ziyin et al. show that at a large learning rate the optimal γ can be negative.',
    spec: {
      $schema: SCHEMA, title: 'Test loss vs γ', width: 380, height: 240,
      layer: [
        {
          data: { values }, mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'weightDecay', type: 'quantitative', title: 'weight decay γ' },
            y: { field: 'testLoss', type: 'quantitative', scale: { zero: false }, title: 'test loss' },
          },
        },
        {
          data: { values: [best] }, mark: { type: 'point', shape: 'diamond', size: 140, color: '#d62728', filled: true },
          encoding: { x: { field: 'weightDecay', type: 'quantitative' }, y: { field: 'testLoss', type: 'quantitative' } },
        },
      ],
    } as TopLevelSpec,
  };
}

export function ziyinFigures(d: ReportData): Figure[] {
  const rows = ziyinSigmaComparisons(d.trials);
  const e = ziyinEllipse(d.trials);
  return [
    ...(rows.length > 0 ? [sigmaFigure(rows), lossesFigure(rows)] : []),
    e && ellipseFigure(e),
    widthFigure(d.trials),
    weightDecayFigure(d.trials),
  ].filter((f): f is Figure => f !== undefined);
}
