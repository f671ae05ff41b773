/**
 * The report's tables: per budget and batch size, the best learning rate and its metrics as
 * mean ± std over seeds, laid out as Keskar et al.'s Tables 2–4 (training and test accuracy; then
 * φ at each ε for the full space and for random subspaces), plus the other measurements.
 */
import type { Stat, StoredTrial } from '../study/index.js';
import { budgetLabel, type Problem, type ReportRow } from './data.js';
import type { Table } from './types.js';

export type { Table } from './types.js';

/**
 * A mean ± std over trials (seeds) as a table prints it; one trial has no spread to print, so its value
 * stands alone (a "± 0.0" would claim a spread of zero measured over one seed).
 */
export const formatStat = (s: Stat | undefined, percent = false): string => {
  if (!s || !Number.isFinite(s.mean)) return '–';
  const mean = percent ? `${(100 * s.mean).toFixed(2)}%` : s.mean.toPrecision(4);
  if (s.n <= 1) return mean;
  return `${mean} ± ${percent ? (100 * s.std).toFixed(2) : s.std.toPrecision(2)}`;
};

export function resultTables(rows: readonly ReportRow[]): Table[] {
  // With several series (models, datasets, … on the grid), each row says which.
  const withSeries = rows.some((r) => r.series !== '');
  const label = (r: ReportRow) => [...(withSeries ? [r.series] : []), budgetLabel(r.budget), String(r.batchSize), String(r.bestLr), String(r.testAccuracy.n)];
  const head = [...(withSeries ? ['series'] : []), 'budget', 'batch size', 'best lr', 'seeds'];
  const tables: Table[] = [{
    id: 'accuracy', title: 'Accuracy at the best learning rate (Keskar et al. Table 2 layout)',
    columns: [...head, 'training accuracy', 'test accuracy', 'training loss'],
    rows: rows.map((r) => [...label(r), formatStat(r.trainAccuracy, true), formatStat(r.testAccuracy, true), formatStat(r.trainLoss)]),
  }];
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.measurements)))];
  const phi = names.filter((n) => n.startsWith('phi('));
  const full = phi.filter((n) => n.includes(', full)'));
  const subspace = phi.filter((n) => !n.includes(', full)'));
  const other = names.filter((n) => !n.startsWith('phi('));
  const table = (id: string, title: string, cols: string[]) => cols.length === 0 ? [] : [{
    id, title, columns: [...head, ...cols.map((c) => c.replace('phi', 'φ').replace('eps=', 'ε = '))],
    rows: rows.map((r) => [...label(r), ...cols.map((c) => formatStat(r.measurements[c]))]),
  }];
  tables.push(...table('sharpness-full', 'Sharpness φ(ε, A = I), full space (Keskar et al. Table 3 layout)', full));
  tables.push(...table('sharpness-subspace', 'Sharpness φ(ε, A) in random subspaces (Keskar et al. Table 4 layout)', subspace));
  tables.push(...table('measurements', 'Hessian and gradient-noise measurements', other));
  return tables;
}

/** What failed and why (failed trials and measurements, recordings that failed inside completed trials); none: no table. */
export function problemTable(problems: readonly Problem[]): Table[] {
  if (problems.length === 0) return [];
  return [{
    id: 'problems', title: `What failed (${problems.length})`,
    columns: ['trial', 'grid point', 'what', 'error'],
    rows: problems.map((p) => [p.key.slice(0, 12), Object.entries(p.coordinates).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', '), p.what, p.error]),
  }];
}

/** Trials the study's pruning rule stopped early: where, on what value, by which rule; none: no table. */
export function prunedTable(trials: readonly StoredTrial[]): Table[] {
  const pruned = trials.filter((t) => t.status === 'pruned');
  if (pruned.length === 0) return [];
  return [{
    id: 'pruned', title: `Stopped early by the pruning rule (${pruned.length} of ${trials.length} trials)`,
    columns: ['trial', 'grid point', 'step', 'rung', 'metric', 'value', 'rule'],
    rows: pruned.map((t) => {
      const p = t.result?.pruned;
      return [t.key.slice(0, 12), Object.entries(t.coordinates).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', '), String(p?.step ?? '–'), String(p?.rung ?? '–'), p?.metric ?? '–', p?.value == null ? '–' : p.value.toPrecision(4), p?.why ?? p?.rule ?? '–'];
    }),
  }];
}
