/**
 * The keskar-remedies built-in's table and figure (Keskar et al. 2017 §4, App. E): for SB, LB and LB with
 * each remedy, test accuracy, the generalization gap and sharpness (λ_max, φ), mean ± std over seeds; and
 * beside it the paper's claim in numbers — the change of the gap against plain LB, and sharpness as a
 * multiple of SB's ("the remedies reduce the gap but still lead to relatively sharp minimizers").
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Stat } from '../../study/index.js';
import type { TrainConfig } from '../../train/config.js';
import type { ReportData, ReportRow } from '../data.js';
import type { Figure } from '../figures.js';
import { formatStat, type Table } from '../tables.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export interface RemedyRow {
  /** 'SB' and 'LB' are the references; the others are LB with a remedy. */
  kind: 'SB' | 'LB' | 'augmentation' | 'conservative' | 'adversarial' | 'dynamic';
  label: string;
  /** The batch size, or its growth for dynamic sampling. */
  batch: string;
  row: ReportRow;
}

const ORDER: RemedyRow['kind'][] = ['SB', 'LB', 'augmentation', 'conservative', 'adversarial', 'dynamic'];

/** What each row of the study is, read from its best trial's configuration. */
export function remedyRows(d: ReportData): RemedyRow[] {
  const byKey = new Map(d.trials.map((t) => [t.key, t]));
  const plain = d.rows.filter((r) => r.series === '');
  const sb = Math.min(...plain.map((r) => r.batchSize));
  const rows = d.rows.flatMap((row): RemedyRow[] => {
    const trial = byKey.get(row.bestTrials[0] ?? '');
    if (!trial) return [];
    const c: TrainConfig = trial.config;
    const b = String(row.batchSize);
    if (c.batchSchedule) {
      const s = c.batchSchedule;
      const largest = trial.result?.batchSchedule?.largestBatchSize;
      const how = s.kind === 'geometric' ? (s.to !== undefined ? 'geometric growth over the budget' : `×${s.factor} every ${s.every ?? 1} steps`) : s.kind === 'adaptive' ? `Byrd et al.'s norm test, θ = ${s.theta}` : `steps at ${s.milestones.join(', ')}`;
      const to = largest ?? (s.kind === 'geometric' ? s.to : undefined) ?? s.max;
      return [{ kind: 'dynamic', label: `dynamic sampling (${how})`, batch: `${b} → ${to ?? '?'}`, row }];
    }
    if (c.adversarial) {
      const a = c.adversarial;
      return [{ kind: 'adversarial', label: `adversarial training (${a.attack.toUpperCase()}${a.attack === 'pgd' ? `-${a.steps ?? 10}` : ''}, ${a.norm === 'linf' ? 'L∞' : 'L2'} ε = ${a.epsilon}, ${Math.round(100 * a.fraction)}% of each batch)`, batch: b, row }];
    }
    if (c.optimizer.proximal) return [{ kind: 'conservative', label: `conservative training (λ = ${c.optimizer.proximal.lambda}, ${c.optimizer.proximal.innerSteps} inner steps)`, batch: b, row }];
    if (c.data.augment) return [{ kind: 'augmentation', label: `augmentation (rotation ≤ ${c.data.augment.rotation ?? 0}°, shift ≤ ${c.data.augment.translation ?? 0} of the image)`, batch: b, row }];
    if (row.series !== '') return [];
    return [row.batchSize === sb ? { kind: 'SB', label: 'SB, no remedy', batch: b, row } : { kind: 'LB', label: 'LB, no remedy', batch: b, row }];
  });
  return rows.sort((p, q) => ORDER.indexOf(p.kind) - ORDER.indexOf(q.kind) || p.label.localeCompare(q.label));
}

const epsilonOf = (name: string) => Number(/eps=([^,]*)/.exec(name)?.[1] ?? NaN);
const spaceOf = (name: string) => name.replace(/eps=[^,]*, /, '');

/** λ_max and the φ values measured, as Keskar et al.'s tables order them: the full space first, larger ε first. */
const curvatureNames = (rows: readonly RemedyRow[]): string[] => {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.row.measurements)))];
  const phis = names.filter((n) => n.startsWith('phi(')).sort((a, b) => Number(spaceOf(b) === 'phi(full)') - Number(spaceOf(a) === 'phi(full)') || spaceOf(a).localeCompare(spaceOf(b)) || epsilonOf(b) - epsilonOf(a));
  return [...names.filter((n) => n === 'lambdaMax'), ...phis];
};
const title = (name: string) => (name === 'lambdaMax' ? 'λ_max' : name.replace('phi', 'φ').replace('eps=', 'ε = '));
const ratio = (a: Stat | undefined, b: Stat | undefined) => (a && b && Number.isFinite(a.mean) && b.mean > 0 ? `${(a.mean / b.mean).toPrecision(3)}×` : '–');
const points = (a: Stat | undefined, b: Stat | undefined, factor = 100) => (a && b && Number.isFinite(a.mean) && Number.isFinite(b.mean) ? `${factor * (a.mean - b.mean) >= 0 ? '+' : ''}${(factor * (a.mean - b.mean)).toFixed(2)}` : '–');

export function keskarRemediesTables(d: ReportData): Table[] {
  const rows = remedyRows(d);
  if (rows.length === 0) return [];
  const names = curvatureNames(rows);
  const sb = rows.find((r) => r.kind === 'SB')?.row;
  const lb = rows.find((r) => r.kind === 'LB')?.row;
  return [
    {
      id: 'remedies', title: 'Remedies for the large-batch gap (Keskar et al. 2017 §4, App. E): accuracy, gap and sharpness, mean ± std over seeds',
      columns: ['remedy', 'batch size', 'seeds', 'training accuracy', 'test accuracy', 'gap (points)', 'training loss', ...names.map(title)],
      rows: rows.map((r) => [r.label, r.batch, String(r.row.testAccuracy.n), formatStat(r.row.trainAccuracy, true), formatStat(r.row.testAccuracy, true),
        r.row.gap ? `${(100 * r.row.gap.mean).toFixed(2)} ± ${(100 * r.row.gap.std).toFixed(2)}` : '–', formatStat(r.row.trainLoss), ...names.map((n) => formatStat(r.row.measurements[n]))]),
    },
    {
      id: 'remedies-claim', title: "The paper's claim in numbers: the change against LB without a remedy (points), and sharpness as a multiple of SB's",
      columns: ['remedy', 'test accuracy vs LB', 'gap vs LB', ...names.map((n) => `${title(n)} ÷ SB`)],
      rows: rows.map((r) => [r.label, points(r.row.testAccuracy, lb?.testAccuracy), points(r.row.gap, lb?.gap), ...names.map((n) => ratio(r.row.measurements[n], sb?.measurements[n]))]),
    },
  ];
}

export function keskarRemediesFigures(d: ReportData): Figure[] {
  const rows = remedyRows(d);
  if (rows.length === 0) return [];
  const names = curvatureNames(rows);
  // One φ per space (the largest ε, first in the order) keeps the figure readable; the table has them all.
  const shown = names.filter((n, i) => n === 'lambdaMax' || names.findIndex((m) => m.startsWith('phi(') && spaceOf(m) === spaceOf(n)) === i);
  const quantities: [string, (r: ReportRow) => Stat | undefined, number][] = [
    ['test accuracy (%)', (r) => r.testAccuracy, 100],
    ['gap, train − test (points)', (r) => r.gap, 100],
    ...shown.map((n) => [title(n), (r: ReportRow) => r.measurements[n], 1] as [string, (r: ReportRow) => Stat | undefined, number]),
  ];
  const short: Record<RemedyRow['kind'], string> = { SB: 'SB', LB: 'LB', augmentation: 'LB + augmentation', conservative: 'LB + conservative', adversarial: 'LB + adversarial', dynamic: 'dynamic sampling' };
  const labels = rows.map((r) => (rows.filter((o) => o.kind === r.kind).length > 1 ? `${short[r.kind]} (${r.label.replace(/^[^(]*\(/, '').replace(/\)$/, '')})` : short[r.kind]));
  const values = rows.flatMap((r, i) => quantities.flatMap(([quantity, get, f]) => {
    const s = get(r.row);
    return s && Number.isFinite(s.mean) ? [{ remedy: labels[i]!, order: i, reference: r.kind === 'SB' || r.kind === 'LB' ? 'no remedy' : 'LB with a remedy', quantity, mean: f * s.mean, lo: f * (s.mean - s.std), hi: f * (s.mean + s.std), n: s.n }] : [];
  }));
  const sbValues = values.filter((v) => rows[v.order]!.kind === 'SB').map((v) => ({ quantity: v.quantity, sb: v.mean }));
  return [{
    id: 'keskar-remedies', title: 'Remedies for the large-batch gap: accuracy, gap and sharpness',
    caption: 'Keskar et al. 2017 §4 and App. E: SB and LB without a remedy, and LB with data augmentation, conservative (proximal) training, adversarial training, or dynamic sampling (a batch growing from SB to LB). Mean ± std over seeds; dashed: SB. ' +
      "The paper's claim: the remedies reduce the generalization gap but the LB minimizers stay relatively sharp (compare each remedy's sharpness with SB's).",
    spec: {
      $schema: SCHEMA, title: 'Remedies for the large-batch gap',
      data: { values: [...values, ...sbValues] },
      facet: { column: { field: 'quantity', type: 'nominal', title: null, sort: quantities.map(([q]) => q) } },
      spec: {
        width: 170, height: 200,
        encoding: { x: { field: 'remedy', type: 'nominal', sort: { field: 'order' }, title: null, axis: { labelAngle: -40, labelLimit: 220 } } },
        layer: [
          { transform: [{ filter: 'isValid(datum.sb)' }], mark: { type: 'rule', strokeDash: [4, 3], color: '#7f7f7f' }, encoding: { x: null, y: { field: 'sb', type: 'quantitative' } } },
          { transform: [{ filter: 'isValid(datum.mean)' }], mark: 'errorbar', encoding: { y: { field: 'lo', type: 'quantitative', title: null, scale: { zero: false } }, y2: { field: 'hi' } } },
          { transform: [{ filter: 'isValid(datum.mean)' }], mark: { type: 'point', filled: true, size: 60 }, encoding: { y: { field: 'mean', type: 'quantitative' }, color: { field: 'reference', type: 'nominal', title: null, scale: { range: ['#7f7f7f', '#1f77b4'], domain: ['no remedy', 'LB with a remedy'] } }, tooltip: [{ field: 'remedy' }, { field: 'mean', format: '.4g' }, { field: 'n' }] } },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    } as TopLevelSpec,
  }];
}
