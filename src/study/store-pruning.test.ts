/**
 * The store's side of pruning, on every backend: a rung value is fenced like any metric and comes back
 * with the group's values; `prune` is fenced (a stale attempt's is refused and recorded); a pruned
 * trial is terminal, never claimed again, and counted as such. Then migration 5: a version-4 store
 * opens with its trials, metrics and checkpoints intact (SQLite rebuilds the table) and takes 'pruned'.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { parse } from 'yaml';
import { expandTrials, openStore, parseStudy } from './index.js';
import { PG_MIGRATIONS } from './pg-store.js';
import { pgCluster } from './pg-testing.js';
import { MIGRATIONS } from './sqlite-store.js';
import { storeBackends } from './store-testing.js';

const STUDY = parseStudy(parse(`
name: grid
base: { model: { name: mlp, widths: [8] }, data: { name: mnist, subset: 500 }, optimizer: { name: sgd, lr: 0.1 }, batchSize: 50, budget: { steps: 5 } }
grid: { optimizer.lr: [0.01, 0.02] }
prune: { rule: asha, unit: steps, gracePeriod: 1, reductionFactor: 2 }
`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pruned = (value: number) => ({ result: { pruned: { step: 1, rung: 0, metric: 'validationAccuracy', value, rule: 'asha' } }, seconds: 0.5 });

for (const backend of storeBackends()) {
  test(`${backend.name}: rung values are fenced and come back with the group's; prune is fenced; a pruned trial is never claimed again`, async () => {
    const store = await openStore(await backend.newUrl());
    const trials = expandTrials(STUDY, '0.1.0');
    await store.upsertStudy(STUDY, trials);
    const a = (await store.claim('grid', 'w1', { leaseSeconds: 0.001 }))!;
    const b = (await store.claim('grid', 'w2', { leaseSeconds: 30 }))!;
    const name = 'rung:validationAccuracy';
    assert.deepEqual(await store.reportRung('grid', b.key, 1, { step: 1, name, value: 0.3 }), [{ key: b.key, step: 1, value: 0.3 }]);
    assert.deepEqual(await store.reportRung('grid', a.key, 1, { step: 1, name, value: 0.2 }), [{ key: b.key, step: 1, value: 0.3 }, { key: a.key, step: 1, value: 0.2 }]);
    // a's lease runs out; w3 takes it over (attempt 2). w1's rung report and prune are stale now.
    await sleep(20);
    const a2 = (await store.claim('grid', 'w3', { leaseSeconds: 30 }))!;
    assert.deepEqual([a2.key, a2.attempt], [a.key, 2]);
    assert.equal(await store.reportRung('grid', a.key, 1, { step: 2, name, value: 0.1 }), undefined, 'a stale attempt reports no rung');
    assert.equal(await store.prune('grid', a.key, 1, pruned(0.2)), false, 'a stale attempt prunes nothing');
    // Values of the attempt that was taken over do not count: only b's (the current attempts').
    assert.deepEqual(await store.reportRung('grid', b.key, 1, { step: 2, name, value: 0.4 }), [{ key: b.key, step: 1, value: 0.3 }, { key: b.key, step: 2, value: 0.4 }]);
    assert.equal(await store.prune('grid', a.key, 2, pruned(0.25)), true);
    assert.equal(await store.prune('grid', a.key, 2, pruned(0.25)), true, 'the same prune sent again (its reply lost) is not a refusal');
    const t = (await store.trial('grid', a.key))!;
    assert.deepEqual([t.status, t.attempt, t.result?.pruned?.value, t.result?.pruned?.rule], ['pruned', 2, 0.25, 'asha']);
    assert.equal(await store.finish('grid', a.key, 2, { status: 'completed', result: {}, seconds: 1 }), true, 'finish by the same attempt after prune: answered as a retry');
    assert.equal((await store.trial('grid', a.key))!.status, 'pruned', 'and nothing overwritten');
    assert.deepEqual((await store.refusals('grid')).map((r) => [r.key, r.attempt, r.currentAttempt, r.what]), [[a.key, 1, 2, 'metrics'], [a.key, 1, 2, 'prune']]);
    // Every worker taken for dead: b is taken over (by w4, alive from then on), and then nothing (the pruned trial is terminal, whatever its lease or worker).
    assert.equal((await store.claim('grid', 'w4', { isWorkerAlive: () => false }))?.key, b.key);
    assert.equal(await store.claim('grid', 'w5', { isWorkerAlive: (w) => w === 'w4' }), undefined);
    const counts = (await store.listStudies())[0]!.counts;
    assert.deepEqual(counts, { pending: 0, running: 1, completed: 0, diverged: 0, failed: 0, pruned: 1 });
    await store.close();
  });
}

test('sqlite and postgres: a version-4 store opens with its trials, metrics and checkpoints intact, and a trial can then be pruned', async () => {
  const oldRows = `INSERT INTO studies (name, spec, created_at, updated_at) VALUES ('old', '{}', '2026-01-01', '2026-01-01');
    INSERT INTO trials (study, key, coordinates, config, status, attempt, result) VALUES ('old', 'k2', '{}', '{}', 'completed', 1, '{"steps":5}'), ('old', 'k1', '{}', '{}', 'running', 1, NULL);
    INSERT INTO metrics (study, key, attempt, step, name, value) VALUES ('old', 'k1', 1, 0, 'loss', 2.5), ('old', 'k2', 1, 0, 'loss', 1.5);
    INSERT INTO measurement_jobs (study, key, kind, spec, status) VALUES ('old', 'k2', 'hessian', '{}', 'pending');
    INSERT INTO artifacts (study, key, name, data) VALUES ('old', 'k2', 'model.json', '\\x7b7d');
    CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (4);`;
  const db = join(mkdtempSync(join(tmpdir(), 'sgdlab-v4-')), 'study.db');
  const raw = new Database(db);
  for (const m of MIGRATIONS.slice(0, 4)) raw.exec(m);
  raw.exec(oldRows.replace("'\\x7b7d'", "X'7b7d'"));
  raw.close();
  const url = await (await pgCluster()).newDatabase();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const m of PG_MIGRATIONS.slice(0, 4)) await client.query(m);
  await client.query(oldRows);
  await client.end();
  for (const location of [db, url]) {
    const store = await openStore(location);
    assert.deepEqual((await store.trials('old')).map((t) => [t.key, t.status, t.result]), [['k2', 'completed', { steps: 5 }], ['k1', 'running', null]], `${location}: the trials, in their order`);
    assert.deepEqual(await store.metrics('old', 'k1'), [{ step: 0, name: 'loss', value: 2.5 }]);
    assert.deepEqual(await store.metrics('old', 'k2'), [{ step: 0, name: 'loss', value: 1.5 }]);
    assert.deepEqual((await store.measurements('old')).map((m) => m.key), ['k2']);
    assert.deepEqual((await store.artifact('old', 'k2'))!.map((f) => [f.name, Buffer.from(f.data).toString()]), [['model.json', '{}']]);
    assert.equal(await store.prune('old', 'k1', 1, pruned(0.5)), true);
    assert.equal((await store.trial('old', 'k1'))!.status, 'pruned');
    // The rebuilt table's foreign keys still hold: deleting the study deletes its trials' rows everywhere.
    assert.equal(await store.deleteStudy('old'), true);
    assert.deepEqual([await store.metrics('old', 'k1'), await store.artifact('old', 'k2'), await store.measurements('old')], [[], undefined, []]);
    await store.close();
  }
  const migrated = new Database(db, { readonly: true });
  assert.equal((migrated.prepare('SELECT version FROM schema_version').get() as { version: number }).version, MIGRATIONS.length);
  migrated.close();
});
