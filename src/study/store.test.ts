/** The SQLite study store: lifecycle, exactly-once claims across processes, SIGKILL at any moment, migrations. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'yaml';
import { MIGRATIONS, SqliteStudyStore, expandTrials, parseStudy } from './index.js';

const STUDY = parseStudy(parse(`
name: grid
base: { model: { name: mlp, widths: [8] }, data: { name: mnist, subset: 500 }, optimizer: { name: sgd, lr: 0.1 }, batchSize: 50, budget: { steps: 5 } }
grid: { optimizer.lr: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32], seed: [0, 1, 2, 3, 4] }
`));
const storeModule = new URL('./sqlite-store.js', import.meta.url).pathname;
const tmp = () => join(mkdtempSync(join(tmpdir(), 'sgdlab-store-')), 'study.db');

test('upsert adds only new trials; claim, finish, fail, metrics, measurements, counts, delete', () => {
  const store = new SqliteStudyStore(tmp());
  const trials = expandTrials(STUDY, '0.1.0');
  assert.equal(store.upsertStudy(STUDY, trials.slice(0, 10)), 10);
  assert.equal(store.upsertStudy(STUDY, trials), 20, 'only the 20 new trials are added');
  const a = store.claim('grid', 'w1')!;
  const b = store.claim('grid', 'w1')!;
  assert.notEqual(a.key, b.key);
  assert.equal(a.status, 'running');
  store.finish('grid', a.key, { status: 'completed', result: { test: { accuracy: 0.9 } }, seconds: 1.5, checkpoint: '/x/model.safetensors' });
  store.fail('grid', b.key, 'boom', 0.1);
  store.addMetrics('grid', a.key, [{ step: 0, name: 'loss', value: 2.3 }, { step: 1, name: 'loss', value: 2.1 }]);
  assert.deepEqual(store.metrics('grid', a.key).map((m) => m.value), [2.3, 2.1]);
  // Measurement jobs: queued once per (trial, kind, options), claimed, finished or failed.
  assert.equal(store.addMeasurementJobs('grid', [{ key: a.key, kind: 'hessian', spec: '{"topK":1}' }, { key: a.key, kind: 'noise', spec: '{}' }]), 2);
  assert.equal(store.addMeasurementJobs('grid', [{ key: a.key, kind: 'hessian', spec: '{"topK":1}' }, { key: a.key, kind: 'hessian', spec: '{"topK":2}' }]), 1, 'changed options are another measurement');
  const h = store.claimMeasurement('grid', 'w1')!;
  assert.deepEqual([h.kind, h.spec, h.status], ['hessian', '{"topK":1}', 'running']);
  store.finishMeasurement('grid', h, { eigenvalues: [3] }, 2);
  const noise = store.claimMeasurement('grid', 'w1')!;
  store.failMeasurement('grid', noise, 'out of memory', 1);
  assert.deepEqual(store.measurements('grid', a.key).map((m) => [m.kind, m.status, m.result, m.error]), [
    ['hessian', 'completed', { eigenvalues: [3] }, null], ['noise', 'failed', null, 'out of memory'], ['hessian', 'pending', null, null]]);
  assert.deepEqual(store.listStudies()[0]!.measurements, { pending: 1, running: 0, completed: 1, failed: 1 });
  // Options changed again: the queued {"topK":2} job is withdrawn; finished ones stay; a job held by a live worker stays.
  store.addMeasurementJobs('grid', [{ key: a.key, kind: 'trace', spec: '{}' }]);
  store.claimMeasurement('grid', 'alive');
  store.addMeasurementJobs('grid', [{ key: a.key, kind: 'trace', spec: '{"v":2}' }]);
  assert.equal(store.withdrawMeasurements('grid', [{ key: a.key, kind: 'hessian', spec: '{"topK":1}' }], (w) => w === 'alive'), 2);
  assert.deepEqual(store.measurements('grid', a.key).map((m) => [m.kind, m.spec, m.status]), [
    ['hessian', '{"topK":1}', 'completed'], ['noise', '{}', 'failed'], ['hessian', '{"topK":2}', 'running']]);
  store.failMeasurement('grid', { key: a.key, kind: 'hessian', spec: '{"topK":2}' }, 'x', 0);
  store.addMeasurementJobs('grid', [{ key: a.key, kind: 'noise', spec: '{"v":3}' }]);
  // What a killed worker held is recorded as failed with the reason; other workers' work is untouched.
  const held = store.claim('grid', 'host:41:7')!;
  const other = store.claim('grid', 'host:411:7')!;
  store.claimMeasurement('grid', 'host:41:7');
  assert.equal(store.failHeldBy('grid', 'host:41:', 'killed: over the memory limit'), 2);
  assert.equal(store.trial('grid', held.key)!.status, 'failed');
  assert.equal(store.trial('grid', held.key)!.error, 'killed: over the memory limit');
  assert.equal(store.trial('grid', other.key)!.status, 'running');
  store.fail('grid', other.key, 'done', 0);
  store.fail('grid', held.key, 'boom', 0); // (back to the counts below: two more failed trials)
  const stored = store.trials('grid');
  assert.equal(stored.find((t) => t.key === a.key)!.result!.test !== undefined, true);
  assert.equal(stored.find((t) => t.key === b.key)!.error, 'boom');
  assert.deepEqual(store.listStudies()[0]!.counts, { pending: 26, running: 0, completed: 1, diverged: 0, failed: 3 });
  assert.equal(store.deleteStudy('grid'), true);
  assert.equal(store.trials('grid').length, 0);
  assert.equal(store.metrics('grid', a.key).length, 0, 'metrics are deleted with the study');
  store.close();
});

const claimer = (db: string, worker: string, finishEachMs: number) => `
import { SqliteStudyStore } from ${JSON.stringify(storeModule)};
const store = new SqliteStudyStore(${JSON.stringify(db)});
for (;;) {
  const t = store.claim('grid', ${JSON.stringify(worker)}, () => true);
  if (!t) break;
  const until = Date.now() + ${finishEachMs};
  while (Date.now() < until) {}
  store.finish('grid', t.key, { status: 'completed', result: { by: ${JSON.stringify(worker)} }, seconds: 0 });
  console.log(t.key);
}
store.close();
`;

test('two processes claiming concurrently take every trial exactly once', async () => {
  const db = tmp();
  const store = new SqliteStudyStore(db);
  const trials = expandTrials(STUDY, '0.1.0');
  store.upsertStudy(STUDY, trials);
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-claim-'));
  const run = (worker: string) => new Promise<string[]>((resolve, reject) => {
    writeFileSync(join(dir, `${worker}.mjs`), claimer(db, worker, 5));
    const child = spawn(process.execPath, [join(dir, `${worker}.mjs`)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(out.split('\n').filter(Boolean)) : reject(new Error(`${worker} exited ${code}`))));
  });
  const [a, b] = await Promise.all([run('w1'), run('w2')]);
  assert.equal(a!.length + b!.length, trials.length);
  assert.equal(new Set([...a!, ...b!]).size, trials.length, 'no trial taken twice');
  assert.ok(a!.length > 0 && b!.length > 0, 'both workers took trials');
  assert.ok(store.trials('grid').every((t) => t.status === 'completed'));
  store.close();
});

test('SIGKILL at any moment loses nothing that finished, and the abandoned trial is taken over', async () => {
  const db = tmp();
  const setup = new SqliteStudyStore(db);
  setup.upsertStudy(STUDY, expandTrials(STUDY, '0.1.0'));
  setup.close();
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-kill-'));
  writeFileSync(join(dir, 'w.mjs'), claimer(db, 'doomed', 15));
  for (const delay of [60, 150, 300]) {
    const reported = await new Promise<string[]>((resolve) => {
      const child = spawn(process.execPath, [join(dir, 'w.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      setTimeout(() => child.kill('SIGKILL'), delay);
      child.on('exit', () => resolve(out.split('\n').filter(Boolean)));
    });
    const check = new Database(db, { readonly: true });
    assert.equal((check.pragma('integrity_check') as { integrity_check: string }[])[0]!.integrity_check, 'ok');
    check.close();
    const store = new SqliteStudyStore(db);
    const byKey = new Map(store.trials('grid').map((t) => [t.key, t]));
    for (const key of reported) assert.equal(byKey.get(key)!.status, 'completed', `trial ${key} was reported finished before the kill`);
    store.close();
  }
  // Whatever a killed worker left 'running' is claimed again by a live one.
  const store = new SqliteStudyStore(db);
  const left = store.trials('grid').filter((t) => t.status === 'running');
  let reclaimed = 0;
  for (let t = store.claim('grid', 'survivor', (w) => w !== 'doomed'); t; t = store.claim('grid', 'survivor', (w) => w !== 'doomed')) {
    store.finish('grid', t.key, { status: 'completed', result: {}, seconds: 0 });
    if (left.some((l) => l.key === t!.key)) reclaimed++;
  }
  assert.equal(reclaimed, left.length);
  assert.ok(store.trials('grid').every((t) => t.status === 'completed'), 'every trial ends completed exactly once');
  store.close();
});

test('a store written by a newer sgdlab is refused with a clear message', () => {
  const db = tmp();
  new SqliteStudyStore(db).close();
  const raw = new Database(db);
  raw.prepare('UPDATE schema_version SET version = 99').run();
  raw.close();
  assert.throws(() => new SqliteStudyStore(db), /has schema version 99, newer than this sgdlab \(2\); upgrade sgdlab/);
});

test('a version-1 store is migrated: its measurements become completed measurement jobs', () => {
  const db = tmp();
  const raw = new Database(db);
  raw.exec(MIGRATIONS[0]!);
  raw.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);');
  raw.prepare("INSERT INTO studies VALUES ('old', '{}', '2026-01-01')").run();
  raw.prepare("INSERT INTO trials (study, key, coordinates, config, status) VALUES ('old', 'k1', '{}', '{}', 'completed')").run();
  raw.prepare("INSERT INTO measurements VALUES ('old', 'k1', 'hessian', '{\"eigenvalues\":[5]}', '2026-01-02')").run();
  raw.close();
  const store = new SqliteStudyStore(db);
  assert.deepEqual(store.measurements('old').map((m) => [m.key, m.kind, m.spec, m.status, m.result]), [['k1', 'hessian', '{}', 'completed', { eigenvalues: [5] }]]);
  assert.equal((store.db.prepare('SELECT version FROM schema_version').get() as { version: number }).version, 2);
  store.close();
});
