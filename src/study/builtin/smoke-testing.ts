/**
 * The built-ins' smoke runs, shared by the test files that run them: each runs one built-in at smoke
 * size end to end (trials, measurements, report) and checks what its report must show. The smoke runs
 * are the suite's longest tests; one file per built-in lets the test runner run them beside the rest.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qkCurves, ziyinEllipse, ziyinSigmaComparisons } from '../../report/index.js';
import { isMeasurementOf, levelOf, lossLevelsOf, measurementValues, objectiveOf, openStore } from '../index.js';
import { sgdlabCli } from '../testing.js';

/** The test file that runs each built-in's smoke size (builtin.test.ts checks that every built-in has one). */
export const SMOKE_TEST_FILES: Record<string, string> = {
  keskar: 'builtin-keskar.test.js',
  'keskar-remedies': 'builtin-keskar-remedies.test.js',
  smith: 'builtin.test.js',
  ziyin: 'builtin.test.js',
  'qian-klabjan': 'builtin-qian-klabjan.test.js',
};

/** Figures each built-in's report must draw (its paper's figures). */
export const figuresOf: Record<string, string[]> = {
  keskar: ['test-accuracy-vs-batch-size', 'sharpness-vs-batch-size', 'sharpness-vs-gap', 'interpolation-linear-b16-b60-12steps', 'interpolation-curved-b16-b60-12steps', 'keskar-warm-start', 'keskar-sharpness-vs-loss'],
  'keskar-remedies': ['keskar-remedies', 'sharpness-vs-gap'],
  smith: ['best-lr-vs-batch-size', 'test-accuracy-vs-batch-size', 'train-loss-vs-batch-size', 'batch-size-lr-heatmap-1', 'batch-size-lr-heatmap-2'],
  ziyin: ['ziyin-sigma-vs-lr', 'ziyin-losses-vs-lr', 'ziyin-fluctuation-ellipse', 'ziyin-width-sweep', 'ziyin-weight-decay'],
  'qian-klabjan': ['qk-variance-vs-b'],
};

/** What the keskar smoke size's values under Keskar's objective add to their names (results.ts, measurementValues). */
const KESKAR_LABEL = ' BN batch clip 1e-7';

/** What a built-in's smoke run must show beyond running (given its store and report folder): agreement with theory, within statistical error. */
export const agreement: Record<string, (db: string, report: string) => Promise<void>> = {
  keskar: async (db, report) => {
    // Every loss level a measured trial recorded is measured (λ_max and φ by both solvers), and L-BFGS-B reports its own stopping text.
    const store = await openStore(db);
    const trials = await store.trials('keskar');
    const measurements = await store.measurements('keskar');
    await store.close();
    const measuredKeys = new Set(measurements.map((m) => m.key));
    const levelled = trials.filter((t) => measuredKeys.has(t.key) && lossLevelsOf(t).length > 0);
    assert.ok(levelled.length >= 2, 'SB and LB both crossed a loss level');
    for (const t of levelled) {
      for (const l of lossLevelsOf(t)) {
        const at = measurements.filter((m) => m.key === t.key && levelOf(m.spec) === l.level);
        // Under both objectives: running statistics, and Keskar's (batch statistics, probabilities clipped).
        assert.deepEqual(at.map((m) => `${m.kind} ${objectiveOf(m.spec)?.batchNorm ?? 'running'}`).sort(), ['hessian batch', 'hessian running', 'sharpness batch', 'sharpness running'], `trial ${t.key}, level ${l.level}`);
        for (const m of at.filter((x) => isMeasurementOf(x, 'sharpness'))) {
          const values = (isMeasurementOf(m, 'sharpness') ? m.result?.values : undefined) ?? [];
          assert.deepEqual([...new Set(values.map((v) => v.solver))].sort(), ['lbfgsb', 'projected']);
          for (const v of values.filter((x) => x.solver === 'lbfgsb')) assert.match(v.reason ?? '', /^(STOP: TOTAL NO\. of ITERATIONS REACHED LIMIT|CONVERGENCE: |ABNORMAL_TERMINATION_IN_LNSRCH)/);
          assert.ok(values.every((v) => (v.firstOrder ?? 0) > 0));
        }
      }
    }
    // The final minima's λ_max and φ under both objectives, by their names; Keskar's φ is another function's, so another number.
    for (const key of new Set(measurements.filter((m) => m.kind === 'sharpness' && levelOf(m.spec) === undefined).map((m) => m.key))) {
      const values: Record<string, number> = Object.assign({}, ...measurements.filter((m) => m.key === key && levelOf(m.spec) === undefined).map((m) => measurementValues(m)));
      for (const name of ['lambdaMax', 'phi(eps=0.001, full)', 'phi(eps=0.001, full) L-BFGS-B', 'phi(eps=0.0005, p=10)']) {
        const [running, batch] = [values[name], values[name.endsWith(' L-BFGS-B') ? name.replace(' L-BFGS-B', `${KESKAR_LABEL} L-BFGS-B`) : `${name}${KESKAR_LABEL}`]];
        assert.ok(running !== undefined && batch !== undefined && Number.isFinite(running) && Number.isFinite(batch), `trial ${key}: ${name} ${running} (running), ${batch} (Keskar's)`);
        if (name.startsWith('phi')) assert.ok(batch >= 0 && batch !== running, `trial ${key}: ${name} ${batch} (Keskar's) vs ${running} (running)`);
      }
    }
    const tables = JSON.parse(readFileSync(join(report, 'tables.json'), 'utf8')) as { id: string; columns: string[] }[];
    const table3 = tables.find((t) => t.id === 'keskar-table-3');
    assert.deepEqual(tables.find((t) => t.id === 'keskar-table-2')?.columns, ['accuracy', 'minimum', 'paper (F1, n = 5)', 'sgdlab']);
    assert.deepEqual(table3?.columns.slice(3), ['paper (F1, n = 5)', 'sgdlab, BN running (projected)', 'sgdlab, BN running (L-BFGS-B)', `sgdlab,${KESKAR_LABEL} (projected)`, `sgdlab,${KESKAR_LABEL} (L-BFGS-B)`]);
    // The sharpness figure draws each objective in its own row: a panel never mixes the two.
    const figure = JSON.parse(readFileSync(join(report, 'sharpness-vs-batch-size.vl.json'), 'utf8')) as { data: { values: { quantity: string; objective: string }[] } };
    const panels = new Set(figure.data.values.map((v) => `${v.objective} | ${v.quantity}`));
    assert.ok(panels.has('BN running | φ(ε = 0.001, full) L-BFGS-B') && panels.has(`${KESKAR_LABEL.trim()} | φ(ε = 0.001, full) L-BFGS-B`), [...panels].join('; '));
    // λ_max too under each objective (a labelled 'lambdaMax BN batch …' was once left out of the figures).
    assert.ok(panels.has('BN running | λ_max (top Hessian eigenvalue)') && panels.has(`${KESKAR_LABEL.trim()} | λ_max (top Hessian eigenvalue)`), [...panels].join('; '));
  },
  ziyin: async (db) => {
    const store = await openStore(db);
    const trials = await store.trials('ziyin');
    await store.close();
    const rows = ziyinSigmaComparisons(trials);
    assert.equal(rows.length, 2);
    for (const r of rows) {
      // The measured stationary variance is the exact discrete-time Σ within 4 standard errors…
      assert.ok(r.tailIndex > 4, 'the smoke size stays where the standard error is finite');
      assert.ok(Math.abs(r.measured! / r.exact - 1) < 4 * r.relativeError!, `λ=${r.lr}, S=${r.batchSize}: Σ ${r.measured} vs exact ${r.exact} (relative error ${r.relativeError})`);
      assert.ok(Math.abs(r.trainingLoss!.measured / r.trainingLoss!.exact - 1) < 0.02, `training loss ${r.trainingLoss!.measured} vs ${r.trainingLoss!.exact}`);
      assert.ok(Math.abs(r.testLoss!.measured / r.testLoss!.exact - 1) < 4 * r.relativeError! + 0.02, `test loss ${r.testLoss!.measured} vs ${r.testLoss!.exact}`);
    }
    // …and at λ = 1, S = 10 it is 0.125, far from the continuous-time 0.05.
    const large = rows.find((r) => r.lr === 1)!;
    assert.equal(large.exact, 0.125);
    assert.ok(Math.abs(large.measured! - large.continuous) > 20 * large.relativeError! * large.exact);
    const e = ziyinEllipse(trials)!;
    for (const i of [0, 1]) assert.ok(Math.abs(e.measured[i]![i]! / e.exact[i]![i]! - 1) < 0.08, `Σ_${i}${i} ${e.measured[i]![i]} vs ${e.exact[i]![i]}`);
    assert.ok(Math.abs(e.measured[0]![1]! - e.exact[0]![1]!) < 0.1 * Math.sqrt(e.exact[0]![0]! * e.exact[1]![1]!), `Σ_01 ${e.measured[0]![1]} vs ${e.exact[0]![1]}`);
  },
  'qian-klabjan': async (db, report) => {
    const store = await openStore(db);
    const curves = qkCurves(await store.trials('qian-klabjan'), await store.measurements('qian-klabjan'));
    await store.close();
    assert.equal(curves.length, 2 * 2 * 2, 'two models × two samplings × two steps');
    for (const c of curves) {
      assert.ok(c.nonIncreasing, `${c.model}, replacement ${c.replacement}, k = ${c.step}: ${JSON.stringify(c.points)}`);
      // At k = 0 the Monte Carlo variance is the closed form within 4 standard errors.
      c.exact?.forEach((v, i) => assert.ok(Math.abs(c.points[i]!.variance - v) < 4 * c.points[i]!.standardError, `${c.model}, b=${c.points[i]!.b}: ${c.points[i]!.variance} ± ${c.points[i]!.standardError} vs ${v}`));
      // The polynomial in 1/b (at most degree 3 through 4 batch sizes) passes within 3 standard errors of every point.
      for (const p of c.points) {
        const fitted = c.fit.reduce((s, coef, j) => s + coef * p.b ** -j, 0);
        assert.ok(Math.abs(fitted - p.variance) < 3 * p.standardError, `${c.model}, replacement ${c.replacement}, k = ${c.step}, b = ${p.b}: fit ${fitted} vs ${p.variance} ± ${p.standardError}`);
      }
    }
    assert.ok(curves.filter((c) => c.step === 0).every((c) => c.exact !== undefined));
    // The degree is the held-out choice (the variance falls with b: degree 0 never fits), and linear
    // regression's Monte Carlo is its exact moment recursion within 4 standard errors at every k.
    for (const c of curves) assert.ok(c.heldOut !== undefined && c.heldOut.degree >= 1 && c.fit.length === c.heldOut.degree + 1, `${c.model}, k = ${c.step}: ${JSON.stringify(c.heldOut)}`);
    const linear = curves.filter((c) => c.model === 'linear-regression');
    assert.equal(linear.length, 4);
    for (const c of linear) c.points.forEach((p, i) => assert.ok(Math.abs(p.variance - c.exactRecursion![i]!) < 4 * p.standardError, `linear regression, replacement ${c.replacement}, k = ${c.step}, b = ${p.b}: ${p.variance} ± ${p.standardError} vs exact ${c.exactRecursion![i]}`));
    assert.ok(curves.filter((c) => c.model !== 'linear-regression').every((c) => c.exactRecursion === undefined));
    // The report's claims table: a row per model and sampling, each curve decreasing, linear regression's distance from the recursion.
    const tables = JSON.parse(readFileSync(join(report, 'tables.json'), 'utf8')) as { id: string; columns: string[]; rows: string[][] }[];
    const claims = tables.find((t) => t.id === 'qk-claims')!;
    assert.deepEqual(claims.rows.map((r) => [r[0], r[1], r[4]]).sort(), ['deep linear [4,4]', 'linear-regression'].flatMap((m) => [[m, 'with replacement', '2 of 2'], [m, 'without replacement', '2 of 2']]));
    for (const row of claims.rows.filter((r) => r[0] === 'linear-regression')) {
      const mine = linear.filter((c) => (c.replacement ? 'with replacement' : 'without replacement') === row[1]).flatMap((c) => c.points.map((p, i) => Math.abs(p.variance - c.exactRecursion![i]!) / p.standardError));
      assert.equal(row[6], `${Math.max(...mine).toFixed(2)} (${mine.length} points)`);
    }
  },
};

/** Runs built-in `name` at smoke size into a fresh folder; checks its run, measurements, figures and agreement; returns its store's path. */
export async function smokeRun(name: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `sgdlab-builtin-${name}-`));
  const db = join(dir, `${name}.db`);
  const out = join(dir, `${name}-report`);
  const r = sgdlabCli('run', '--builtin', name, '--size', 'smoke', '--db', db, '--report', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${name}: \\d+ completed, \\d+ diverged, 0 failed, 0 left`));
  const store = await openStore(db);
  const measurements = await store.measurements(name);
  await store.close();
  assert.ok(measurements.every((m) => m.status === 'completed'), measurements.filter((m) => m.status !== 'completed').map((m) => `${m.kind}: ${m.error}`).join('; '));
  assert.ok(existsSync(join(out, 'index.html')));
  const pngs = readdirSync(out).filter((f) => f.endsWith('.png'));
  for (const figure of figuresOf[name] ?? []) assert.ok(pngs.includes(`${figure}.png`), `${figure}.png among ${pngs.join(', ')}`);
  await agreement[name]?.(db, out);
  return db;
}

/** The smoke test's title. */
export const smokeTitle = (name: string): string => `built-in ${name}: the smoke size runs, measures and reports${agreement[name] ? ', and agrees with theory' : ''}`;
