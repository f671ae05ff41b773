/**
 * The keskar report's Tables 3 and 4: the paper's F1 values beside sgdlab's SB and LB minima, one column
 * per objective and solver, each cell that objective's own value (named as measurementValues names it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measurementValues, stat, type StoredTrial } from '../../study/index.js';
import type { ReportData, ReportRow } from '../data.js';
import { formatStat } from '../tables.js';
import { keskarFigure4 } from './keskar-figure-4.js';
import { keskarPaperTable2, keskarPaperTables, parsePhiName } from './keskar-paper-tables.js';

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
    budget: { epochs: 3 }, series: '', batchSize, bestLr: 0.001, testAccuracy: stat([0.9, 0.92]), trainAccuracy: stat([0.99, 0.995]), trainLoss: stat([0.1, 0.1]), bestTrials: [key, `${key}-seed1`], tried: [],
    measurements: Object.fromEntries(Object.entries(values).map(([n, v]) => [n, stat([v, v])])),
  };
}

test("Tables 3 and 4: the paper's F1 numbers beside a column per objective and solver, for SB and LB (not a warm start)", () => {
  const trials = [trial('sb', 256), trial('lb', 6000), trial('warm', 6000, { warmStart: { batchSize: 256, epochs: 1 } })];
  const warm = { ...row('warm', 6000, 99), bestTrials: ['warm'], series: 'warmStart={batchSize=256,epochs=1}' };
  const d = { study: { name: 'keskar' }, trials, rows: [row('sb', 256, 1), row('lb', 6000, 3), warm], curves: new Map(), measurements: [], problems: [] } as unknown as ReportData;
  const [t3, t4, ...rest] = keskarPaperTables(d);
  assert.equal(rest.length, 0);
  assert.deepEqual(t3!.columns, ['space', 'ε', 'minimum', 'paper (F1, n = 5)', 'sgdlab, BN running (projected)', 'sgdlab, BN running (L-BFGS-B)', 'sgdlab, BN batch clip 1e-7 (projected)', 'sgdlab, BN batch clip 1e-7 (L-BFGS-B)']);
  assert.deepEqual(t3!.rows, [
    ['A = I', '0.001', 'SB (B = 256, 3 epochs, n = 2)', '1.23 ± 0.83', '20.00 ± 0.0', '10.00 ± 0.0', '2.000 ± 0.0', '1.000 ± 0.0'],
    ['A = I', '0.001', 'LB (B = 6000, 3 epochs, n = 2)', '205.14 ± 69.52', '60.00 ± 0.0', '30.00 ± 0.0', '6.000 ± 0.0', '3.000 ± 0.0'],
    ['A = I', '0.0005', 'SB (B = 256, 3 epochs, n = 2)', '0.61 ± 0.27', '10.00 ± 0.0', '5.000 ± 0.0', '1.000 ± 0.0', '0.5000 ± 0.0'],
    ['A = I', '0.0005', 'LB (B = 6000, 3 epochs, n = 2)', '42.90 ± 17.14', '30.00 ± 0.0', '15.00 ± 0.0', '3.000 ± 0.0', '1.500 ± 0.0'],
  ]);
  assert.equal(t4!.columns[3], 'paper (F1, p = 100, n = 5)');
  assert.deepEqual(t4!.rows.map((r) => [r[0], r[1], r[3], r[4], r[6]]), [
    ['p=100', '0.001', '0.11 ± 0.00', '2.000 ± 0.0', '0.2000 ± 0.0'], ['p=100', '0.001', '9.22 ± 0.56', '6.000 ± 0.0', '0.6000 ± 0.0'],
    ['p=100', '0.0005', '0.05 ± 0.00', '1.000 ± 0.0', '0.1000 ± 0.0'], ['p=100', '0.0005', '9.17 ± 0.14', '3.000 ± 0.0', '0.3000 ± 0.0'],
  ]);
});

test("Table 2: the paper's F1 accuracies beside sgdlab's mean ± std over the seeds; a value over fewer seeds than its row says so", () => {
  const trials = [trial('sb', 256), trial('lb', 6000)];
  const lb = row('lb', 6000, 3);
  const partial = { ...lb, measurements: { ...lb.measurements, 'phi(eps=0.001, full)': stat([60]) } };
  const d = { study: { name: 'keskar' }, trials, rows: [row('sb', 256, 1), partial], curves: new Map(), measurements: [], problems: [] } as unknown as ReportData;
  const [t2] = keskarPaperTable2(d);
  assert.deepEqual(t2!.columns, ['accuracy', 'minimum', 'paper (F1, n = 5)', 'sgdlab']);
  // 0.99 and 0.995: mean 99.25%, sample std 0.005/√2 = 0.35 points; 0.9 and 0.92: 91.00% ± 1.41.
  assert.deepEqual(t2!.rows, [
    ['training', 'SB (B = 256, 3 epochs, n = 2)', '99.66% ± 0.05', '99.25% ± 0.35'], ['training', 'LB (B = 6000, 3 epochs, n = 2)', '99.92% ± 0.01', '99.25% ± 0.35'],
    ['test', 'SB (B = 256, 3 epochs, n = 2)', '98.03% ± 0.07', '91.00% ± 1.41'], ['test', 'LB (B = 6000, 3 epochs, n = 2)', '97.81% ± 0.07', '91.00% ± 1.41'],
  ]);
  assert.equal(keskarPaperTables(d)[0]!.rows[1]![4], '60.00 (n = 1)', 'one seed measured of two: the value alone, and its n');
});

test('a minimum trained under a stop rule is labelled with the epochs its seeds ran, its budget as their cap', () => {
  const plateau = { stopAt: { plateau: { patience: 5, minDelta: 0.01, mode: 'rel', on: 'epoch' } } };
  const ran = (t: StoredTrial, epochs: number, stopped?: string): StoredTrial => ({ ...t, result: { ...t.result!, epochs, ...(stopped ? { stopped } : {}) } });
  const why = 'the epoch mean training loss did not improve';
  const trials = [ran(trial('sb', 256, plateau), 24, why), ran(trial('sb-seed1', 256, plateau), 32, why), ran(trial('lb', 6000, plateau), 100), ran(trial('lb-seed1', 6000, plateau), 100)];
  const rows = (lb: StoredTrial[]) => keskarPaperTable2({ study: { name: 'keskar' }, trials: [...trials.slice(0, 2), ...lb], rows: [row('sb', 256, 1), row('lb', 6000, 3)], curves: new Map(), measurements: [], problems: [] } as unknown as ReportData)[0]!.rows.slice(0, 2).map((r) => r[1]);
  assert.deepEqual(rows(trials.slice(2)), ['SB (B = 256, 24–32 epochs (all stopped by the stop rule), n = 2)', 'LB (B = 6000, 100 epochs (the budget, none stopped by the stop rule), n = 2)']);
  assert.equal(rows([trials[2]!, ran(trials[3]!, 60, why)])[1], 'LB (B = 6000, 60–100 epochs (1 of 2 stopped by the stop rule), n = 2)');
});

test('a value over one seed prints without a spread (no "± 0.0")', () => {
  assert.equal(formatStat(stat([0.5])), '0.5000');
  assert.equal(formatStat(stat([0.975]), true), '97.50%');
  assert.equal(formatStat(stat([1, 3])), '2.000 ± 1.4');
});

test("Fig. 4: test accuracy and each objective's and solver's φ(1e-3, A = I) against B, mean ± std over seeds, plain F1 minima only", () => {
  const sizes = [256, 1024, 6000];
  const trials = [...sizes.map((b) => trial(`b${b}`, b)), trial('warm', 6000, { warmStart: { batchSize: 256, epochs: 1 } })];
  const warm = { ...row('warm', 6000, 99), bestTrials: ['warm'], series: 'warmStart={batchSize=256,epochs=1}' };
  const d = { study: { name: 'keskar' }, trials, rows: [...sizes.map((b, i) => row(`b${b}`, b, i + 1)), warm], curves: new Map(), measurements: [], problems: [] } as unknown as ReportData;
  const [figure, ...rest] = keskarFigure4(d);
  assert.equal(rest.length, 0);
  const values = (figure!.spec as { data: { values: { batchSize: number; quantity: string; mean: number; lo: number; hi: number }[] } }).data.values;
  assert.deepEqual([...new Set(values.map((v) => v.quantity))], ['test accuracy (%)', 'φ(1e-3, A = I), BN running, projected', 'φ(1e-3, A = I), BN running, L-BFGS-B',
    'φ(1e-3, A = I), BN batch clip 1e-7, projected', 'φ(1e-3, A = I), BN batch clip 1e-7, L-BFGS-B']);
  // row(key, B, phi): projected, running, ε = 1e-3, full = 2·10·phi; L-BFGS-B half of it; Keskar's a tenth; no warm start among the points.
  assert.deepEqual(values.filter((v) => v.quantity === 'φ(1e-3, A = I), BN running, projected').map((v) => [v.batchSize, v.mean]), [[256, 20], [1024, 40], [6000, 60]]);
  const keskars = values.filter((v) => v.quantity === 'φ(1e-3, A = I), BN batch clip 1e-7, L-BFGS-B');
  assert.deepEqual(keskars.map((v) => v.batchSize), [256, 1024, 6000]);
  keskars.forEach((v, i) => assert.ok(Math.abs(v.mean - (i + 1)) < 1e-12, `B = ${v.batchSize}: ${v.mean}`));
  const accuracy = values.find((v) => v.quantity === 'test accuracy (%)' && v.batchSize === 256)!;
  assert.ok(Math.abs(accuracy.mean - 91) < 1e-9 && Math.abs(accuracy.hi - accuracy.mean - 100 * 0.02 / Math.SQRT2) < 1e-9);
  assert.deepEqual(keskarFigure4({ ...d, rows: d.rows.slice(0, 2) }), [], 'two batch sizes are no sweep');
});

test('φ names read back: ε, space, objective and solver; first-order parts and other values are not φ', () => {
  assert.deepEqual(parsePhiName('phi(eps=0.0005, p=100 uniform) BN batch/10000 clip 1e-7 L-BFGS-B'), { epsilon: 0.0005, space: 'p=100 uniform', objective: 'BN batch/10000 clip 1e-7', solver: 'lbfgsb' });
  assert.deepEqual(parsePhiName('phi(eps=0.001, full)'), { epsilon: 0.001, space: 'full', objective: '', solver: 'projected' });
  assert.equal(parsePhiName('phi(eps=0.001, full) first-order'), undefined);
  assert.equal(parsePhiName('lambdaMax BN batch'), undefined);
});
