/**
 * measure.byBatchSize: other options for the trials of some batch sizes (Keskar et al.'s sweep measures
 * φ(1e-3, full) between SB and LB, and everything at SB and LB). The jobs of a store written by an
 * earlier release (fixtures/keskar-smoke-cf8a17a.db) are read with SQLite alone and edited by hand into
 * what the entry asks for; a worker measures a listed trial with the entry's options (a linear
 * regression's top eigenvalues against XᵀX/n, one or two of them by batch size); bad entries are refused
 * by name.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openStore } from './store-factory.js';
import { measurementJobs } from './results.js';
import { measurementTarget } from './loss-levels.js';
import { parseStudy } from './schema.js';
import { linearHessianEigenvalues, linearStudy, sgdlabCli } from './testing.js';

const FIXTURE = fileURLToPath(new URL('../../../src/study/fixtures/keskar-smoke-cf8a17a.db', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sgdlab-by-batch-size-'));

interface Row { key: string; kind: string; spec: string; batchSize: number }

test('the listed batch sizes get the entry\'s kinds and option fields, final and at loss levels; the others keep the study\'s jobs', async () => {
  const path = join(dir, 'keskar-smoke.db');
  copyFileSync(FIXTURE, path);
  const db = new Database(path, { readonly: true });
  const stored = db.prepare(`SELECT m.key, m.kind, m.spec, json_extract(t.config, '$.batchSize') AS batchSize FROM measurement_jobs m JOIN trials t ON t.study = m.study AND t.key = m.key`).all() as Row[];
  db.close();
  const store = await openStore(path);
  const study = (await store.getStudy('keskar'))!.study;
  const trials = await store.trials('keskar');
  await store.close();
  assert.deepEqual([...new Set(stored.map((r) => r.batchSize))].sort((a, b) => a - b), [16, 60]);

  const entry = { batchSize: [60], what: ['sharpness', 'noise'], sharpness: { epsilon: [1e-3], space: ['full'] } };
  const edited = parseStudy({ ...study, measure: { ...study.measure, byBatchSize: [entry] } });
  const line = (j: { key: string; kind: string; spec: string }) => `${j.key} ${j.kind} ${j.spec}`;
  const jobs = measurementJobs(edited, trials).map(line).sort();

  // By hand: B = 16 keeps every stored job; B = 60 (its plain and warm-started trials) keeps sharpness (final and
  // at each loss level) with ε and space replaced and the other fields the study's, and noise; no hessian, no
  // interpolation (its `what` has none).
  const expected = stored.flatMap((r) => {
    if (r.batchSize === 16) return [line(r)];
    if (r.kind === 'noise') return [line(r)];
    if (r.kind !== 'sharpness') return [];
    const spec = JSON.parse(r.spec) as Record<string, unknown>;
    assert.deepEqual([spec.epsilon, spec.space], [[0.001, 0.0005], ['full', 10]], 'the fixture measured two ε and two spaces');
    const keys = Object.keys(spec).sort();
    const replaced: Record<string, unknown> = { ...spec, epsilon: [0.001], space: ['full'] };
    return [`${r.key} ${r.kind} ${JSON.stringify(Object.fromEntries(keys.map((k) => [k, replaced[k]])))}`];
  }).sort();
  assert.ok(stored.some((r) => r.batchSize === 60 && r.kind === 'sharpness' && JSON.parse(r.spec).level !== undefined), 'the fixture has B = 60 loss levels');
  assert.ok(stored.some((r) => r.batchSize === 60 && r.kind === 'interpolate'), 'the fixture interpolates to B = 60');
  assert.deepEqual(jobs, expected);

  // A worker measures a B = 60 job with the entry's options, a B = 16 job with the study's.
  const byKey = new Map(trials.map((t) => [t.key, t]));
  const sharpness = (batchSize: number) => {
    const r = stored.find((s) => s.batchSize === batchSize && s.kind === 'sharpness' && JSON.parse(s.spec).level === undefined)!;
    return measurementTarget(edited.measure!, byKey.get(r.key)!, r.spec).measure;
  };
  assert.deepEqual([sharpness(60).sharpness.epsilon, sharpness(60).sharpness.space, sharpness(60).sharpness.maxIter, sharpness(60).what], [[0.001], ['full'], study.measure!.sharpness.maxIter, ['sharpness', 'noise']]);
  assert.deepEqual([sharpness(16).sharpness.epsilon, sharpness(16).sharpness.space, sharpness(16).what], [[0.001, 0.0005], ['full', 10], study.measure!.what]);
});

test('a worker measures a listed batch size with its entry\'s options: the top eigenvalue(s) of XᵀX/n (closed form), two at B = 16, one at B = 32', async () => {
  const file = join(dir, 'linear.yaml');
  writeFileSync(file, linearStudy('linear', `grid: { batchSize: [16, 32], seed: [0] }
measure:
  trials: all
  what: [hessian, noise]
  hessian: { topK: 2 }
  byBatchSize:
    - { batchSize: [32], what: [hessian], hessian: { topK: 1 } }
`));
  const db = join(dir, 'linear.db');
  const run = sgdlabCli('run', file, '--db', db, '--workers', '1');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /measurements: 3 completed, 0 failed, 0 left/);
  const store = await openStore(db);
  const trials = new Map((await store.trials('linear')).map((t) => [t.key, t.config.batchSize]));
  const measured = (await store.measurements('linear')).map((m) => ({ batchSize: trials.get(m.key), kind: m.kind, eigenvalues: (m.result as { eigenvalues?: number[] }).eigenvalues }));
  await store.close();
  // ŷ = wᵀx and ½-squared loss: H = XᵀX/n whatever w.
  const exact = await linearHessianEigenvalues();
  assert.deepEqual(measured.map((m) => `${m.batchSize} ${m.kind}`).sort(), ['16 hessian', '16 noise', '32 hessian']);
  for (const m of measured.filter((x) => x.kind === 'hessian')) {
    assert.equal(m.eigenvalues!.length, m.batchSize === 16 ? 2 : 1);
    m.eigenvalues!.forEach((v, i) => assert.ok(Math.abs(v - exact[i]!) <= 1e-4 * exact[i]!, `B = ${m.batchSize}, λ${i + 1}: stored ${v}, XᵀX/n ${exact[i]}`));
  }
});

test('an entry that measures a kind the study does not, or a batch size listed twice, is refused by name', () => {
  const problems = (byBatchSize: object[]) => {
    try {
      parseStudy({ name: 'x', base: {}, measure: { what: ['hessian', 'sharpness'], byBatchSize } }, 'study.yaml');
      return [];
    } catch (error) {
      return (error as { problems?: string[] }).problems;
    }
  };
  assert.deepEqual(problems([{ batchSize: [512], what: ['sharpness', 'noise'] }]), [
    "measure.byBatchSize.0.what: 'noise' is not in the study's measure.what (hessian, sharpness): an entry measures a part of what the study measures (got [\"sharpness\",\"noise\"])",
  ]);
  assert.deepEqual(problems([{ batchSize: [512, 1024] }, { batchSize: [2048, 512] }]), [
    'measure.byBatchSize.1.batchSize.1: batch size 512 is already in byBatchSize entry 0: a batch size takes one entry\'s options (got 512)',
  ]);
  assert.deepEqual(problems([{ batchSize: [512], sharpness: { epsilon: [1e-3], spaces: ['full'] } }]), [
    "measure.byBatchSize.0.sharpness: unknown field(s) 'spaces'",
  ]);
});
