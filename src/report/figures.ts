/**
 * The figures the papers draw, as Vega-Lite specifications built from a study's stored results.
 * Each is data (JSON) so a dashboard can show the same figure interactively. A figure is produced
 * only when the study holds what it needs (e.g. sharpness figures need sharpness measurements).
 *
 *  - test accuracy, training loss and generalization gap vs batch size, mean ± std bands per budget
 *    (Keskar et al. 2017 Fig. 1 / Table 2; Smith et al. 2020 Figs. 1–4);
 *  - best learning rate vs batch size, log-log, with the linear-scaling line ε ∝ B through the
 *    smallest batch and the batch size where it stops holding (Smith et al. 2020 §3: the
 *    noise-dominated regime ends where the best ε stops growing with B; Goyal et al. 2017);
 *  - learning curves of the best trials;
 *  - sharpness (φ for each ε and space, λ_max, trace) vs batch size and vs the generalization gap
 *    (Keskar et al. Tables 3–4, Fig. 4);
 *  - minibatch gradient variance vs b with the exact curves tr Σ/b · (N−b)/(N−1) and tr Σ/b
 *    (SCIENCE.md §2; Qian & Klabjan 2020);
 *  - batch size × learning rate heatmap of test accuracy with iso-lines of the SGD temperature
 *    T = ε(N − B)/(B(N − 1))/(1 − m) (theory/noise.ts; Smith, Elsen & De 2020; Smith & Le 2018): on
 *    log-log axes, lines of slope 1 while B ≪ N.
 */
import type { TopLevelSpec } from 'vega-lite';
import { bestByBatchSize, isMeasurementOf, levelOf, measurementValues, seriesOf, splitObjectiveLabel, type Stat } from '../study/index.js';
import { sgdTemperature } from '../theory/noise.js';
import { budgetLabel, type ReportData } from './data.js';
import type { Figure } from './types.js';

export type { Figure } from './types.js';

const WIDTH = 420;
const HEIGHT = 260;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const log2 = { type: 'log' as const, base: 2 };
/** The batch-size axis; its last label not flushed inside the plot (flushed, Vega dropped 4,096 at the right end as overlapping 2,048). */
const batchAxis = { field: 'batchSize', type: 'quantitative' as const, scale: log2, title: 'batch size B', axis: { labelFlush: false } };

/** Superscript digits and minus, for 2⁻ᵏ labels (DejaVu Sans, the PNG renderer's font, has them). */
const SUPERSCRIPT: Record<string, string> = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };
/** A Vega expression labelling a tick at 2^k as 2ᵏ (k read back from the value). */
const POWER_OF_TWO_LABEL = `'2' + ${Object.entries(SUPERSCRIPT).reduce((e, [c, sup]) => `replace(${e}, regexp('${c}', 'g'), '${sup}')`, 'toString(round(log(datum.value) / LN2))')}`;

/**
 * A learning-rate axis on a log₂ scale, ticks at the whole powers of 2 labelled 2⁻ᵏ (never 0.0009765625):
 * its domain `domain` when given, else the powers of 2 around the values (at least a factor of 4); a
 * tick at every power of 2 in it, every other when there are more than 13.
 */
export function lrScaleAxis(lrs: readonly number[], domain?: [number, number]): { scale: { type: 'log'; base: 2; domain: [number, number] }; axis: { values: number[]; labelExpr: string } } {
  const finite = lrs.filter((x) => Number.isFinite(x) && x > 0);
  const lo = domain?.[0] ?? 2 ** Math.floor(Math.log2(Math.min(...finite)) + 1e-9);
  let hi = domain?.[1] ?? 2 ** Math.ceil(Math.log2(Math.max(...finite)) - 1e-9);
  if (!domain && hi / lo < 4) hi = lo * 4;
  const powers: number[] = [];
  for (let k = Math.ceil(Math.log2(lo) - 1e-9); k <= Math.floor(Math.log2(hi) + 1e-9); k++) powers.push(2 ** k);
  const values = powers.length > 13 ? powers.filter((_, i) => (powers.length - 1 - i) % 2 === 0) : powers;
  return { scale: { type: 'log', base: 2, domain: [lo, hi] }, axis: { values, labelExpr: POWER_OF_TWO_LABEL } };
}

type Band = { batchSize: number; budget: string; mean: number; lo: number; hi: number; n: number };
/** The curve a result belongs to: its budget, and its series when the study sweeps several. */
const groupLabel = (r: { budget: unknown; series: string }) => (r.series ? `${r.series}, ${budgetLabel(r.budget)}` : budgetLabel(r.budget));

const band = (batchSize: number, r: { budget: unknown; series: string }, s: Stat, factor = 1): Band => ({
  batchSize, budget: groupLabel(r), mean: factor * s.mean, lo: factor * (s.mean - s.std), hi: factor * (s.mean + s.std), n: s.n,
});

/** Budgets seen at one batch size only (e.g. an epoch-budget sweep at one B) do not make a curve over B. */
const overBatchSizes = <R extends { budget: string; batchSize: number }>(rows: R[]): R[] => {
  const sizes = new Map<string, Set<number>>();
  for (const r of rows) sizes.set(r.budget, (sizes.get(r.budget) ?? new Set()).add(r.batchSize));
  return rows.filter((r) => sizes.get(r.budget)!.size > 1);
};

/** A mean ± std band with the mean as a line with points, coloured by budget. */
function bandFigure(id: string, title: string, caption: string, all: Band[], yTitle: string, yScale?: { type: 'log' }): Figure | undefined {
  const rows = overBatchSizes(all);
  if (rows.length === 0) return undefined;
  const y = { field: 'mean', type: 'quantitative' as const, title: yTitle, ...(yScale ? { scale: { ...yScale } } : { scale: { zero: false } }) };
  return {
    id, title, caption,
    spec: {
      $schema: SCHEMA, title, width: WIDTH, height: HEIGHT,
      data: { values: rows },
      encoding: { x: batchAxis, color: { field: 'budget', type: 'nominal', title: 'budget' } },
      layer: [
        { mark: { type: 'area', opacity: 0.2 }, encoding: { y: { field: 'lo', type: 'quantitative', ...(yScale ? { scale: { ...yScale } } : {}) }, y2: { field: 'hi' } } },
        { mark: { type: 'line', point: true }, encoding: { y, tooltip: [{ field: 'batchSize' }, { field: 'mean', format: '.4g' }, { field: 'n' }] } },
      ],
    } as TopLevelSpec,
  };
}

export function accuracyVsBatchSize(d: ReportData): Figure | undefined {
  const rows = d.rows.filter((r) => Number.isFinite(r.testAccuracy.mean)).map((r) => band(r.batchSize, r, r.testAccuracy, 100));
  if (rows.length === 0) return undefined;
  return bandFigure('test-accuracy-vs-batch-size', 'Test accuracy vs batch size', 'At the best learning rate for each batch size and budget; band: ± one standard deviation over seeds.', rows, 'test accuracy (%)');
}

export function trainLossVsBatchSize(d: ReportData): Figure | undefined {
  const rows = d.rows.filter((r) => r.trainLoss.mean > 0).map((r) => band(r.batchSize, r, r.trainLoss));
  if (rows.length === 0) return undefined;
  return bandFigure('train-loss-vs-batch-size', 'Training loss vs batch size', 'Final training loss at the best learning rate; log scale. Under a constant-epoch budget large batches take fewer steps and stop higher (Smith et al. 2020).', rows, 'training loss', { type: 'log' });
}

export function gapVsBatchSize(d: ReportData): Figure | undefined {
  const rows = d.rows.filter((r) => r.gap).map((r) => band(r.batchSize, r, r.gap!, 100));
  if (rows.length === 0) return undefined;
  return bandFigure('generalization-gap-vs-batch-size', 'Generalization gap vs batch size', 'Training accuracy minus test accuracy (percentage points) at the best learning rate (Keskar et al. 2017, Table 2).', rows, 'train − test accuracy (points)');
}

/**
 * Where linear scaling stops: the first batch size whose best learning rate is below half of the
 * linear-scaling prediction ε₀·B/B₀ from the smallest batch (the factor-of-2 grid's resolution).
 */
export function linearScalingBoundary(points: readonly { batchSize: number; bestLr: number }[]): number | undefined {
  const sorted = [...points].sort((a, b) => a.batchSize - b.batchSize);
  const first = sorted[0];
  if (!first) return undefined;
  return sorted.find((p) => p.bestLr < 0.5 * first.bestLr * (p.batchSize / first.batchSize))?.batchSize;
}

export function bestLrVsBatchSize(d: ReportData): Figure | undefined {
  if (d.rows.length === 0) return undefined;
  const points = overBatchSizes(d.rows.map((r) => ({ batchSize: r.batchSize, bestLr: r.bestLr, budget: groupLabel(r), edge: r.tried.length > 1 && (r.bestLr === Math.min(...r.tried.map((t) => t.lr)) || r.bestLr === Math.max(...r.tried.map((t) => t.lr))) })));
  if (points.length === 0) return undefined;
  const edges = points.filter((p) => p.edge);
  const budgets = [...new Set(points.map((p) => p.budget))];
  const lines: { batchSize: number; lr: number; budget: string }[] = [];
  const rules: { batchSize: number; budget: string }[] = [];
  for (const budget of budgets) {
    const mine = points.filter((p) => p.budget === budget).sort((a, b) => a.batchSize - b.batchSize);
    const first = mine[0]!;
    for (const p of mine) lines.push({ batchSize: p.batchSize, lr: first.bestLr * (p.batchSize / first.batchSize), budget });
    const boundary = linearScalingBoundary(mine);
    if (boundary !== undefined) rules.push({ batchSize: boundary, budget });
  }
  const lrY = lrScaleAxis([...points.map((p) => p.bestLr), ...lines.map((l) => l.lr)]);
  const caption = `Best learning rate (by ${d.study.select}) per batch size; dashed: linear scaling ε ∝ B through the smallest batch. ` +
    (edges.length > 0 ? `Open circles: the best learning rate is at the edge of the grid (${edges.map((e) => `B = ${e.batchSize}, ${e.budget}`).join('; ')}), so the optimum may lie outside it. ` : '') +
    (rules.length > 0 ? `Linear scaling stops holding at ${rules.map((r) => `B = ${r.batchSize} (${r.budget})`).join(', ')} (vertical rule: first B whose best ε is below half the linear prediction), the end of the noise-dominated regime (Smith et al. 2020).` : 'Within the grid, the best learning rate follows linear scaling to within a factor of 2 (no regime boundary seen).');
  return {
    id: 'best-lr-vs-batch-size', title: 'Best learning rate vs batch size', caption,
    spec: {
      $schema: SCHEMA, title: 'Best learning rate vs batch size', width: WIDTH, height: HEIGHT,
      layer: [
        { data: { values: lines }, mark: { type: 'line', strokeDash: [5, 4], opacity: 0.7 }, encoding: { x: batchAxis, y: { field: 'lr', type: 'quantitative', ...lrY }, color: { field: 'budget', type: 'nominal' } } },
        { data: { values: points }, mark: { type: 'point', size: 70 }, encoding: { fill: { condition: { test: '!datum.edge', field: 'budget', type: 'nominal' }, value: 'white' }, x: batchAxis, y: { field: 'bestLr', type: 'quantitative', ...lrY, title: 'best learning rate ε' }, color: { field: 'budget', type: 'nominal', title: 'budget' } } },
        ...(rules.length > 0 ? [{ data: { values: rules }, mark: { type: 'rule' as const, color: '#888', strokeDash: [2, 2] }, encoding: { x: batchAxis } }] : []),
      ],
    } as TopLevelSpec,
  };
}

export function learningCurves(d: ReportData): Figure | undefined {
  const byKey = new Map(d.trials.map((t) => [t.key, t]));
  const values: { step: number; value: number; metric: string; batchSize: number; trial: string; budget: string }[] = [];
  for (const r of d.rows) {
    for (const key of r.bestTrials) {
      const t = byKey.get(key)!;
      for (const m of d.curves.get(key) ?? []) {
        if (m.name === 'loss' || m.name === 'test.accuracy' || m.name === 'train.loss') values.push({ step: m.step, value: m.name === 'test.accuracy' ? 100 * m.value : m.value, metric: m.name === 'loss' ? 'minibatch loss' : m.name === 'train.loss' ? 'training loss' : 'test accuracy (%)', batchSize: r.batchSize, trial: `${key}`, budget: budgetLabel(t.config.budget) });
      }
    }
  }
  if (values.length === 0) return undefined;
  return {
    id: 'learning-curves', title: 'Learning curves of the best trials',
    caption: 'Minibatch loss along training and the evaluated training loss and test accuracy, for the best learning rate at each batch size (one line per seed).',
    spec: {
      $schema: SCHEMA, title: 'Learning curves', data: { values },
      facet: { column: { field: 'metric', type: 'nominal', title: null } },
      spec: {
        width: 260, height: 200,
        mark: { type: 'line', opacity: 0.8 },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step' },
          y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
          color: { field: 'batchSize', type: 'ordinal', title: 'B', scale: { scheme: 'viridis' } },
          detail: { field: 'trial', type: 'nominal' },
        },
      },
      resolve: { scale: { y: 'independent' } },
    } as TopLevelSpec,
  };
}

/** The curvature values among a row's measurements, under any objective (a non-default one labels the name: results.ts). */
const SHARPNESS_NAMES = (names: string[]) => names.filter((n) => {
  const { quantity } = splitObjectiveLabel(n);
  return quantity === 'lambdaMax' || quantity === 'hessianTrace' || quantity.startsWith('phi(');
});
const quantityTitle = (name: string) => (name === 'lambdaMax' ? 'λ_max (top Hessian eigenvalue)' : name === 'hessianTrace' ? 'tr H' : name.replace('phi', 'φ').replace('eps=', 'ε = '));
/** A value's quantity (a column) and objective (a row: 'BN running' for the default, batch norm by running statistics), so that the objectives' values never share a panel. */
const byObjective = (name: string) => {
  const { quantity, objective } = splitObjectiveLabel(name);
  return { quantity: quantityTitle(quantity), objective: objective === '' ? 'BN running' : objective };
};

export function sharpnessVsBatchSize(d: ReportData): Figure | undefined {
  const values = d.rows.flatMap((r) => SHARPNESS_NAMES(Object.keys(r.measurements)).map((name) => ({ ...band(r.batchSize, r, r.measurements[name]!), ...byObjective(name) })));
  if (values.length === 0) return undefined;
  return {
    id: 'sharpness-vs-batch-size', title: 'Sharpness vs batch size',
    caption: "Keskar et al.'s φ(ε, A) (full space and random subspaces), the top Hessian eigenvalue and the Hessian trace at the best learning rate's minima; mean ± std over seeds; one row per objective measured under (BN running: batch norm by running statistics; BN batch: by the evaluated examples' statistics, Keskar et al.'s; clip: probabilities clipped as Keras 1 did).",
    spec: {
      $schema: SCHEMA, title: 'Sharpness vs batch size', data: { values },
      facet: { column: { field: 'quantity', type: 'nominal', title: null }, row: { field: 'objective', type: 'nominal', title: 'objective' } },
      spec: {
        width: 220, height: 200,
        encoding: { x: batchAxis, color: { field: 'budget', type: 'nominal' } },
        layer: [
          { mark: { type: 'errorbar' }, encoding: { y: { field: 'lo', type: 'quantitative', title: null, scale: { zero: false } }, y2: { field: 'hi' } } },
          { mark: { type: 'line', point: true }, encoding: { y: { field: 'mean', type: 'quantitative', scale: { zero: false } } } },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    } as TopLevelSpec,
  };
}

export function sharpnessVsGap(d: ReportData): Figure | undefined {
  const byKey = new Map(d.trials.map((t) => [t.key, t]));
  const values: { gap: number; value: number; quantity: string; objective: string; batchSize: number }[] = [];
  for (const m of d.measurements) {
    const t = byKey.get(m.key);
    const r = t?.result;
    if (!r?.train?.accuracy || r.test?.accuracy == null || !m.result) continue;
    // Final minima only: measurements at training-loss levels have their own figure (keskar-sharpness-vs-loss).
    if (levelOf(m.spec) !== undefined) continue;
    const entries = Object.entries(measurementValues(m)).filter(([name]) => SHARPNESS_NAMES([name]).length > 0);
    for (const [name, value] of entries) values.push({ gap: 100 * (r.train.accuracy - r.test.accuracy), value, ...byObjective(name), batchSize: r.batchSize ?? 0 });
  }
  if (values.length === 0) return undefined;
  return {
    id: 'sharpness-vs-gap', title: 'Sharpness vs generalization gap',
    caption: 'Every measured minimum: sharpness against training minus test accuracy (Keskar et al. 2017 relate sharper minima to a larger gap); one row per objective measured under.',
    spec: {
      $schema: SCHEMA, title: 'Sharpness vs generalization gap', data: { values },
      facet: { column: { field: 'quantity', type: 'nominal', title: null }, row: { field: 'objective', type: 'nominal', title: 'objective' } },
      spec: {
        width: 220, height: 200, mark: { type: 'point', filled: true },
        encoding: {
          x: { field: 'gap', type: 'quantitative', title: 'train − test accuracy (points)', scale: { zero: false } },
          y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
          color: { field: 'batchSize', type: 'ordinal', title: 'B', scale: { scheme: 'viridis' } },
        },
      },
      resolve: { scale: { y: 'independent' } },
    } as TopLevelSpec,
  };
}

export function gradientVariance(d: ReportData): Figure | undefined {
  const noise = d.measurements.filter((m) => isMeasurementOf(m, 'noise')).find((m) => m.result);
  const r = noise?.result;
  if (!noise || !r) return undefined;
  const curves = (r.varianceByBatchSize ?? []).filter((v) => v.withoutReplacement !== null && v.withoutReplacement > 0).flatMap((v) => [
    { b: v.b, variance: v.withReplacement, sampling: 'with replacement: tr Σ / b' },
    { b: v.b, variance: v.withoutReplacement, sampling: 'without: tr Σ/b · (N−b)/(N−1)' },
  ]);
  const measured = (r.monteCarlo ?? []).flatMap(({ b, variance, standardError, replacement }) => (variance === null || variance <= 0 ? [] : [{
    b, variance, lo: Math.max(variance - 2 * (standardError ?? 0), variance * 0.05), hi: variance + 2 * (standardError ?? 0), sampling: replacement ? 'with replacement: tr Σ / b' : 'without: tr Σ/b · (N−b)/(N−1)',
  }]));
  const trial = d.trials.find((t) => t.key === noise.key);
  return {
    id: 'gradient-variance-vs-b', title: 'Minibatch gradient variance vs batch size',
    caption: `tr Cov(g_b) at the minimum of trial ${noise.key} (B = ${trial?.config.batchSize}), N = ${r.examples}, tr Σ = ${typeof r.traceSigma === 'number' ? r.traceSigma.toPrecision(4) : 'not finite'}: the exact curves for sampling with and without replacement${measured.length > 0 ? ', and sampled minibatches (points, ± 2 standard errors)' : ''}.`,
    spec: {
      $schema: SCHEMA, title: 'Gradient variance vs b', width: WIDTH, height: HEIGHT,
      layer: [
        { data: { values: curves }, mark: 'line', encoding: { x: { field: 'b', type: 'quantitative', scale: log2, title: 'minibatch size b' }, y: { field: 'variance', type: 'quantitative', scale: { type: 'log' }, title: 'tr Cov(g_b)' }, color: { field: 'sampling', type: 'nominal' } } },
        ...(measured.length > 0 ? [
          { data: { values: measured }, mark: { type: 'point' as const, filled: true }, encoding: { x: { field: 'b', type: 'quantitative' as const, scale: log2 }, y: { field: 'variance', type: 'quantitative' as const, scale: { type: 'log' as const } }, color: { field: 'sampling', type: 'nominal' as const } } },
          { data: { values: measured }, mark: { type: 'errorbar' as const }, encoding: { x: { field: 'b', type: 'quantitative' as const, scale: log2 }, y: { field: 'lo', type: 'quantitative' as const, scale: { type: 'log' as const }, title: 'tr Cov(g_b)' }, y2: { field: 'hi' }, color: { field: 'sampling', type: 'nominal' as const } } },
        ] : []),
      ],
    } as TopLevelSpec,
  };
}

/** A grid point of a heatmap: batch size, learning rate, and what its SGD temperature depends on. */
type TemperaturePoint = { batchSize: number; lr: number; examples: number; momentum: number };

const temperatureOf = (p: TemperaturePoint) => sgdTemperature(p.lr, p.batchSize, p.examples, p.momentum);

/** Temperatures (theory/noise.ts's sgdTemperature) at powers of 2 spanning the grid's. */
export function temperatureLevels(points: readonly TemperaturePoint[], count = 4): number[] {
  const ts = points.map(temperatureOf).filter((t) => t > 0);
  // Rounded first: (N − B)/(N − 1) puts ε/B a hair below a power of 2 when N is large.
  const log2 = (t: number) => Math.round(Math.log2(t) * 1e9) / 1e9;
  const lo = Math.ceil(log2(Math.min(...ts)));
  const hi = Math.floor(log2(Math.max(...ts)));
  if (!(hi >= lo)) return [];
  const step = Math.max(1, Math.ceil((hi - lo + 1) / count));
  const out: number[] = [];
  for (let k = lo; k <= hi; k += step) out.push(2 ** k);
  return out;
}

/**
 * The iso-line of temperature T over B ∈ [bMin, bMax]: ε(B) = T·(1 − m)·B(N − 1)/(N − B), sampled on
 * a log grid (straight, of slope 1, while B ≪ N; bending up as B approaches N), inside [lrMin, lrMax].
 */
export function isoTemperatureLine(level: number, examples: number, momentum: number, b: [number, number], lr: [number, number], points = 24): { batchSize: number; lr: number }[] {
  const top = Math.min(b[1], examples - 1);
  if (!(top >= b[0])) return [];
  // sgdTemperature solved for ε (its N → ∞ limit when N is unknown).
  const finiteSize = (batchSize: number) => (Number.isFinite(examples) ? (examples - 1) / (examples - batchSize) : 1);
  return Array.from({ length: points }, (_, i) => b[0] * (top / b[0]) ** (i / (points - 1)))
    .map((batchSize) => ({ batchSize, lr: level * (1 - momentum) * batchSize * finiteSize(batchSize) }))
    .filter((p) => p.lr >= lr[0] / 1.01 && p.lr <= lr[1] * 1.01);
}

export function temperatureHeatmaps(d: ReportData): Figure[] {
  const cells = new Map<string, TemperaturePoint & { budget: string; accuracies: number[]; diverged: number; pruned: number }>();
  for (const t of d.trials) {
    const r = t.result;
    const batchSize = r?.batchSize ?? (typeof t.config.batchSize === 'number' ? t.config.batchSize : undefined);
    // The training-set size N, as the trainer evaluated it (unknown: the N → ∞ limit, ε/B).
    const examples = r?.train?.examples ?? Infinity;
    if (batchSize === undefined || (t.status !== 'completed' && t.status !== 'diverged' && t.status !== 'pruned')) continue;
    const budget = groupLabel({ budget: t.config.budget, series: seriesOf(t.coordinates) });
    const momentum = t.config.optimizer.name === 'sgd' ? t.config.optimizer.momentum ?? 0 : 0;
    const k = `${budget}|${batchSize}|${t.config.optimizer.lr}|${momentum}`;
    const cell = cells.get(k) ?? { batchSize, lr: t.config.optimizer.lr, examples, momentum, budget, accuracies: [], diverged: 0, pruned: 0 };
    if (t.status === 'diverged') cell.diverged++;
    // A pruned trial's accuracy is at the rung that stopped it, not at the end of its budget: the cell is marked, not coloured.
    else if (t.status === 'pruned') cell.pruned++;
    else if (r?.test?.accuracy != null) cell.accuracies.push(100 * r.test.accuracy);
    cells.set(k, cell);
  }
  const all = [...cells.values()].map((c) => ({ batchSize: c.batchSize, lr: c.lr, examples: c.examples, momentum: c.momentum, budget: c.budget, accuracy: c.accuracies.length > 0 && c.diverged === 0 && c.pruned === 0 ? c.accuracies.reduce((a, b) => a + b, 0) / c.accuracies.length : null, diverged: c.diverged > 0, pruned: c.pruned > 0 }));
  const groups = [...new Set(all.map((v) => v.budget))];
  return groups.slice(0, 6).flatMap((group, index) => {
    const values = all.filter((v) => v.budget === group);
    const figure = heatmap(values, groups.length > 1 ? group : undefined, index);
    return figure ? [figure] : [];
  });
}

function heatmap(values: (TemperaturePoint & { accuracy: number | null; diverged: boolean; pruned: boolean })[], group: string | undefined, index: number): Figure | undefined {
  if (new Set(values.map((v) => v.batchSize)).size < 2 || new Set(values.map((v) => v.lr)).size < 2) return undefined;
  const accs = values.map((v) => v.accuracy).filter((a): a is number => a !== null);
  const [accMin, accMax] = [Math.min(...accs), Math.max(...accs)];
  const levels = temperatureLevels(values);
  const bs = values.map((v) => v.batchSize);
  const [bMin, bMax] = [Math.min(...bs), Math.max(...bs)];
  const lrs = values.map((v) => v.lr);
  const [lrMin, lrMax] = [Math.min(...lrs), Math.max(...lrs)];
  // One training-set size and momentum per heatmap (a series of the grid); the largest N if they differ.
  const examples = Math.max(...values.map((v) => v.examples));
  const momentum = values[0]!.momentum;
  const iso = levels.flatMap((T) => isoTemperatureLine(T, examples, momentum, [bMin, bMax], [lrMin, lrMax]).map((p) => ({ ...p, level: T, T: `T = ${T.toPrecision(2)}` })));
  return {
    id: `batch-size-lr-heatmap${group === undefined ? '' : `-${index + 1}`}`, title: `Test accuracy over batch size × learning rate${group === undefined ? '' : ` (${group})`}`,
    caption: `Mean test accuracy over seeds for every grid point (crosses: a seed diverged; grey rings: a seed was pruned early by the study's pruning rule; the colours span the best 10 points, lower values are clamped). Dashed: iso-lines of the SGD temperature T = ε(N − B)/(B(N − 1))${momentum > 0 ? ` /(1 − m), m = ${momentum}` : ''} (Smith, Elsen & De 2020; ≈ ε/B for B ≪ N; ${Number.isFinite(examples) ? `N = ${examples}` : 'N unknown: ε/B'}) at ${levels.map((T) => T.toPrecision(2)).join(', ')}; when the temperature sets the outcome, accuracy is constant along them (Smith & Le 2018, Jastrzębski et al. 2017).`,
    spec: {
      $schema: SCHEMA, title: `Test accuracy over B × ε${group === undefined ? '' : `, ${group}`}`, width: WIDTH, height: HEIGHT,
      layer: [
        { data: { values: values.filter((v) => v.accuracy !== null) }, mark: { type: 'square', size: 260 }, encoding: {
          x: { ...batchAxis, scale: { ...log2, domain: [bMin / 1.4, bMax * 1.4] } }, y: { field: 'lr', type: 'quantitative', ...lrScaleAxis(lrs, [lrMin / 1.4, lrMax * 1.4]), title: 'learning rate ε' },
          // The colour range spans the best 10 points of accuracy (collapsed runs are clamped to its bottom), so that differences near the optimum show.
          color: { field: 'accuracy', type: 'quantitative', title: 'test acc. (%)', scale: { scheme: 'viridis', domain: [Math.max(accMin, accMax - 10), accMax], clamp: true } }, tooltip: [{ field: 'batchSize' }, { field: 'lr' }, { field: 'accuracy', format: '.2f' }],
        } },
        { data: { values: values.filter((v) => v.diverged) }, mark: { type: 'point', shape: 'cross', color: '#c00', size: 120 }, encoding: { x: batchAxis, y: { field: 'lr', type: 'quantitative', scale: log2 } } },
        { data: { values: values.filter((v) => v.pruned && !v.diverged) }, mark: { type: 'point', shape: 'circle', filled: false, color: '#888', size: 160 }, encoding: { x: batchAxis, y: { field: 'lr', type: 'quantitative', scale: log2 } } },
        { data: { values: iso }, mark: { type: 'line', strokeDash: [4, 3], color: '#555', strokeWidth: 1 }, encoding: { x: batchAxis, y: { field: 'lr', type: 'quantitative', scale: log2 }, detail: { field: 'T', type: 'nominal' } } },
      ],
    } as TopLevelSpec,
  };
}


/**
 * Keskar et al.'s Fig. 3: loss (log scale, left axis) and accuracy (right axis) along the path from
 * the SB minimum (α = 0) to an LB minimum (α = 1); training set solid, test set dashed. One figure per
 * larger batch size (the first seed), for the linear path and, if measured, the curved one.
 */
export function interpolationFigures(d: ReportData): Figure[] {
  const byKey = new Map(d.trials.map((t) => [t.key, t]));
  const seen = new Set<string>();
  const figures: Figure[] = [];
  const sorted = d.measurements.filter((m) => isMeasurementOf(m, 'interpolate')).filter((m) => m.result).sort((a, b) => byKey.get(a.key)!.config.seed - byKey.get(b.key)!.config.seed);
  for (const m of sorted) {
    const lb = byKey.get(m.key)!;
    const partnerKey = (JSON.parse(m.spec) as { partner: string }).partner;
    const sb = byKey.get(partnerKey);
    const lbSize = lb.result?.batchSize ?? lb.config.batchSize;
    const sbSize = sb?.result?.batchSize ?? sb?.config.batchSize;
    const budget = budgetLabel(lb.config.budget);
    const series = seriesOf(lb.coordinates);
    const id = `${series}|${budget}|${lbSize}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const r = m.result;
    if (!r) continue;
    for (const [path, points] of [['linear', r.points], ['curved', r.curved]] as const) {
      if (!points) continue;
      const values = points.flatMap((p) => (['train', 'test'] as const).flatMap((split) => {
        const e = split === 'train' ? p.train : p.test;
        return e ? [{ alpha: p.alpha, split, loss: e.loss, accuracy: e.accuracy == null ? null : 100 * e.accuracy }] : [];
      }));
      const slug = `interpolation-${path}-b${sbSize}-b${lbSize}-${budget.replace(/[^a-z0-9]+/gi, '')}${series ? `-${seen.size}` : ''}`;
      const overflow = points.filter((p) => p.train.loss === null || !Number.isFinite(p.train.loss)).map((p) => p.alpha);
      const overflowNote = overflow.length > 0 ? ` The loss is not finite (overflow in the network) at α = ${overflow.map((a) => Number(a.toFixed(3))).join(', ')}: those points are missing from the loss curve, and the accuracy there is chance.` : '';
      const formula = path === 'linear' ? 'α·θ_LB + (1 − α)·θ_SB' : 'sin(απ/2)·θ_LB + cos(απ/2)·θ_SB';
      const fromInitial = r.distanceFromInitial;
      const ratio = fromInitial && fromInitial.a !== null && fromInitial.b !== null ? ` ‖θ_SB − θ₀‖ / ‖θ_LB − θ₀‖ = ${(fromInitial.a / fromInitial.b).toPrecision(3)} (Keskar et al.: 3–10).` : '';
      const dash = { field: 'split', type: 'nominal' as const, title: 'set', scale: { domain: ['train', 'test'], range: [[1, 0], [6, 4]] } };
      figures.push({
        id: slug, title: `Interpolation between SB (B = ${sbSize}) and LB (B = ${lbSize}) minima, ${path} path`,
        caption: `Loss (log scale, blue, left axis) and accuracy (red, right axis) along ${formula}, α from ${points[0]!.alpha} to ${points.at(-1)!.alpha}; training set solid, test set dashed (Keskar et al. 2017, Fig. 3). ‖θ_LB − θ_SB‖ = ${typeof r.distance === 'number' ? r.distance.toPrecision(4) : 'not finite'}.${ratio}${overflowNote}`,
        spec: {
          $schema: SCHEMA, title: `SB (B=${sbSize}) → LB (B=${lbSize}), ${path} path, ${budget}`, width: WIDTH, height: HEIGHT, data: { values },
          encoding: { x: { field: 'alpha', type: 'quantitative', title: 'α' } },
          layer: [
            { mark: { type: 'line', color: '#1f77b4' }, encoding: { y: { field: 'loss', type: 'quantitative', scale: { type: 'log' }, axis: { title: 'loss (log scale)', titleColor: '#1f77b4' } }, strokeDash: dash } },
            { mark: { type: 'line', color: '#d62728' }, encoding: { y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 100] }, axis: { title: 'accuracy (%)', titleColor: '#d62728', orient: 'right', grid: false } }, strokeDash: dash } },
          ],
          resolve: { scale: { y: 'independent' } },
        } as TopLevelSpec,
      });
    }
  }
  return figures;
}

/**
 * Smith et al. 2020's epoch-budget result: at one batch size, the test-optimal (by the study's rule)
 * and the training-loss-optimal learning rate vs the epoch budget (log-log). Drawn when some batch
 * size was run at three or more epoch budgets.
 */
export function epochBudgetFigure(d: ReportData): Figure | undefined {
  const epochsOf = (budget: unknown) => (budget && typeof budget === 'object' && 'epochs' in budget ? (budget as { epochs: number }).epochs : undefined);
  // The batch size and series with the most epoch budgets: another series at that batch size (another
  // model, or smith's SGD arm at ten times the learning rate) is another curve, not more points of this one.
  const counts = new Map<string, { batchSize: number; series: string; epochs: Set<number> }>();
  for (const r of d.rows) {
    const e = epochsOf(r.budget);
    const id = `${r.batchSize}\u0000${r.series}`;
    if (e !== undefined) counts.set(id, { batchSize: r.batchSize, series: r.series, epochs: (counts.get(id)?.epochs ?? new Set<number>()).add(e) });
  }
  const chosen = [...counts.values()].filter((c) => c.epochs.size >= 3).sort((x, y) => y.epochs.size - x.epochs.size)[0];
  if (chosen === undefined) return undefined;
  const b = chosen.batchSize;
  const mine = (r: { batchSize: number; series: string; budget: unknown }) => r.batchSize === b && r.series === chosen.series && epochsOf(r.budget) !== undefined;
  const byTrainLoss = bestByBatchSize({ ...d.study, select: 'trainLoss' }, d.trials);
  const values = [
    ...d.rows.filter(mine).map((r) => ({ epochs: epochsOf(r.budget)!, lr: r.bestLr, rule: `best by ${d.study.select}` })),
    ...byTrainLoss.filter(mine).map((r) => ({ epochs: epochsOf(r.budget)!, lr: r.bestLr, rule: 'best by training loss' })),
  ];
  return {
    id: 'best-lr-vs-epoch-budget', title: `Optimal learning rate vs epoch budget at B = ${b}`,
    caption: `The learning rate that is best on the ${d.study.select === 'trainLoss' ? 'training loss' : d.study.select} and the one that reaches the lowest training loss, for each epoch budget at B = ${b}. Smith et al. 2020: growing the budget 128× moves the test-optimal ε about 2× but the training-loss-optimal ε about 16×.`,
    spec: {
      $schema: SCHEMA, title: `Optimal ε vs epoch budget (B = ${b})`, width: WIDTH, height: HEIGHT, data: { values },
      mark: { type: 'line', point: true },
      encoding: { x: { field: 'epochs', type: 'quantitative', scale: log2, title: 'epoch budget' }, y: { field: 'lr', type: 'quantitative', ...lrScaleAxis(values.map((v) => v.lr)), title: 'optimal learning rate ε' }, color: { field: 'rule', type: 'nominal', title: null } },
    } as TopLevelSpec,
  };
}

/** Every figure the data supports, in reading order. */
export function studyFigures(d: ReportData): Figure[] {
  return [accuracyVsBatchSize, bestLrVsBatchSize, epochBudgetFigure, trainLossVsBatchSize, gapVsBatchSize, learningCurves, sharpnessVsBatchSize, sharpnessVsGap, gradientVariance]
    .map((f) => f(d)).filter((f): f is Figure => f !== undefined).concat(temperatureHeatmaps(d), interpolationFigures(d));
}
