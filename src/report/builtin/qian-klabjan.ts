/**
 * The qian-klabjan built-in study's comparisons and figure (Qian & Klabjan 2020): the minibatch
 * gradient variance vs b after k steps from a fixed w₀, with and without replacement, its polynomial
 * fit in 1/b, and at k = 0 the closed forms tr Σ₁/b and tr Σ₁(N − b)/(b(N − 1)).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { StoredMeasurement, StoredTrial } from '../../study/index.js';
import { finiteVarianceCurves, isMeasurementOf, type GradientVarianceCurve } from '../../study/records.js';
import type { ReportData } from '../data.js';
import type { Figure } from '../figures.js';
import type { Table } from '../tables.js';

/** A measured curve (its values finite) with its trial's key, model and seed. */
export type VarianceCurve = GradientVarianceCurve & { key: string; model: string; seed: number };

export function qkCurves(trials: readonly StoredTrial[], measurements: readonly StoredMeasurement[]): VarianceCurve[] {
  const byKey = new Map(trials.map((t) => [t.key, t]));
  return measurements.filter((m) => isMeasurementOf(m, 'gradientVariance')).flatMap((m) => {
    const t = byKey.get(m.key);
    if (!t || !m.result) return [];
    const model = t.config.model.name === 'deep-linear' ? `deep linear ${JSON.stringify(t.config.model.widths ?? [])}` : t.config.model.name;
    return finiteVarianceCurves(m.result).map((c) => ({ key: m.key, model, seed: t.config.seed, ...c }));
  });
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export function qianKlabjanFigures(d: ReportData): Figure[] {
  const curves = qkCurves(d.trials, d.measurements);
  if (curves.length === 0) return [];
  const seed = Math.min(...curves.map((c) => c.seed));
  const mine = curves.filter((c) => c.seed === seed);
  const sampling = (r: boolean) => (r ? 'with replacement' : 'without replacement');
  const points = mine.flatMap((c) => c.points.map((p) => ({ model: c.model, sampling: sampling(c.replacement), k: c.step, b: p.b, variance: p.variance, lo: Math.max(p.variance - 2 * p.standardError, p.variance * 0.02), hi: p.variance + 2 * p.standardError })));
  const fits = mine.flatMap((c) => {
    const bs = c.points.map((p) => p.b);
    const [lo, hi] = [Math.min(...bs), Math.max(...bs)];
    return Array.from({ length: 40 }, (_, i) => lo * (hi / lo) ** (i / 39)).map((b) => ({ model: c.model, sampling: sampling(c.replacement), k: c.step, b, variance: c.fit.reduce((s, coef, j) => s + coef * b ** -j, 0), curve: 'fit' }));
  }).filter((p) => p.variance > 0);
  const exact = mine.filter((c) => c.exact).flatMap((c) => c.points.map((p, i) => ({ model: c.model, sampling: sampling(c.replacement), b: p.b, variance: c.exact![i]! })));
  return [{
    id: 'qk-variance-vs-b', title: 'Gradient variance vs batch size along training',
    caption: `Var(g_k | w₀) over independent batch sequences from one initialization (seed ${seed}), for each model and sampling, after k SGD steps (colour); points ± 2 standard errors, lines the least-squares polynomial in 1/b, black crosses the closed form at k = 0 (tr Σ₁/b with replacement, tr Σ₁(N − b)/(b(N − 1)) without). Decreasing in b at every k: ${mine.every((c) => c.nonIncreasing) ? 'yes, for every curve' : `no, for ${mine.filter((c) => !c.nonIncreasing).length} curve(s)`}.`,
    spec: {
      $schema: SCHEMA, title: 'Var(g_k) vs b',
      facet: { row: { field: 'model', type: 'nominal', title: null }, column: { field: 'sampling', type: 'nominal', title: null } },
      data: { values: [...points.map((p) => ({ ...p, layer: 'measured' })), ...fits.map((p) => ({ ...p, layer: 'fit' })), ...exact.map((p) => ({ ...p, layer: 'exact', k: 0 }))] },
      spec: {
        width: 240, height: 180,
        layer: [
          { transform: [{ filter: "datum.layer === 'fit'" }], mark: { type: 'line', opacity: 0.7 }, encoding: { x: { field: 'b', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { labelFlush: false }, title: 'b' }, y: { field: 'variance', type: 'quantitative', scale: { type: 'log' }, title: 'Var(g_k)' }, color: { field: 'k', type: 'ordinal', title: 'steps k', scale: { scheme: 'viridis' } } } },
          { transform: [{ filter: "datum.layer === 'measured'" }], mark: { type: 'point', filled: true }, encoding: { x: { field: 'b', type: 'quantitative', scale: { type: 'log', base: 2 } }, y: { field: 'variance', type: 'quantitative', scale: { type: 'log' } }, color: { field: 'k', type: 'ordinal' } } },
          { transform: [{ filter: "datum.layer === 'measured'" }], mark: 'errorbar', encoding: { x: { field: 'b', type: 'quantitative', scale: { type: 'log', base: 2 } }, y: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, title: 'Var(g_k)' }, y2: { field: 'hi' }, color: { field: 'k', type: 'ordinal' } } },
          { transform: [{ filter: "datum.layer === 'exact'" }], mark: { type: 'point', shape: 'cross', color: 'black', size: 60 }, encoding: { x: { field: 'b', type: 'quantitative', scale: { type: 'log', base: 2 } }, y: { field: 'variance', type: 'quantitative', scale: { type: 'log' } } } },
        ],
      },
    } as TopLevelSpec,
  }];
}

const samplingName = (replacement: boolean) => (replacement ? 'with replacement' : 'without replacement');

/**
 * Qian & Klabjan's claims, one row per model and sampling over every seed: the variance decreases in b at
 * every k (how many curves do), the degree in 1/b the data support at each k (held-out choice, per seed),
 * and, where the exact moment recursion exists (linear regression), how far the Monte Carlo is from it
 * in standard errors (largest |measured − exact|/SE over b, k and seeds).
 */
export function qianKlabjanTables(d: ReportData): Table[] {
  const curves = qkCurves(d.trials, d.measurements);
  if (curves.length === 0) return [];
  const groups = new Map<string, VarianceCurve[]>();
  for (const c of curves) {
    const id = `${c.model}\u0000${c.replacement}`;
    groups.set(id, [...(groups.get(id) ?? []), c]);
  }
  const rows = [...groups.values()].map((g) => {
    const steps = [...new Set(g.map((c) => c.step))].sort((a, b) => a - b);
    const degrees = steps.map((k) => `k=${k}: ${g.filter((c) => c.step === k).map((c) => (c.heldOut ? c.heldOut.degree : `${c.fit.length - 1} (fixed)`)).join('/')}`).join(', ');
    const deviations = g.flatMap((c) => (c.exactRecursion ? c.points.map((p, i) => Math.abs(p.variance - c.exactRecursion![i]!) / p.standardError) : []));
    return [
      g[0]!.model, samplingName(g[0]!.replacement), String(new Set(g.map((c) => c.seed)).size), steps.join(', '),
      `${g.filter((c) => c.nonIncreasing).length} of ${g.length}`, degrees,
      deviations.length === 0 ? '– (no exact recursion)' : `${Math.max(...deviations).toFixed(2)} (${deviations.length} points)`,
    ];
  });
  return [{
    id: 'qk-claims', title: 'Qian & Klabjan 2020: the gradient variance along training, claim by claim',
    columns: ['model', 'sampling', 'seeds', 'steps k', 'curves decreasing in b', 'degree in 1/b by held-out error (per seed)', 'largest |Monte Carlo − exact recursion| / SE'],
    rows,
  }];
}
