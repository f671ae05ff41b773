/**
 * The ziyin study's noise covariance beyond linear regression: Ziyin et al. 2022's general approximation
 * near a minimum (Theorem 5, derived for the MSE loss under Σ = O(1/S) and |L − ℓᵢ| = o(L)),
 *   C(w) ≈ (2L₀/S)H₀ − (1/S)∇L∇Lᵀ,
 * checked on the MNIST trials, whose loss is cross-entropy, outside the theorem's assumptions (the paper cites
 * Mori et al. 2021 for the noise being proportional to the loss under cross-entropy too). Per trial, at its
 * final w and over the same training examples: S·tr C = tr Σ₁ measured from per-example gradients (the
 * exact C, the paper's Proposition 1), against 2L·tr H − |∇L|² with tr H by Hutchinson's estimator and
 * against the Hessian approximation tr H alone (C ∝ H with the constant of a loss of ½).
 */
import type { TopLevelSpec } from 'vega-lite';
import { isMeasurementOf, type StoredMeasurement, type StoredTrial } from '../../study/index.js';
import type { Figure } from '../figures.js';

export interface GeneralNoiseRow {
  key: string;
  /** 'logistic regression', 'MLP, SGD' or 'MLP, Adam'. */
  family: string;
  /** tr Σ₁ = S·tr C measured. */
  measured: number;
  /** Theorem 5's S·tr C: 2L·tr H − |∇L|². */
  theorem5: number;
  /** tr H (Hutchinson) and its standard error. */
  traceHessian: number;
  traceHessianStandardError: number;
  loss: number;
  examples: number;
}

const familyOf = (t: StoredTrial): string | undefined =>
  t.config.model.name === 'logistic-regression' ? 'logistic regression' : t.config.model.name === 'mlp' ? `MLP, ${t.config.optimizer.name === 'adam' ? 'Adam' : 'SGD'}` : undefined;

/** The MNIST trials with both a noise measurement (with L) and a Hessian trace, finite throughout. */
export function ziyinGeneralNoiseRows(trials: readonly StoredTrial[], measurements: readonly StoredMeasurement[]): GeneralNoiseRow[] {
  const completed = measurements.filter((m) => m.status === 'completed');
  const noise = new Map(completed.filter((m) => isMeasurementOf(m, 'noise')).map((m) => [m.key, (m as StoredMeasurement<'noise'>).result]));
  const hessian = new Map(completed.filter((m) => isMeasurementOf(m, 'hessian')).map((m) => [m.key, (m as StoredMeasurement<'hessian'>).result]));
  return trials.flatMap((t) => {
    const family = familyOf(t);
    const n = noise.get(t.key);
    const h = hessian.get(t.key);
    if (t.status !== 'completed' || t.config.data.name !== 'mnist' || !family || typeof n?.loss !== 'number' || typeof n.traceSigma !== 'number' || typeof n.gradNormSq !== 'number' || typeof h?.trace !== 'number') return [];
    const row = {
      key: t.key, family, measured: n.traceSigma, theorem5: 2 * n.loss * h.trace - n.gradNormSq, traceHessian: h.trace,
      traceHessianStandardError: typeof h.traceStandardError === 'number' ? h.traceStandardError : NaN, loss: n.loss, examples: n.examples ?? NaN,
    };
    return [row.measured, row.theorem5, row.traceHessian].every((v) => Number.isFinite(v) && v > 0) ? [row] : [];
  });
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Measured S·tr C against Theorem 5's 2L·tr H − |∇L|², one point per MNIST trial, on log axes with the line y = x. */
export function generalNoiseFigure(rows: readonly GeneralNoiseRow[]): Figure | undefined {
  if (rows.length === 0) return undefined;
  const values = rows.map((r) => ({ family: r.family, theorem5: r.theorem5, measured: r.measured, hessian: r.traceHessian }));
  const all = values.flatMap((v) => [v.theorem5, v.measured, v.hessian]);
  const [lo, hi] = [Math.min(...all) / 1.5, Math.max(...all) * 1.5];
  const axis = (title: string) => ({ type: 'quantitative' as const, scale: { type: 'log' as const, domain: [lo, hi] }, title });
  return {
    id: 'ziyin-noise-general', title: 'The noise covariance on MNIST (cross-entropy) against Theorem 5\'s C ≈ (2L₀/S)H − ∇L∇Lᵀ/S',
    caption: `One point per MNIST trial (logistic regression at λ = 1.5, S = 32 over every γ; the tanh MLPs of the width sweep), at its final w over `
      + `${Math.max(...rows.map((r) => r.examples))} training examples: S·tr C measured from per-example gradients (the exact C, Proposition 1) against `
      + '2L·tr H − |∇L|² (filled), Theorem 5\'s approximation, derived for MSE, with tr H by Hutchinson\'s estimator (30 probes), and against '
      + 'tr H alone (open: the Hessian approximation C ∝ H). On the line y = x the approximation is exact.',
    spec: {
      $schema: SCHEMA, title: 'S·tr C: measured vs approximations', width: 360, height: 300,
      layer: [
        { data: { values: [{ v: lo }, { v: hi }] }, mark: { type: 'line', strokeDash: [5, 4], color: '#555' }, encoding: { x: { field: 'v', ...axis('approximation of S·tr C') }, y: { field: 'v', ...axis('S·tr C measured') } } },
        { data: { values }, mark: { type: 'point', filled: true, size: 40, opacity: 0.8 }, encoding: { x: { field: 'theorem5', ...axis('approximation of S·tr C') }, y: { field: 'measured', ...axis('S·tr C measured') }, color: { field: 'family', type: 'nominal', title: 'trials' } } },
        { data: { values }, mark: { type: 'point', filled: false, size: 40, opacity: 0.6 }, encoding: { x: { field: 'hessian', ...axis('approximation of S·tr C') }, y: { field: 'measured', ...axis('S·tr C measured') }, color: { field: 'family', type: 'nominal', title: 'trials' } } },
      ],
    } as TopLevelSpec,
  };
}
