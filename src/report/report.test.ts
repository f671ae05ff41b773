/**
 * The report of a small stored study: every figure renders (SVG, PNG, Vega-Lite spec), the HTML is
 * self-contained, the tables' numbers equal the store's, and writing it never loads libtorch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../study/index.js';
import { repoRoot, sgdlabCli, smallMlpStudy } from '../study/testing.js';
import type { StoredTrial } from '../study/index.js';
import { isoTemperatureLine, linearScalingBoundary, temperatureLevels } from './figures.js';
import { loadReportData, problemsOf } from './data.js';
import { reportFigures } from './builtin/index.js';
import { problemTable } from './tables.js';
import { reportHtml } from './html.js';

const root = repoRoot;
const sgdlab = sgdlabCli;
const dir = mkdtempSync(join(tmpdir(), 'sgdlab-report-'));
const db = join(dir, 'r.db');
const file = join(dir, 'small.yaml');
writeFileSync(file, smallMlpStudy('small', `grid:
  batchSize: [25, 100]
  optimizer.lr: [0.05, 0.2, 1000]
  seed: [0, 1]
measure:
  trials: best
  what: [hessian, sharpness, noise, interpolate]
  subset: 200
  hessian: { topK: 1, traceProbes: 2 }
  sharpness: { epsilon: [1e-3], space: [full, 10], maxIter: 2, randomStarts: 0 }
  noise: { monteCarlo: 20 }
  interpolate: { points: 5 }
`, '  eval: { every: 10 }\n'));

test('the report renders every figure, is self-contained, and its tables carry the store\'s numbers', async () => {
  const run = sgdlab('run', file, '--db', db, '--workers', '2');
  assert.equal(run.status, 0, run.stderr);
  const out = join(dir, 'report');
  const r = sgdlab('report', 'small', '--db', db, '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const ids = ['test-accuracy-vs-batch-size', 'best-lr-vs-batch-size', 'train-loss-vs-batch-size', 'generalization-gap-vs-batch-size', 'learning-curves',
    'sharpness-vs-batch-size', 'sharpness-vs-gap', 'gradient-variance-vs-b', 'batch-size-lr-heatmap', 'interpolation-linear-b25-b100-30steps', 'interpolation-curved-b25-b100-30steps'];
  assert.match(r.stdout, new RegExp(`index\\.html: ${ids.length} figures`));
  for (const id of ids) {
    const png = readFileSync(join(out, `${id}.png`));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${id}.png is a PNG`);
    assert.ok(png.length > 5000, `${id}.png has content (${png.length} bytes)`);
    const svg = readFileSync(join(out, `${id}.svg`), 'utf8');
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok((svg.match(/<path|<line|<rect/g) ?? []).length > 10, `${id}.svg draws marks`);
    const spec = JSON.parse(readFileSync(join(out, `${id}.vl.json`), 'utf8')) as { $schema: string };
    assert.match(spec.$schema, /vega-lite/);
  }
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.equal((html.match(/<svg/g) ?? []).length, ids.length, 'every figure is inlined');
  const fetching = html.match(/<script|<link|<img|<iframe|@import|url\((?!#)/i);
  assert.equal(fetching, null, `nothing to fetch (found ${fetching?.[0]})`);
  assert.deepEqual([...new Set(html.match(/https?:\/\/[^"'\s)]+/g) ?? [])].sort(), ['http://www.w3.org/1999/xlink', 'http://www.w3.org/2000/svg'], 'only XML namespace names');

  // The tables: recomputed here from the stored trials, by hand.
  const store = await openStore(db);
  const tables = JSON.parse(readFileSync(join(out, 'tables.json'), 'utf8')) as { id: string; columns: string[]; rows: string[][] }[];
  const accuracy = tables.find((t) => t.id === 'accuracy')!;
  const trials = await store.trials('small');
  for (const b of [25, 100]) {
    const atB = trials.filter((t) => t.config.batchSize === b && t.status === 'completed');
    const lrs = [...new Set(atB.map((t) => t.config.optimizer.lr))];
    const meanAcc = (lr: number) => { const xs = atB.filter((t) => t.config.optimizer.lr === lr).map((t) => (t.result as { test: { accuracy: number } }).test.accuracy); return xs.reduce((a, c) => a + c, 0) / xs.length; };
    const divergedLr = new Set(trials.filter((t) => t.config.batchSize === b && t.status === 'diverged').map((t) => t.config.optimizer.lr));
    // validationAccuracy is the default rule: pick by mean validation accuracy among never-diverged learning rates.
    const meanVal = (lr: number) => { const xs = atB.filter((t) => t.config.optimizer.lr === lr).map((t) => (t.result as { validation: { accuracy: number } }).validation.accuracy); return xs.reduce((a, c) => a + c, 0) / xs.length; };
    const best = lrs.filter((lr) => !divergedLr.has(lr)).sort((x, y) => meanVal(y) - meanVal(x))[0]!;
    const xs = atB.filter((t) => t.config.optimizer.lr === best).map((t) => (t.result as { test: { accuracy: number } }).test.accuracy);
    const std = Math.sqrt(xs.reduce((a, c) => a + (c - meanAcc(best)) ** 2, 0) / (xs.length - 1));
    const row = accuracy.rows.find((x) => x[1] === String(b))!;
    assert.equal(row[2], String(best));
    const expected = `${(100 * meanAcc(best)).toFixed(2)}% ± ${(100 * std).toFixed(2)}`;
    assert.equal(row[accuracy.columns.indexOf('test accuracy')], expected);
    assert.ok(html.includes(`<td>${expected}</td>`), 'the HTML table shows the same number');
  }
  const sharp = tables.find((t) => t.id === 'sharpness-full')!;
  assert.deepEqual(sharp.columns.slice(4), ['φ(ε = 0.001, full)', 'φ(ε = 0.001, full) first-order']);
  const lambda = tables.find((t) => t.id === 'measurements')!;
  const col = lambda.columns.indexOf('lambdaMax');
  const row25 = lambda.rows.find((x) => x[1] === '25')!;
  const keys = trials.filter((t) => t.config.batchSize === 25 && String(t.config.optimizer.lr) === row25[2]).map((t) => t.key);
  const eigs = (await store.measurements('small')).filter((m) => m.kind === 'hessian' && keys.includes(m.key)).map((m) => (m.result!.eigenvalues as number[])[0]!);
  assert.equal(eigs.length, 2);
  const mean = (eigs[0]! + eigs[1]!) / 2;
  assert.equal(row25[col], `${mean.toPrecision(4)} ± ${(Math.abs(eigs[0]! - eigs[1]!) / Math.SQRT2).toPrecision(2)}`);

  // The data inlined in the figures (what the PNG and SVG draw) is the store's, recomputed here.
  const figureData = (id: string) => {
    const spec = JSON.parse(readFileSync(join(out, `${id}.vl.json`), 'utf8')) as { data?: { values: Record<string, unknown>[] }; layer?: { data?: { values: Record<string, unknown>[] } }[] };
    return [spec.data?.values ?? [], ...(spec.layer ?? []).map((l) => l.data?.values ?? [])];
  };
  const [accuracyPoints] = figureData('test-accuracy-vs-batch-size');
  for (const row of accuracy.rows) {
    const point = accuracyPoints!.find((p) => p.batchSize === Number(row[1]))!;
    assert.equal(`${(point.mean as number).toFixed(2)}% ± ${((point.hi as number) - (point.mean as number)).toFixed(2)}`, row[accuracy.columns.indexOf('test accuracy')]);
  }
  const sharpnessPoints = figureData('sharpness-vs-batch-size')[0]!;
  const lambdaPoint = sharpnessPoints.find((p) => p.batchSize === 25 && String(p.quantity).startsWith('λ_max'))!;
  assert.ok(Math.abs((lambdaPoint.mean as number) - mean) < 1e-9 * mean, `λ_max in the figure ${lambdaPoint.mean} vs the store's ${mean}`);
  const interpolation = (await store.measurements('small')).find((m) => m.kind === 'interpolate' && m.status === 'completed')!;
  const linearData = figureData('interpolation-linear-b25-b100-30steps').flat();
  for (const p of interpolation.result!.points as { alpha: number; train: { loss: number; accuracy: number } }[]) {
    const drawn = linearData.find((v) => v.alpha === p.alpha && v.split === 'train' && 'loss' in v)!;
    assert.ok(Math.abs((drawn.loss as number) - p.train.loss) < 1e-12 * p.train.loss, `α=${p.alpha}: loss drawn ${drawn.loss} vs stored ${p.train.loss}`);
    assert.ok(Number.isFinite(drawn.loss as number), 'batch-norm statistics recomputed along the path: no NaN loss');
  }
  // The heatmap's dashed lines are iso-temperature curves: T = ε(N − B)/(B(N − 1))/(1 − m) (Smith, Elsen & De 2020), N = 400 training examples, m = 0.9.
  const iso = figureData('batch-size-lr-heatmap').at(-1)!;
  assert.ok(iso.length > 0);
  for (const p of iso) {
    const level = p.level as number;
    const temperature = ((p.lr as number) * (400 - (p.batchSize as number))) / ((p.batchSize as number) * (400 - 1)) / (1 - 0.9);
    assert.ok(Math.abs(temperature / level - 1) < 0.01, `iso-line ${p.T} at B=${p.batchSize}, ε=${p.lr}: T = ${temperature}`);
  }
  await store.close();
});

test('a built-in study can leave out generic figures its grid makes meaningless: ziyin omits sharpness vs batch size and vs gap', async () => {
  const store = await openStore(db);
  const data = await loadReportData(store, (await store.getStudy('small'))!.study);
  await store.close();
  const ids = (name: string) => reportFigures({ ...data, study: { ...data.study, name } }).map((f) => f.id);
  assert.ok(ids('small').includes('sharpness-vs-batch-size') && ids('small').includes('sharpness-vs-gap'));
  const sharpness = ['sharpness-vs-batch-size', 'sharpness-vs-gap'];
  // Under ziyin's name its own figures join (its width sweep draws these MLP trials); of the generic ones all but the two remain.
  assert.deepEqual(ids('ziyin').filter((id) => ids('small').includes(id)), ids('small').filter((id) => !sharpness.includes(id)));
});

test('writing a report never loads libtorch', () => {
  const script = `
    import { openStore } from ${JSON.stringify(join(root, 'dist/src/study/index.js'))};
    import { writeReport } from ${JSON.stringify(join(root, 'dist/src/report/index.js'))};
    import { readFileSync } from 'node:fs';
    const store = await openStore(${JSON.stringify(db)});
    await writeReport(store, (await store.getStudy('small')).study, ${JSON.stringify(join(dir, 'again'))});
    console.log(/libtorch|sgdlab_torch/.test(readFileSync('/proc/self/maps', 'utf8')) ? 'loaded' : 'not loaded');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'not loaded');
  assert.ok(existsSync(join(dir, 'again', 'index.html')));
});

test('the linear-scaling boundary and the temperature iso-lines', () => {
  // Best ε doubles with B up to 64, then stays: the first B below half the linear prediction is 256.
  assert.equal(linearScalingBoundary([{ batchSize: 16, bestLr: 0.05 }, { batchSize: 32, bestLr: 0.1 }, { batchSize: 64, bestLr: 0.2 }, { batchSize: 128, bestLr: 0.2 }, { batchSize: 256, bestLr: 0.2 }]), 256);
  assert.equal(linearScalingBoundary([{ batchSize: 16, bestLr: 0.05 }, { batchSize: 32, bestLr: 0.1 }]), undefined);
  // With B ≪ N the temperature is ε/B, spanning 2⁻¹⁰…2⁻² (9 powers of 2): every third, at most 4 lines.
  const huge = 2 ** 40;
  assert.deepEqual(temperatureLevels([{ batchSize: 1024, lr: 1, examples: huge, momentum: 0 }, { batchSize: 16, lr: 4, examples: huge, momentum: 0 }], 4), [2 ** -10, 2 ** -7, 2 ** -4]);
  // Momentum m divides it by 1 − m (Smith, Elsen & De 2020, §2): m = 0.75 multiplies every level by 4.
  assert.deepEqual(temperatureLevels([{ batchSize: 1024, lr: 1, examples: huge, momentum: 0.75 }, { batchSize: 16, lr: 4, examples: huge, momentum: 0.75 }], 4), [2 ** -8, 2 ** -5, 2 ** -2]);
  // Near B = N the iso-line bends up: at B = N/2 the same T needs ε = 2T·B(N − 1)/N.
  const line = isoTemperatureLine(0.01, 1000, 0, [10, 500], [1e-6, 1e6]);
  assert.ok(Math.abs(line[0]!.lr - (0.01 * 10 * 999) / 990) < 1e-12 && Math.abs(line.at(-1)!.lr - (0.01 * 500 * 999) / 500) < 1e-9, JSON.stringify([line[0], line.at(-1)]));
});

test('what failed is shown with its reason: failed trials and measurements, and a recording that failed inside a completed trial', () => {
  const trial = (key: string, status: StoredTrial['status'], extra: Partial<StoredTrial> = {}): StoredTrial => ({
    study: 's', key, coordinates: { seed: Number(key.at(-1)) }, config: {} as StoredTrial['config'], status, worker: null, startedAt: null, finishedAt: null, seconds: null, result: null, error: null, checkpoint: null, attempt: 1, ...extra,
  });
  const problems = problemsOf(
    [trial('k1', 'failed', { error: 'killed: over the memory limit' }), trial('k2', 'completed', { result: { fluctuationsError: 'the covariance is not positive definite' } }), trial('k3', 'completed', { result: {} })],
    [{ key: 'k3', kind: 'sharpness', spec: '{}', status: 'failed', worker: null, seconds: 1, result: null, error: 'NaN loss at the start', attempt: 1 }],
  );
  assert.deepEqual(problems.map((p) => [p.key, p.what, p.error]), [
    ['k1', 'trial', 'killed: over the memory limit'], ['k2', 'fluctuations', 'the covariance is not positive definite'], ['k3', 'sharpness', 'NaN loss at the start'],
  ]);
  const [table] = problemTable(problems);
  const html = reportHtml({ title: 't', summary: [], figures: [], tables: [table!], generatedBy: '' });
  assert.match(html, /<td>fluctuations<\/td><td>the covariance is not positive definite<\/td>/);
  assert.deepEqual(problemTable([]), []);
});

test("the CLI's read-only commands never map libtorch (checked in the real command's process), while training does", () => {
  // Preloaded into the sgdlab process: at exit, whether libtorch or the addon is mapped.
  const probe = join(dir, 'maps-probe.mjs');
  writeFileSync(probe, `import { readFileSync, writeFileSync } from 'node:fs';
process.on('exit', () => writeFileSync(process.env.SGDLAB_MAPS_OUT, /libtorch|sgdlab_torch/.test(readFileSync('/proc/self/maps', 'utf8')) ? 'loaded' : 'not loaded'));\n`);
  const mapped = (...args: string[]) => {
    const outFile = join(dir, `maps-${args[0]}`);
    const r = spawnSync(process.execPath, ['--import', probe, join(root, 'bin', 'sgdlab.js'), ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, SGDLAB_MAPS_OUT: outFile } });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return readFileSync(outFile, 'utf8');
  };
  for (const args of [['status', '--db', db], ['results', 'small', '--db', db, '--json'], ['export', 'small', '--db', db], ['report', 'small', '--db', db, '--out', join(dir, 'cli-report')], ['retry', 'small', '--db', db], ['builtin', 'list']]) {
    assert.equal(mapped(...args), 'not loaded', args.join(' '));
  }
  assert.equal(mapped('train', '--model', 'mlp', '--widths', '4', '--subset', '100', '--batch-size', '10', '--steps', '1', '--json'), 'loaded', 'the probe sees libtorch when it is loaded');
});
