/** The built-in keskar-remedies at smoke size, end to end (see smoke-testing.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keskarRemediesTables, loadReportData, remedyRows } from '../../report/index.js';
import { builtinStudy, openStore } from '../index.js';
import { smokeRun, smokeTitle } from './smoke-testing.js';

let db: string | undefined;

test(smokeTitle('keskar-remedies'), async () => {
  db = await smokeRun('keskar-remedies');
});

test('built-in keskar-remedies: its smoke report has SB, LB and the four remedies, each with the gap, λ_max and φ', async () => {
  assert.ok(db, 'the smoke run above wrote its store');
  const store = await openStore(db);
  const data = await loadReportData(store, builtinStudy('keskar-remedies', 'smoke'));
  await store.close();
  const rows = remedyRows(data);
  assert.deepEqual(rows.map((r) => r.kind), ['SB', 'LB', 'augmentation', 'conservative', 'adversarial', 'dynamic']);
  assert.match(rows.at(-1)!.batch, /^16 → (\d+)$/);
  assert.ok(Number(/→ (\d+)/.exec(rows.at(-1)!.batch)![1]) > 40, `dynamic sampling grows from SB toward LB: ${rows.at(-1)!.batch}`);
  for (const r of rows) {
    const { lambdaMax, 'phi(eps=0.001, full)': phi } = r.row.measurements;
    const gap = r.row.gap;
    // Numbers, not just present: λ_max > 0 near a minimum, φ ≥ 0 (Δ = 0 is in the box), and the gap is train − test accuracy (mean of differences = difference of means).
    assert.ok(lambdaMax && Number.isFinite(lambdaMax.mean) && lambdaMax.mean > 0 && lambdaMax.n >= 1, `${r.label}: λ_max ${JSON.stringify(lambdaMax)}`);
    assert.ok(phi && Number.isFinite(phi.mean) && phi.mean >= 0 && phi.n >= 1, `${r.label}: φ ${JSON.stringify(phi)}`);
    assert.ok(gap && Number.isFinite(gap.mean) && gap.n === r.row.testAccuracy.n, `${r.label}: gap ${JSON.stringify(gap)}`);
    assert.ok(Math.abs(gap.mean - (r.row.trainAccuracy!.mean - r.row.testAccuracy.mean)) < 1e-9, `${r.label}: gap ${gap.mean} vs ${r.row.trainAccuracy!.mean} − ${r.row.testAccuracy.mean}`);
  }
  const [table, claim] = keskarRemediesTables(data);
  assert.equal(table!.rows.length, 6);
  // The claim table by hand from the rows' means: each row's test accuracy and gap against LB in points, λ_max as a multiple of SB's.
  const lb = rows.find((r) => r.kind === 'LB')!.row;
  const sb = rows.find((r) => r.kind === 'SB')!.row;
  rows.forEach((r, i) => {
    const [, acc, gapVsLb, lambdaVsSb] = claim!.rows[i]!;
    assert.ok(Math.abs(Number(acc) - 100 * (r.row.testAccuracy.mean - lb.testAccuracy.mean)) <= 0.005 + 1e-9, `${r.label}: test accuracy vs LB ${acc}`);
    assert.ok(Math.abs(Number(gapVsLb) - 100 * (r.row.gap!.mean - lb.gap!.mean)) <= 0.005 + 1e-9, `${r.label}: gap vs LB ${gapVsLb}`);
    const multiple = r.row.measurements.lambdaMax!.mean / sb.measurements.lambdaMax!.mean;
    assert.ok(/×$/.test(lambdaVsSb!) && Math.abs(Number(lambdaVsSb!.slice(0, -1)) - multiple) <= 0.005 * multiple, `${r.label}: λ_max ÷ SB ${lambdaVsSb} vs ${multiple}`);
  });
});

