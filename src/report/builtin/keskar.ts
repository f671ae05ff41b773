/**
 * The keskar built-in study's warm-start figure (Keskar et al. 2017 §4.2, "piggybacking"): LB
 * trained after k epochs at SB, its test accuracy and sharpness against k (k = 0: LB from scratch),
 * with the SB values as reference lines.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Stat } from '../../study/index.js';
import type { ReportData, ReportRow } from '../data.js';
import type { Figure } from '../figures.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
// A non-default objective labels the name after the quantity ('lambdaMax BN batch clip 1e-7'; results.ts measurementValues).
const quantityTitle = (name: string) => name.replace(/^lambdaMax/, 'λ_max').replace('phi', 'φ').replace('eps=', 'ε = ');

export function keskarFigures(d: ReportData): Figure[] {
  const byKey = new Map(d.trials.map((t) => [t.key, t]));
  const warmOf = (r: ReportRow) => byKey.get(r.bestTrials[0] ?? '')?.config.warmStart;
  const warm = d.rows.filter((r) => warmOf(r) !== undefined);
  if (warm.length === 0) return [];
  const lb = warm[0]!.batchSize;
  const sbSize = warmOf(warm[0]!)!.batchSize;
  const plain = d.rows.filter((r) => warmOf(r) === undefined && r.series === '' && r.budget !== undefined);
  const lbRow = plain.find((r) => r.batchSize === lb);
  const sbRow = plain.find((r) => r.batchSize === sbSize);
  const quantities = (r: ReportRow): [string, Stat | undefined, number][] => [
    ['test accuracy (%)', r.testAccuracy, 100],
    ...Object.keys(r.measurements).filter((n) => n.startsWith('lambdaMax') || n.startsWith('phi(')).map((n) => [quantityTitle(n), r.measurements[n], 1] as [string, Stat, number]),
  ];
  const values = [...(lbRow ? [{ row: lbRow, k: 0 }] : []), ...warm.map((row) => ({ row, k: warmOf(row)!.epochs }))].flatMap(({ row, k }) =>
    quantities(row).filter(([, s]) => s && Number.isFinite(s.mean)).map(([quantity, s, f]) => ({ k, quantity, mean: f * s!.mean, lo: f * (s!.mean - s!.std), hi: f * (s!.mean + s!.std) })));
  const reference = sbRow ? quantities(sbRow).filter(([, s]) => s && Number.isFinite(s.mean)).map(([quantity, s, f]) => ({ quantity, value: f * s!.mean })) : [];
  return [{
    id: 'keskar-warm-start', title: `Warm start: LB (B = ${lb}) after k epochs at SB (B = ${sbSize})`,
    caption: `Keskar et al. §4.2: train k epochs with the small batch, then continue with the large batch (k = 0: LB from scratch). Test accuracy and sharpness of the final LB minimum against k (mean ± std over seeds); dashed: the SB minimum's value. In the paper, a few SB epochs are enough for LB to reach SB's flat region: accuracy rises and sharpness falls with k.`,
    spec: {
      $schema: SCHEMA, title: 'Warm start (piggybacking)',
      data: { values: [...values.map((v) => ({ ...v, layer: 'lb' })), ...reference.map((r) => ({ ...r, layer: 'sb' }))] },
      facet: { column: { field: 'quantity', type: 'nominal', title: null } },
      spec: {
        width: 200, height: 180,
        layer: [
          { transform: [{ filter: "datum.layer === 'lb'" }], mark: { type: 'line', point: true }, encoding: { x: { field: 'k', type: 'quantitative', title: 'SB epochs first (k)' }, y: { field: 'mean', type: 'quantitative', scale: { zero: false }, title: null } } },
          { transform: [{ filter: "datum.layer === 'lb'" }], mark: 'errorbar', encoding: { x: { field: 'k', type: 'quantitative' }, y: { field: 'lo', type: 'quantitative', title: null }, y2: { field: 'hi' } } },
          { transform: [{ filter: "datum.layer === 'sb'" }], mark: { type: 'rule', strokeDash: [4, 3], color: '#d62728' }, encoding: { y: { field: 'value', type: 'quantitative' } } },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    } as TopLevelSpec,
  }];
}
