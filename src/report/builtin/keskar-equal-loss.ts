/**
 * Sharpness at equal training loss (Keskar et al. 2017, Fig. 6; SCIENCE.md §1): sharpness shrinks as
 * the loss goes to zero (softmax saturation), so SB and LB minima are compared at the same training
 * loss. For each measured trial and loss level (training option checkpointAt, study option
 * measure.levels): λ_max, φ for every ε, space and inner solver with its first-order part, and
 * ‖θ − θ₀‖, against the training loss at which the checkpoint was saved; the final minima beside them.
 * Needs no addon.
 */
import type { TopLevelSpec } from 'vega-lite';
import { levelOf, lossLevelsOf, measurementValues, seriesOf, type StoredMeasurement, type StoredTrial } from '../../study/index.js';
import type { ReportData } from '../data.js';
import type { Figure } from '../figures.js';
import type { Table } from '../tables.js';

export interface EqualLossRow {
  key: string;
  batchSize: number;
  /** The trial's other grid coordinates (e.g. a warm start), '' for a plain run. */
  series: string;
  /** The level (undefined: the final minimum). */
  level?: number;
  /** The training loss where the checkpoint was taken (the evaluation's; the final: on the whole training set). */
  trainLoss: number;
  step: number;
  epoch: number;
  testAccuracy: number | null;
  /** Examples the measurements used. */
  examples?: number;
  /** λ_max, φ(…) [L-BFGS-B | first-order], ‖θ − θ₀‖. */
  values: Record<string, number>;
}

const DISTANCE = '‖θ − θ₀‖';
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const title = (name: string) => (name === 'lambdaMax' ? 'λ_max' : name === 'hessianTrace' ? 'tr H' : name.replace('phi', 'φ').replace('eps=', 'ε = '));

/** One row per trial and loss level that has measurements or a recorded level, and per measured final minimum. */
export function keskarEqualLossRows(trials: readonly StoredTrial[], measurements: readonly StoredMeasurement[]): EqualLossRow[] {
  const rows = new Map<string, EqualLossRow>();
  const byKey = new Map(trials.map((t) => [t.key, t]));
  const levelled = trials.filter((t) => lossLevelsOf(t).length > 0);
  for (const t of levelled) {
    const r = t.result;
    const batchSize = r?.batchSize ?? (t.config.batchSize as number);
    for (const l of lossLevelsOf(t)) {
      rows.set(`${t.key}/${l.level}`, { key: t.key, batchSize, series: seriesOf(t.coordinates), level: l.level, trainLoss: l.trainLoss, step: l.step, epoch: l.epoch, testAccuracy: l.testAccuracy, values: { [DISTANCE]: l.distanceFromInitial } });
    }
  }
  for (const m of measurements) {
    const t = byKey.get(m.key);
    if (!t || !m.result || (m.kind !== 'hessian' && m.kind !== 'sharpness') || lossLevelsOf(t).length === 0) continue;
    const level = levelOf(m.spec);
    const id = `${m.key}/${level ?? 'final'}`;
    let row = rows.get(id);
    if (!row && level === undefined) {
      const r = t.result;
      row = {
        key: t.key, batchSize: r?.batchSize ?? (t.config.batchSize as number), series: seriesOf(t.coordinates), trainLoss: r?.train?.loss ?? NaN, step: r?.steps ?? NaN, epoch: r?.epochs ?? NaN,
        testAccuracy: r?.test?.accuracy ?? null, values: typeof r?.distanceFromInitial === 'number' ? { [DISTANCE]: r.distanceFromInitial } : {},
      };
      rows.set(id, row);
    }
    if (!row) continue;
    Object.assign(row.values, measurementValues(m));
    if (typeof m.result.examples === 'number') row.examples = m.result.examples;
  }
  return [...rows.values()].sort((a, b) => a.series.localeCompare(b.series) || a.batchSize - b.batchSize || (a.level === undefined ? 1 : 0) - (b.level === undefined ? 1 : 0) || b.trainLoss - a.trainLoss);
}

export function keskarEqualLossFigure(d: ReportData): Figure | undefined {
  const rows = keskarEqualLossRows(d.trials, d.measurements);
  const measuredLevels = rows.filter((r) => r.level !== undefined && Object.keys(r.values).length > 1);
  if (measuredLevels.length === 0) return undefined;
  const values = rows.flatMap((r) => Object.entries(r.values).filter(([, v]) => Number.isFinite(v)).map(([name, value]) => ({
    quantity: title(name), value, loss: r.trainLoss, B: `B = ${r.batchSize}${r.series ? ` (${r.series})` : ''}`, run: r.key, point: r.level === undefined ? 'final minimum' : 'loss level',
  }))).filter((v) => v.loss > 0);
  const examples = [...new Set(measuredLevels.map((r) => r.examples).filter((n) => n !== undefined))];
  return {
    id: 'keskar-sharpness-vs-loss', title: 'Sharpness at equal training loss',
    caption: `Keskar et al. Fig. 6: each quantity against the training loss at which the minimum was saved (log scale), one line per run (a batch size's seeds are lines of one colour) through the checkpoints taken the first time the training loss fell below each level${examples.length ? ` (measured on ${examples.join(', ')} training examples)` : ''}; hollow: the final minima (measured on the study's measurement subset). Softmax saturation makes sharpness fall with the loss, so SB and LB are compared at the same loss. φ without a suffix is sgdlab's projected maximizer; "L-BFGS-B" the paper's solver (10 iterations from y = 0, scipy's tolerances); "first-order" is ε·Σ|g_i|(|x_i| + 1)/(1 + f)·100, the part of φ that the gradient alone explains.`,
    spec: {
      $schema: SCHEMA, title: 'Sharpness vs training loss',
      data: { values },
      facet: { field: 'quantity', type: 'nominal', title: null },
      columns: 4,
      spec: {
        width: 180, height: 150,
        encoding: {
          x: { field: 'loss', type: 'quantitative', scale: { type: 'log' }, title: 'training loss' },
          y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
          color: { field: 'B', type: 'nominal', title: 'batch size' },
        },
        layer: [
          // A line per run: one per batch size would zigzag through its seeds' checkpoints in order of their loss.
          { transform: [{ filter: "datum.point === 'loss level'" }], mark: { type: 'line', point: true }, encoding: { detail: { field: 'run', type: 'nominal' } } },
          { transform: [{ filter: "datum.point === 'final minimum'" }], mark: { type: 'point', filled: false, size: 70 } },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    } as TopLevelSpec,
  };
}

export function keskarEqualLossTable(d: ReportData): Table | undefined {
  const rows = keskarEqualLossRows(d.trials, d.measurements);
  if (!rows.some((r) => r.level !== undefined)) return undefined;
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.values)))];
  const format = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v.toPrecision(4));
  return {
    id: 'keskar-equal-loss', title: 'Sharpness at equal training loss (Keskar et al. Fig. 6): checkpoints at training-loss levels and the final minima',
    columns: ['batch size', 'series', 'checkpoint', 'training loss', 'step', 'epoch', 'test accuracy', 'examples measured', ...names.map(title)],
    rows: rows.map((r) => [String(r.batchSize), r.series || '–', r.level === undefined ? 'final' : `loss < ${r.level}`, r.trainLoss.toPrecision(3), String(r.step), r.epoch.toFixed(1),
      r.testAccuracy === null ? '–' : `${(100 * r.testAccuracy).toFixed(2)}%`, r.examples === undefined ? '–' : String(r.examples), ...names.map((n) => format(r.values[n]))]),
  };
}
