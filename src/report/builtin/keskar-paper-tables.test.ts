/**
 * The keskar report's Tables 3 and 4: the paper's F1 values beside sgdlab's SB and LB minima, one column
 * per objective and solver, each cell that objective's own value (named as measurementValues names it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measurementValues, stat, type StoredTrial } from '../../study/index.js';
import type { ReportData, ReportRow } from '../data.js';
import { keskarPaperTables, parsePhiName } from './keskar-paper-tables.js';

const trial = (key: string, batchSize: number, extra: object = {}): StoredTrial => ({
  study: 'keskar', key, coordinates: { batchSize }, config: { batchSize, model: { name: 'keskar-f1' }, ...extra } as unknown as StoredTrial['config'], status: 'completed', attempt: 1, worker: null,
  startedAt: null, finishedAt: null, seconds: 1, error: null, checkpoint: null, result: { batchSize },
});

/** A row's measurements as the report summarizes them: φ by both solvers under each objective (running: φ; Keskar's: φ/10). */
function row(key: string, batchSize: number, phi: number): ReportRow {
  const sharpness = (objective: object | undefined, scale: number) => measurementValues({
    kind: 'sharpness',
    result: {
      values: [0.001, 0.0005].flatMap((epsilon) => (['full', 100] as const).flatMap((space) => (['projected', 'lbfgsb'] as const).map((solver) => ({
        epsilon, space, solver, phi: scale * phi * (epsilon === 0.001 ? 2 : 1) * (space === 'full' ? 10 : 1) * (solver === 'lbfgsb' ? 0.5 : 1), firstOrder: 0.1,
      })))),
      ...(objective ? { objective } : {}),
    },
  });
  const values = { ...sharpness(undefined, 1), ...sharpness({ batchNorm: 'batch', batchNormBatch: 'all', probabilityClip: 1e-7 }, 0.1) };
  return {
    budget: { epochs: 3 }, series: '', batchSize, bestLr: 0.001, testAccuracy: stat([0.9]), trainLoss: stat([0.1]), bestTrials: [key], tried: [],
    measurements: Object.fromEntries(Object.entries(values).map(([n, v]) => [n, stat([v, v])])),
  };
}

test("Tables 3 and 4: the paper's F1 numbers beside a column per objective and solver, for SB and LB (not a warm start)", () => {
  const trials = [trial('sb', 256), trial('lb', 6000), trial('warm', 6000, { warmStart: { batchSize: 256, epochs: 1 } })];
  const warm = { ...row('warm', 6000, 99), bestTrials: ['warm'], series: 'warmStart={batchSize=256,epochs=1}' };
  const d = { study: { name: 'keskar' }, trials, rows: [row('sb', 256, 1), row('lb', 6000, 3), warm], curves: new Map(), measurements: [], problems: [] } as unknown as ReportData;
  const [t3, t4, ...rest] = keskarPaperTables(d);
  assert.equal(rest.length, 0);
  assert.deepEqual(t3!.columns, ['space', 'ε', 'minimum', 'paper (F1)', 'sgdlab, BN running (projected)', 'sgdlab, BN running (L-BFGS-B)', 'sgdlab, BN batch clip 1e-7 (projected)', 'sgdlab, BN batch clip 1e-7 (L-BFGS-B)']);
  assert.deepEqual(t3!.rows, [
    ['A = I', '0.001', 'SB (B = 256, 3 epochs)', '1.23 ± 0.83', '20.00 ± 0.0', '10.00 ± 0.0', '2.000 ± 0.0', '1.000 ± 0.0'],
    ['A = I', '0.001', 'LB (B = 6000, 3 epochs)', '205.14 ± 69.52', '60.00 ± 0.0', '30.00 ± 0.0', '6.000 ± 0.0', '3.000 ± 0.0'],
    ['A = I', '0.0005', 'SB (B = 256, 3 epochs)', '0.61 ± 0.27', '10.00 ± 0.0', '5.000 ± 0.0', '1.000 ± 0.0', '0.5000 ± 0.0'],
    ['A = I', '0.0005', 'LB (B = 6000, 3 epochs)', '42.90 ± 17.14', '30.00 ± 0.0', '15.00 ± 0.0', '3.000 ± 0.0', '1.500 ± 0.0'],
  ]);
  assert.equal(t4!.columns[3], 'paper (F1, p = 100)');
  assert.deepEqual(t4!.rows.map((r) => [r[0], r[1], r[3], r[4], r[6]]), [
    ['p=100', '0.001', '0.11 ± 0.00', '2.000 ± 0.0', '0.2000 ± 0.0'], ['p=100', '0.001', '9.22 ± 0.56', '6.000 ± 0.0', '0.6000 ± 0.0'],
    ['p=100', '0.0005', '0.05 ± 0.00', '1.000 ± 0.0', '0.1000 ± 0.0'], ['p=100', '0.0005', '9.17 ± 0.14', '3.000 ± 0.0', '0.3000 ± 0.0'],
  ]);
});

test('φ names read back: ε, space, objective and solver; first-order parts and other values are not φ', () => {
  assert.deepEqual(parsePhiName('phi(eps=0.0005, p=100 uniform) BN batch/10000 clip 1e-7 L-BFGS-B'), { epsilon: 0.0005, space: 'p=100 uniform', objective: 'BN batch/10000 clip 1e-7', solver: 'lbfgsb' });
  assert.deepEqual(parsePhiName('phi(eps=0.001, full)'), { epsilon: 0.001, space: 'full', objective: '', solver: 'projected' });
  assert.equal(parsePhiName('phi(eps=0.001, full) first-order'), undefined);
  assert.equal(parsePhiName('lambdaMax BN batch'), undefined);
});
