/**
 * Keskar et al. 2017, Fig. 4: test accuracy and sharpness of the final minimum against the batch size
 * (network F1, the paper's sweep 256 … 6,000), both as mean ± std over seeds. The paper draws φ(1e-3)
 * in the full space; here one panel per objective and solver the study measured φ under (their values
 * differ by orders of magnitude, so each gets its own axis), on a log batch-size axis. Plain F1 minima
 * only: no warm start (their own figure, keskar-warm-start), no other model. Needs no addon.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Stat } from '../../study/index.js';
import type { ReportData, ReportRow } from '../data.js';
import type { Figure } from '../figures.js';
import { parsePhiName, phiOrder } from './keskar-paper-tables.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** The paper's Fig. 4 plots φ at this ε, in the full space. */
const FIGURE_EPSILON = 1e-3;

/** The rows of plain F1 minima (no warm start), one per batch size, on one series. */
function plainF1Rows(d: ReportData): ReportRow[] {
  const byKey = new Map(d.trials.map((t) => [t.key, t]));
  return d.rows.filter((r) => {
    const config = byKey.get(r.bestTrials[0] ?? '')?.config;
    return config !== undefined && config.warmStart === undefined && config.model.name === 'keskar-f1' && r.series === '';
  });
}

/** A panel's points: mean and mean ± std of one quantity at each batch size. */
const points = (rows: readonly ReportRow[], quantity: string, of: (r: ReportRow) => Stat | undefined, scale = 1) => rows.flatMap((r) => {
  const s = of(r);
  return s && Number.isFinite(s.mean) ? [{ batchSize: r.batchSize, quantity, mean: scale * s.mean, lo: scale * (s.mean - s.std), hi: scale * (s.mean + s.std), n: s.n }] : [];
});

export function keskarFigure4(d: ReportData): Figure[] {
  const rows = plainF1Rows(d);
  if (new Set(rows.map((r) => r.batchSize)).size < 3) return [];
  const phiNames = [...new Set(rows.flatMap((r) => Object.keys(r.measurements)))].filter((name) => {
    const p = parsePhiName(name);
    return p !== undefined && p.space === 'full' && p.epsilon === FIGURE_EPSILON;
  }).sort((a, b) => phiOrder(parsePhiName(a)!, parsePhiName(b)!));
  const phiTitle = (name: string) => {
    const p = parsePhiName(name)!;
    return `φ(1e-3, A = I), ${p.objective === '' ? 'BN running' : p.objective}, ${p.solver === 'lbfgsb' ? 'L-BFGS-B' : 'projected'}`;
  };
  const values = [
    ...points(rows, 'test accuracy (%)', (r) => r.testAccuracy, 100),
    ...phiNames.flatMap((name) => points(rows, phiTitle(name), (r) => r.measurements[name])),
  ];
  if (values.length === 0) return [];
  return [{
    id: 'keskar-figure-4', title: 'Test accuracy and sharpness vs batch size (Keskar et al. Fig. 4)',
    caption: `Keskar et al. Fig. 4 on F1: the final minima at each batch size (mean ± std over seeds; the paper: accuracy falls and φ rises as B grows). φ(ε = 1e-3, A = I) under each objective and solver measured (BN running: batch norm by running statistics; BN batch … clip: Keskar et al.'s objective), each on its own axis.`,
    spec: {
      $schema: SCHEMA, title: 'Test accuracy and sharpness vs batch size', data: { values },
      facet: { column: { field: 'quantity', type: 'nominal', title: null, sort: values.map((v) => v.quantity).filter((q, i, all) => all.indexOf(q) === i) } },
      spec: {
        width: 240, height: 180,
        encoding: { x: { field: 'batchSize', type: 'quantitative', scale: { type: 'log' }, axis: { values: [...new Set(rows.map((r) => r.batchSize))].sort((a, b) => a - b), labelAngle: -45, labelOverlap: false }, title: 'batch size B' } },
        layer: [
          { mark: 'errorbar', encoding: { y: { field: 'lo', type: 'quantitative', title: null, scale: { zero: false } }, y2: { field: 'hi' } } },
          { mark: { type: 'line', point: true }, encoding: { y: { field: 'mean', type: 'quantitative' }, tooltip: [{ field: 'batchSize' }, { field: 'mean', format: '.4g' }, { field: 'n', title: 'seeds' }] } },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    } as TopLevelSpec,
  }];
}
