/**
 * The built-in studies: every one runs at smoke size end to end (trials, measurements, report), every
 * size is a valid study, `builtin list/show` print them, and bad names or sizes say what exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { keskarRemediesTables, loadReportData, qkCurves, remedyRows, ziyinEllipse, ziyinSigmaComparisons } from '../../report/index.js';
import { BUILTIN_SIZES, BUILTIN_STUDIES, builtinStudy, expandTrials, levelOf, lossLevelsOf, parseStudy, openStore } from '../index.js';
import { sgdlabCli } from '../testing.js';

const sgdlab = sgdlabCli;
const dir = mkdtempSync(join(tmpdir(), 'sgdlab-builtin-'));

test('every size of every built-in study is a valid study whose trials expand', () => {
  for (const b of BUILTIN_STUDIES) {
    for (const size of BUILTIN_SIZES) {
      const study = builtinStudy(b.name, size);
      assert.equal(study.name, b.name);
      assert.ok(expandTrials(study, '0.0.0').length > 0);
    }
    assert.ok(expandTrials(builtinStudy(b.name, 'smoke'), '0').length <= expandTrials(builtinStudy(b.name, 'quick'), '0').length);
  }
});

/** Figures each built-in's report must draw (its paper's figures). */
const figuresOf: Record<string, string[]> = {
  keskar: ['test-accuracy-vs-batch-size', 'sharpness-vs-batch-size', 'sharpness-vs-gap', 'interpolation-linear-b16-b60-12steps', 'interpolation-curved-b16-b60-12steps', 'keskar-warm-start', 'keskar-sharpness-vs-loss'],
  'keskar-remedies': ['keskar-remedies', 'sharpness-vs-gap'],
  smith: ['best-lr-vs-batch-size', 'test-accuracy-vs-batch-size', 'train-loss-vs-batch-size', 'batch-size-lr-heatmap-1', 'batch-size-lr-heatmap-2'],
  ziyin: ['ziyin-sigma-vs-lr', 'ziyin-losses-vs-lr', 'ziyin-fluctuation-ellipse', 'ziyin-width-sweep', 'ziyin-weight-decay'],
  'qian-klabjan': ['qk-variance-vs-b'],
};

/** What a built-in's smoke run must show beyond running: agreement with theory, within statistical error. */
const agreement: Record<string, (db: string) => Promise<void>> = {
  keskar: async (db) => {
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
        assert.deepEqual(at.map((m) => m.kind).sort(), ['hessian', 'sharpness'], `trial ${t.key}, level ${l.level}`);
        const values = at.find((m) => m.kind === 'sharpness')!.result!.values as { solver: string; reason: string; firstOrder: number }[];
        assert.deepEqual([...new Set(values.map((v) => v.solver))].sort(), ['lbfgsb', 'projected']);
        for (const v of values.filter((x) => x.solver === 'lbfgsb')) assert.match(v.reason, /^(STOP: TOTAL NO\. of ITERATIONS REACHED LIMIT|CONVERGENCE: |ABNORMAL_TERMINATION_IN_LNSRCH)/);
        assert.ok(values.every((v) => v.firstOrder > 0));
      }
    }
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
  'qian-klabjan': async (db) => {
    const store = await openStore(db);
    const curves = qkCurves(await store.trials('qian-klabjan'), await store.measurements('qian-klabjan'));
    await store.close();
    assert.equal(curves.length, 2 * 2 * 2, 'two models × two samplings × two steps');
    for (const c of curves) {
      assert.ok(c.nonIncreasing, `${c.model}, replacement ${c.replacement}, k = ${c.step}: ${JSON.stringify(c.points)}`);
      // At k = 0 the Monte Carlo variance is the closed form within 4 standard errors.
      c.exact?.forEach((v, i) => assert.ok(Math.abs(c.points[i]!.variance - v) < 4 * c.points[i]!.standardError, `${c.model}, b=${c.points[i]!.b}: ${c.points[i]!.variance} ± ${c.points[i]!.standardError} vs ${v}`));
      // The polynomial in 1/b (degree 2 through 4 batch sizes: a fit, not an interpolation) passes within 3 standard errors of every point.
      for (const p of c.points) {
        const fitted = c.fit.reduce((s, coef, j) => s + coef * p.b ** -j, 0);
        assert.ok(Math.abs(fitted - p.variance) < 3 * p.standardError, `${c.model}, replacement ${c.replacement}, k = ${c.step}, b = ${p.b}: fit ${fitted} vs ${p.variance} ± ${p.standardError}`);
      }
    }
    assert.ok(curves.filter((c) => c.step === 0).every((c) => c.exact !== undefined));
  },
};

for (const b of BUILTIN_STUDIES) {
  test(`built-in ${b.name}: the smoke size runs, measures and reports${agreement[b.name] ? ', and agrees with theory' : ''}`, async () => {
    const db = join(dir, `${b.name}.db`);
    const out = join(dir, `${b.name}-report`);
    const r = sgdlab('run', '--builtin', b.name, '--size', 'smoke', '--db', db, '--report', out);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${b.name}: \\d+ completed, \\d+ diverged, 0 failed, 0 left`));
    const store = await openStore(db);
    const measurements = await store.measurements(b.name);
    await store.close();
    assert.ok(measurements.every((m) => m.status === 'completed'), measurements.filter((m) => m.status !== 'completed').map((m) => `${m.kind}: ${m.error}`).join('; '));
    assert.ok(existsSync(join(out, 'index.html')));
    const pngs = readdirSync(out).filter((f) => f.endsWith('.png'));
    for (const figure of figuresOf[b.name] ?? []) assert.ok(pngs.includes(`${figure}.png`), `${figure}.png among ${pngs.join(', ')}`);
    await agreement[b.name]?.(db);
  });
}

test('built-in keskar-remedies: its smoke report has SB, LB and the four remedies, each with the gap, λ_max and φ', async () => {
  const db = join(dir, 'keskar-remedies.db'); // written by the smoke-size test above
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

test('builtin list and show; bad names and sizes name what exists', () => {
  const list = sgdlab('builtin', 'list');
  assert.equal(list.status, 0, list.stderr);
  for (const b of BUILTIN_STUDIES) assert.match(list.stdout, new RegExp(`^${b.name} — `, 'm'));
  const shown = sgdlab('builtin', 'show', 'keskar', '--size', 'smoke');
  assert.deepEqual(parseStudy(parse(shown.stdout)), builtinStudy('keskar', 'smoke'), 'show prints a study file that parses back to the same study');
  const bad = sgdlab('run', '--builtin', 'hoffer', '--db', join(dir, 'x.db'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, new RegExp(`--builtin: 'hoffer' is not a built-in study; built-in studies: ${BUILTIN_STUDIES.map((x) => x.name).join(', ')}`));
  const size = sgdlab('run', '--builtin', 'keskar', '--size', 'huge', '--db', join(dir, 'x.db'));
  assert.equal(size.status, 2);
  assert.match(size.stderr, /--size: 'huge' must be one of smoke, quick, full, paper/);
  assert.match(sgdlab('run', '--db', join(dir, 'x.db')).stderr, /give a study file \(sgdlab run STUDY\.yaml\) or a built-in study/);
});

test('keskar paper: one seed, SB 256 for 20 epochs and LB 6,000 until the training loss is below 1e-4 (at most 200 epochs), saved at loss levels and measured with both solvers', () => {
  const study = builtinStudy('keskar', 'paper');
  const trials = expandTrials(study, '0');
  assert.deepEqual(trials.map((t) => [t.config.batchSize, t.config.budget, t.config.stopAt, t.config.seed]), [[256, { epochs: 20 }, undefined, 0], [6000, { epochs: 200 }, { trainLoss: 1e-4 }, 0]]);
  assert.ok(trials.every((t) => t.config.checkpointAt?.trainLoss.join() === '0.1,0.03,0.01,0.003,0.001' && t.config.data.subset === undefined && t.config.model.name === 'keskar-f1'));
  assert.equal(study.measure!.subset, undefined, 'the final minima on all 60,000 examples');
  assert.deepEqual(study.measure!.levels, { what: ['hessian', 'sharpness'], subset: 10000 });
  assert.deepEqual(study.measure!.sharpness.solver, ['lbfgsb', 'projected']);
});

test('keskar full adds C1 on CIFAR-10 exactly when the binary files are present', () => {
  const previous = process.env.SGDLAB_CIFAR10_DIR;
  const cifar = mkdtempSync(join(tmpdir(), 'sgdlab-cifar-'));
  try {
    process.env.SGDLAB_CIFAR10_DIR = join(cifar, 'absent');
    const without = expandTrials(builtinStudy('keskar', 'full'), '0');
    assert.equal(without.filter((t) => t.config.model.name === 'keskar-c1').length, 0);
    process.env.SGDLAB_CIFAR10_DIR = cifar;
    writeFileSync(join(cifar, 'data_batch_1.bin'), Buffer.alloc(3073));
    const c1 = expandTrials(builtinStudy('keskar', 'full'), '0').filter((t) => t.config.model.name === 'keskar-c1');
    assert.deepEqual([...new Set(c1.map((t) => t.config.batchSize))], [256, 5000]);
    assert.equal(c1.length, 10);
    assert.ok(c1.every((t) => t.config.data.name === 'cifar10' && t.config.data.dir === cifar));
  } finally {
    if (previous === undefined) delete process.env.SGDLAB_CIFAR10_DIR;
    else process.env.SGDLAB_CIFAR10_DIR = previous;
  }
});
