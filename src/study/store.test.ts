/**
 * The study store, one suite for every backend: lifecycle, leases and attempt numbers (a stale
 * attempt's result refused and recorded), heartbeats and the workers table, artifacts, dump and load,
 * exactly-once claims across processes, SIGKILL at any moment, metrics stored once however often they
 * are sent. Then each backend's migrations, and a PostgreSQL COMMIT whose acknowledgement is lost.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'yaml';
import { IN_STORE, checkpointSizes, expandTrials, openStore, parseStudy, type StudyStore, type WorkerBeat } from './index.js';
import pg from 'pg';
import { PG_MIGRATIONS } from './pg-store.js';
import { lostCommitRelay, pgCluster } from './pg-testing.js';
import { MIGRATIONS, SqliteStudyStore } from './sqlite-store.js';
import { storeBackends } from './store-testing.js';

const STUDY = parseStudy(parse(`
name: grid
base: { model: { name: mlp, widths: [8] }, data: { name: mnist, subset: 500 }, optimizer: { name: sgd, lr: 0.1 }, batchSize: 50, budget: { steps: 5 } }
grid: { optimizer.lr: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32], seed: [0, 1, 2, 3, 4] }
`));
const factory = new URL('./store-factory.js', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'sgdlab-store-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const beat = (id: string, extra: Partial<WorkerBeat> = {}): WorkerBeat => ({ id, study: 'grid', host: 'h', pid: 1, holds: null, step: null, totalSteps: null, loss: null, rssMb: null, state: 'idle', message: null, ...extra });

for (const backend of storeBackends()) {
  const fresh = async (): Promise<{ url: string; store: StudyStore }> => {
    const url = await backend.newUrl();
    return { url, store: await openStore(url) };
  };

  test(`${backend.name}: upsert adds only new trials; claim, finish, fail, metrics, measurements, counts, delete`, async () => {
    const { store } = await fresh();
    assert.equal(store.backend, backend.name);
    const trials = expandTrials(STUDY, '0.1.0');
    assert.equal(await store.upsertStudy(STUDY, trials.slice(0, 10)), 10);
    assert.equal(await store.upsertStudy(STUDY, trials), 20, 'only the 20 new trials are added');
    const a = (await store.claim('grid', 'w1'))!;
    const b = (await store.claim('grid', 'w1'))!;
    assert.notEqual(a.key, b.key);
    assert.deepEqual([a.status, a.attempt, a.key], ['running', 1, trials[0]!.key], 'claims go in the order trials were added');
    assert.equal(await store.finish('grid', a.key, 1, { status: 'completed', result: { test: { accuracy: 0.9 } }, seconds: 1.5, checkpoint: '/x/ckpt', metrics: [{ step: 0, name: 'loss', value: 2.3 }] }), true);
    assert.equal(await store.fail('grid', b.key, 1, 'boom', 0.1), true);
    assert.equal(await store.addMetrics('grid', a.key, 1, [{ step: 1, name: 'loss', value: 2.1 }]), false, 'a finished attempt takes no more metrics');
    assert.deepEqual((await store.metrics('grid', a.key)).map((m) => m.value), [2.3]);
    assert.equal((await store.finish('grid', a.key, 1, { status: 'completed', result: {}, seconds: 0 })), true, 'the same attempt finishing again (a retried call) is not a refusal');
    // Measurement jobs: queued once per (trial, kind, options), claimed, finished or failed.
    assert.equal(await store.addMeasurementJobs('grid', [{ key: a.key, kind: 'hessian', spec: '{"topK":1}' }, { key: a.key, kind: 'noise', spec: '{}' }]), 2);
    assert.equal(await store.addMeasurementJobs('grid', [{ key: a.key, kind: 'hessian', spec: '{"topK":1}' }, { key: a.key, kind: 'hessian', spec: '{"topK":2}' }]), 1, 'changed options are another measurement');
    const h = (await store.claimMeasurement('grid', 'w1'))!;
    assert.deepEqual([h.kind, h.spec, h.status, h.attempt], ['hessian', '{"topK":1}', 'running', 1]);
    assert.equal(await store.finishMeasurement('grid', h, 1, { eigenvalues: [3] }, 2), true);
    const noise = (await store.claimMeasurement('grid', 'w1'))!;
    assert.equal(await store.failMeasurement('grid', noise, noise.attempt, 'out of memory', 1), true);
    assert.deepEqual((await store.measurements('grid', a.key)).map((m) => [m.kind, m.status, m.result, m.error]), [
      ['hessian', 'completed', { eigenvalues: [3] }, null], ['noise', 'failed', null, 'out of memory'], ['hessian', 'pending', null, null]]);
    assert.deepEqual((await store.listStudies())[0]!.measurements, { pending: 1, running: 0, completed: 1, failed: 1 });
    // Options changed again: the queued {"topK":2} job is withdrawn; finished ones stay; a job held by a live worker stays.
    await store.addMeasurementJobs('grid', [{ key: a.key, kind: 'trace', spec: '{}' }]);
    await store.claimMeasurement('grid', 'alive');
    await store.addMeasurementJobs('grid', [{ key: a.key, kind: 'trace', spec: '{"v":2}' }]);
    assert.equal(await store.withdrawMeasurements('grid', [{ key: a.key, kind: 'hessian', spec: '{"topK":1}' }], (w) => w === 'alive'), 2);
    assert.deepEqual((await store.measurements('grid', a.key)).map((m) => [m.kind, m.spec, m.status]), [
      ['hessian', '{"topK":1}', 'completed'], ['noise', '{}', 'failed'], ['hessian', '{"topK":2}', 'running']]);
    await store.failMeasurement('grid', { key: a.key, kind: 'hessian', spec: '{"topK":2}' }, 1, 'x', 0);
    // What a killed worker held is recorded as failed with the reason; other workers' work is untouched.
    const held = (await store.claim('grid', 'host:41:7'))!;
    const other = (await store.claim('grid', 'host:411:7'))!;
    await store.addMeasurementJobs('grid', [{ key: a.key, kind: 'noise', spec: '{"v":3}' }]);
    await store.claimMeasurement('grid', 'host:41:7');
    assert.equal(await store.failHeldBy('grid', 'host:41:', 'killed: over the memory limit'), 2);
    assert.equal((await store.trial('grid', held.key))!.status, 'failed');
    assert.equal((await store.trial('grid', held.key))!.error, 'killed: over the memory limit');
    assert.equal((await store.trial('grid', other.key))!.status, 'running');
    await store.fail('grid', other.key, other.attempt, 'done', 0);
    const stored = await store.trials('grid');
    assert.equal(stored.length, 30);
    assert.equal(stored.find((t) => t.key === a.key)!.checkpoint, '/x/ckpt');
    assert.equal(stored.find((t) => t.key === b.key)!.error, 'boom');
    const summary = (await store.listStudies())[0]!;
    assert.deepEqual(summary.counts, { pending: 26, running: 0, completed: 1, diverged: 0, failed: 3, pruned: 0 });
    assert.equal(summary.refused, 1, 'the metrics sent after the finish');
    assert.ok(Date.parse(summary.updatedAt) >= Date.parse(summary.createdAt));
    const statuses = await store.statuses('grid');
    assert.equal(statuses.trials.length, 30);
    assert.equal(statuses.measurements.filter((m) => m.status === 'completed').length, 1);
    assert.equal(await store.deleteStudy('grid'), true);
    assert.equal((await store.trials('grid')).length, 0);
    assert.equal((await store.metrics('grid', a.key)).length, 0, 'metrics are deleted with the study');
    assert.equal(await store.getStudy('grid'), undefined);
    await store.close();
  });

  test(`${backend.name}: retryFailed queues failed trials and measurements again with their next attempt; the failed attempt's late result is refused`, async () => {
    const { store } = await fresh();
    await store.upsertStudy(STUDY, expandTrials(STUDY, '0.1.0').slice(0, 3));
    const [a, b, c] = [(await store.claim('grid', 'w1'))!, (await store.claim('grid', 'w1'))!, (await store.claim('grid', 'w1'))!];
    await store.finish('grid', a.key, 1, { status: 'completed', result: { ok: 1 }, seconds: 1 });
    await store.fail('grid', b.key, 1, 'killed: over the memory limit', 2);
    await store.finish('grid', c.key, 1, { status: 'diverged', result: { diverged: true }, seconds: 1 });
    await store.addMeasurementJobs('grid', [{ key: a.key, kind: 'hessian', spec: '{}' }, { key: a.key, kind: 'noise', spec: '{}' }]);
    const h = (await store.claimMeasurement('grid', 'w1'))!;
    await store.failMeasurement('grid', h, h.attempt, 'out of memory', 1);
    assert.deepEqual(await store.retryFailed('grid'), { trials: 1, measurements: 1 });
    assert.deepEqual(await store.retryFailed('grid'), { trials: 0, measurements: 0 }, 'nothing failed is left');
    const again = (await store.trial('grid', b.key))!;
    assert.deepEqual([again.status, again.error, again.result, again.worker, again.attempt], ['pending', null, null, null, 1]);
    assert.deepEqual((await store.trials('grid')).map((t) => t.status), ['completed', 'pending', 'diverged'], 'completed and diverged trials untouched');
    assert.deepEqual((await store.measurements('grid', a.key)).map((m) => [m.kind, m.status, m.error]), [['hessian', 'pending', null], ['noise', 'pending', null]]);
    const retaken = (await store.claim('grid', 'w2'))!;
    assert.deepEqual([retaken.key, retaken.attempt], [b.key, 2], 'claimed again with the next attempt');
    assert.equal(await store.fail('grid', b.key, 1, 'late', 1), false, "the failed attempt's late report is refused");
    assert.equal((await store.claimMeasurement('grid', 'w2'))!.attempt, 2);
    await store.close();
  });

  test(`${backend.name}: a lease that expires is claimed again with the next attempt; the stale attempt's result is refused and recorded`, async () => {
    const { store } = await fresh();
    await store.upsertStudy(STUDY, expandTrials(STUDY, '0.1.0').slice(0, 1));
    const first = (await store.claim('grid', 'paused', { leaseSeconds: 30 }))!;
    assert.equal(await store.claim('grid', 'other', { leaseSeconds: 30 }), undefined, 'held under a live lease');
    assert.equal((await store.claim('grid', 'other', { isWorkerAlive: (w) => w !== 'paused' }))?.key, first.key, 'a worker known dead is taken over at once');
    // The taker-over's own lease now runs out (a heartbeat with a tiny lease), and 'paused' has come back meanwhile.
    await store.heartbeat(beat('other', { holds: { kind: 'trial', key: first.key, attempt: 2 }, state: 'working' }), 0.001);
    await sleep(20);
    const third = (await store.claim('grid', 'third', { leaseSeconds: 30 }))!;
    assert.deepEqual([third.key, third.attempt, third.worker], [first.key, 3, 'third']);
    // Heartbeats renew only the claim a worker holds now: 'other' lost its claim.
    assert.equal(await store.heartbeat(beat('other', { holds: { kind: 'trial', key: first.key, attempt: 2 }, state: 'working' }), 30), 0);
    assert.equal(await store.heartbeat(beat('third', { holds: { kind: 'trial', key: first.key, attempt: 3 }, state: 'working', step: 5, totalSteps: 10, loss: 0.5, rssMb: 300 }), 30), 1);
    assert.equal(await store.finish('grid', first.key, 1, { status: 'completed', result: { by: 'paused' }, seconds: 1, metrics: [{ step: 0, name: 'loss', value: 9 }] }), false);
    assert.equal(await store.addMetrics('grid', first.key, 2, [{ step: 0, name: 'loss', value: 8 }]), false);
    assert.equal(await store.addMetrics('grid', first.key, 2, [{ step: 1, name: 'loss', value: 7 }]), false, 'refused again; recorded once');
    assert.equal(await store.finish('grid', first.key, 3, { status: 'completed', result: { by: 'third' }, seconds: 1, metrics: [{ step: 0, name: 'loss', value: 1 }] }), true);
    assert.equal(await store.fail('grid', first.key, 2, 'late failure', 1), false);
    const t = (await store.trial('grid', first.key))!;
    assert.deepEqual([t.status, t.attempt, t.worker, t.result], ['completed', 3, 'third', { by: 'third' }]);
    assert.deepEqual((await store.metrics('grid', first.key)).map((m) => m.value), [1], "only the current attempt's metrics");
    const refusals = await store.refusals('grid');
    assert.deepEqual(refusals.map((r) => [r.kind, r.key, r.attempt, r.currentAttempt, r.what]), [['trial', first.key, 1, 3, 'finish'], ['trial', first.key, 2, 3, 'metrics'], ['trial', first.key, 2, 3, 'fail']]);
    assert.equal((await store.listStudies())[0]!.refused, 3);
    // Measurements are fenced the same way.
    await store.addMeasurementJobs('grid', [{ key: first.key, kind: 'hessian', spec: '{}' }]);
    const m1 = (await store.claimMeasurement('grid', 'paused', { leaseSeconds: 0.001 }))!;
    await sleep(20);
    const m2 = (await store.claimMeasurement('grid', 'fresh', { leaseSeconds: 30 }))!;
    assert.deepEqual([m2.attempt, m2.worker], [2, 'fresh']);
    assert.equal(await store.finishMeasurement('grid', m1, m1.attempt, { stale: true }, 1), false);
    assert.equal(await store.finishMeasurement('grid', m2, m2.attempt, { stale: false }, 1), true);
    assert.deepEqual((await store.measurements('grid'))[0]!.result, { stale: false });
    const last = (await store.refusals('grid')).at(-1)!;
    assert.deepEqual([last.kind, last.measurement, last.spec, last.attempt, last.currentAttempt], ['measurement', 'hessian', '{}', 1, 2]);
    await store.close();
  });

  test(`${backend.name}: metrics sent twice (a call retried after its reply was lost) are stored once`, async () => {
    const { store } = await fresh();
    await store.upsertStudy(STUDY, expandTrials(STUDY, '0.1.0').slice(0, 1));
    const t = (await store.claim('grid', 'w'))!;
    const rows = [{ step: 0, name: 'loss', value: 2.5 }, { step: 0, name: 'lr', value: 0.1 }, { step: 8, name: 'loss', value: 1.5 }];
    assert.equal(await store.addMetrics('grid', t.key, 1, rows), true);
    assert.equal(await store.addMetrics('grid', t.key, 1, rows), true, 'the same attempt, still running: accepted');
    assert.deepEqual(await store.metrics('grid', t.key), rows);
    await store.close();
  });

  test(`${backend.name}: a study's last change (updatedAt) moves to each claim's start and each result's finish, though they do not write the studies row`, async () => {
    const { store } = await fresh();
    const trials = expandTrials(STUDY, '0.1.0');
    await store.upsertStudy(STUDY, trials.slice(0, 3));
    const updated = async () => (await store.listStudies()).find((s) => s.name === 'grid')!.updatedAt;
    const ms = (iso: string | null) => Date.parse(iso!);
    const registered = await updated();
    await sleep(5);
    const a = (await store.claim('grid', 'w1'))!;
    assert.ok(ms(await updated()) >= ms(a.startedAt) && ms(a.startedAt) > ms(registered), 'the claim is the last change');
    await sleep(5);
    await store.finish('grid', a.key, 1, { status: 'completed', result: {}, seconds: 0 });
    const finished = (await store.trial('grid', a.key))!.finishedAt;
    assert.equal(ms(await updated()), ms(finished), "the finish is the last change, at the trial's finished_at");
    await sleep(5);
    const b = (await store.claim('grid', 'w1'))!;
    await sleep(5);
    assert.equal(await store.finish('grid', b.key, 2, { status: 'completed', result: {}, seconds: 0 }), false, 'a stale attempt is refused');
    assert.equal(ms(await updated()), ms(b.startedAt), 'a refused result changes nothing: the last change is still the claim');
    await store.close();
  });

  test(`${backend.name}: a metric whose value is NaN is refused with the same clear error on both backends, and nothing of that call is stored`, async () => {
    const { store } = await fresh();
    await store.upsertStudy(STUDY, expandTrials(STUDY, '0.1.0').slice(0, 1));
    const t = (await store.claim('grid', 'w'))!;
    const rows = [{ step: 0, name: 'loss', value: 2.5 }, { step: 4, name: 'loss', value: Number.NaN }];
    const refused = /metric 'loss' at step 4 has value NaN: a stored metric value is a number \(±Infinity allowed\)/;
    await assert.rejects(store.addMetrics('grid', t.key, 1, rows), refused);
    await assert.rejects(store.finish('grid', t.key, 1, { status: 'diverged', result: {}, seconds: 1, metrics: rows }), refused);
    assert.deepEqual(await store.metrics('grid', t.key), [], 'not even the rows before the NaN');
    assert.equal((await store.trial('grid', t.key))!.status, 'running', 'the result with it is not stored either');
    // What a diverging run does send (live-metrics.ts keeps finite values only) and the infinities are stored.
    const diverged = [{ step: 0, name: 'loss', value: 2.5 }, { step: 4, name: 'loss', value: Number.POSITIVE_INFINITY }, { step: 4, name: 'grad', value: Number.NEGATIVE_INFINITY }];
    assert.equal(await store.finish('grid', t.key, 1, { status: 'diverged', result: {}, seconds: 1, metrics: diverged }), true);
    assert.deepEqual(await store.metrics('grid', t.key), diverged);
    await store.close();
  });

  test(`${backend.name}: heartbeats fill the workers table; an exited or silent worker shows as such`, async () => {
    const { store } = await fresh();
    await store.upsertStudy(STUDY, expandTrials(STUDY, '0.1.0').slice(0, 2));
    const t = (await store.claim('grid', 'hostA:10:1'))!;
    await store.heartbeat(beat('hostA:10:1', { host: 'hostA', pid: 10, holds: { kind: 'trial', key: t.key, attempt: 1 }, state: 'working', step: 3, totalSteps: 30, loss: 1.25, rssMb: 412 }), 60);
    await store.heartbeat(beat('hostB:20:1', { host: 'hostB', pid: 20 }), 0.001);
    await store.heartbeat(beat('hostC:30:1', { host: 'hostC', pid: 30, state: 'exited', message: 'nothing left to claim' }), 60);
    await sleep(20);
    const workers = await store.workers('grid');
    const a = workers.find((w) => w.id === 'hostA:10:1')!;
    assert.deepEqual([a.host, a.pid, a.holds, a.step, a.totalSteps, a.loss, a.rssMb, a.state, a.expired, a.leaseSeconds],
      ['hostA', 10, { kind: 'trial', key: t.key, attempt: 1 }, 3, 30, 1.25, 412, 'working', false, 60]);
    assert.ok(Date.parse(a.lastSeen) >= Date.parse(a.startedAt));
    assert.equal(workers.find((w) => w.id === 'hostB:20:1')!.expired, true);
    assert.deepEqual(workers.filter((w) => w.state === 'exited').map((w) => [w.id, w.message]), [['hostC:30:1', 'nothing left to claim']]);
    assert.equal((await store.listStudies())[0]!.activeWorkers, 1);
    assert.equal((await store.workers()).length, 3);
    assert.equal((await store.workers('other')).length, 0);
    await store.close();
  });

  test(`${backend.name}: checkpoint files stored with the result; dump and load keep keys, attempts, results, metrics, artifacts`, async () => {
    const { store } = await fresh();
    await store.upsertStudy(STUDY, expandTrials(STUDY, '0.1.0').slice(0, 3));
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 256);
    const t = (await store.claim('grid', 'w'))!;
    await store.finish('grid', t.key, 1, { status: 'completed', result: { x: 1 }, seconds: 2, checkpoint: IN_STORE, artifacts: [{ name: 'model.safetensors', data: bytes }, { name: 'model.json', data: new TextEncoder().encode('{}') }, { name: 'loss-0.1/model.safetensors', data: bytes.slice(0, 1000) }], metrics: [{ step: 0, name: 'loss', value: 0.5 }] });
    const u = (await store.claim('grid', 'w'))!;
    await store.fail('grid', u.key, 1, 'bad', 1);
    await store.addMeasurementJobs('grid', [{ key: t.key, kind: 'noise', spec: '{}' }]);
    const m = (await store.claimMeasurement('grid', 'w'))!;
    await store.finishMeasurement('grid', m, 1, { v: 2 }, 3);
    await store.finish('grid', u.key, 7, { status: 'completed', result: {}, seconds: 0 });
    const files = (await store.artifact('grid', t.key))!;
    // A loss-level checkpoint's files sit beside the final one's, under the level's folder name.
    assert.deepEqual(files.map((f) => f.name), ['loss-0.1/model.safetensors', 'model.json', 'model.safetensors']);
    assert.deepEqual(Buffer.from(files[2]!.data), Buffer.from(bytes));
    assert.deepEqual(Buffer.from(files[0]!.data), Buffer.from(bytes.slice(0, 1000)));
    assert.equal(await store.artifact('grid', u.key), undefined);
    const dump = (await store.dumpStudy('grid'))!;
    assert.equal(await store.dumpStudy('nope'), undefined);
    for (const target of storeBackends()) {
      const copy = await openStore(await target.newUrl());
      await copy.loadStudy(dump);
      await assert.rejects(copy.loadStudy(dump), /study 'grid' already exists/);
      assert.deepEqual(await copy.trials('grid'), await store.trials('grid'));
      assert.deepEqual(await copy.measurements('grid'), await store.measurements('grid'));
      assert.deepEqual(await copy.metrics('grid', t.key), await store.metrics('grid', t.key));
      assert.deepEqual(await copy.refusals('grid'), await store.refusals('grid'));
      assert.deepEqual((await copy.artifact('grid', t.key))!.map((f) => Buffer.from(f.data)), files.map((f) => Buffer.from(f.data)));
      assert.deepEqual((await copy.getStudy('grid'))!, await store.getStudy('grid'));
      await copy.close();
    }
    await store.close();
  });

  test(`${backend.name}: checkpoint sizes are listed without reading the files: from the store's rows, or a stat of the directory's files`, async () => {
    const { store } = await fresh();
    await store.upsertStudy(STUDY, expandTrials(STUDY, '0.1.0').slice(0, 3));
    const weights = new Uint8Array(300_000).fill(7);
    const inStore = (await store.claim('grid', 'w'))!;
    await store.finish('grid', inStore.key, 1, { status: 'completed', result: {}, seconds: 1, checkpoint: IN_STORE,
      artifacts: [{ name: 'model.safetensors', data: weights }, { name: 'model.json', data: new TextEncoder().encode('{"a":1}') }, { name: 'loss-0.1/model.safetensors', data: weights.slice(0, 1000) }] });
    assert.deepEqual(await store.artifactSizes('grid', inStore.key), [{ name: 'loss-0.1/model.safetensors', bytes: 1000 }, { name: 'model.json', bytes: 7 }, { name: 'model.safetensors', bytes: 300_000 }]);
    assert.deepEqual(await store.artifactSizes('grid', inStore.key), (await store.artifact('grid', inStore.key))!.map((f) => ({ name: f.name, bytes: f.data.byteLength })), "the sizes of the bytes artifact() reads");
    assert.deepEqual(await checkpointSizes(store, (await store.trial('grid', inStore.key))!), [{ name: 'model.json', bytes: 7 }, { name: 'model.safetensors', bytes: 300_000 }], 'the final checkpoint only');
    const dir = mkdtempSync(join(scratch, 'ckpt-'));
    writeFileSync(join(dir, 'model.safetensors'), weights.slice(0, 4096));
    writeFileSync(join(dir, 'model.json'), '{}');
    const onDisk = (await store.claim('grid', 'w'))!;
    await store.finish('grid', onDisk.key, 1, { status: 'completed', result: {}, seconds: 1, checkpoint: dir });
    assert.equal(await store.artifactSizes('grid', onDisk.key), undefined, 'nothing in the store');
    assert.deepEqual(await checkpointSizes(store, (await store.trial('grid', onDisk.key))!), [{ name: 'model.safetensors', bytes: 4096 }, { name: 'model.json', bytes: 2 }]);
    await store.close();
  });

  /**
   * A worker script that claims and finishes trials until none is left, each after finishEachMs of busy work.
   * With `gate`, it writes DIR/WORKER.ready once its store is open and claims only when every gate worker's
   * file is there, and its work is a sleep: on a loaded machine one process can start (or be scheduled) a
   * whole run's worth of claims before the other, and then takes every trial.
   */
  const claimer = (url: string, worker: string, finishEachMs: number, gate?: { dir: string; workers: string[] }) => `
import { openStore } from ${JSON.stringify(factory)};
import { existsSync, writeFileSync } from 'node:fs';
const store = await openStore(${JSON.stringify(url)});
${gate ? `writeFileSync(${JSON.stringify(join(gate.dir, `${worker}.ready`))}, '');
while (!${JSON.stringify(gate.workers.map((w) => join(gate.dir, `${w}.ready`)))}.every((f) => existsSync(f))) await new Promise((r) => setTimeout(r, 5));` : ''}
for (;;) {
  const t = await store.claim('grid', ${JSON.stringify(worker)});
  if (!t) break;
  ${gate ? `await new Promise((r) => setTimeout(r, ${finishEachMs}));` : `const until = Date.now() + ${finishEachMs};
  while (Date.now() < until) {}`}
  await store.finish('grid', t.key, t.attempt, { status: 'completed', result: { by: ${JSON.stringify(worker)} }, seconds: 0 });
  console.log(t.key);
}
await store.close();
`;

  test(`${backend.name}: two processes claiming concurrently take every trial exactly once`, async () => {
    const { url, store } = await fresh();
    const trials = expandTrials(STUDY, '0.1.0');
    await store.upsertStudy(STUDY, trials);
    const dir = mkdtempSync(join(scratch, 'claim-'));
    const run = (worker: string) => new Promise<string[]>((resolve, reject) => {
      writeFileSync(join(dir, `${worker}.mjs`), claimer(url, worker, 5, { dir, workers: ['w1', 'w2'] }));
      const child = spawn(process.execPath, [join(dir, `${worker}.mjs`)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('exit', (code) => (code === 0 ? resolve(out.split('\n').filter(Boolean)) : reject(new Error(`${worker} exited ${code}`))));
    });
    const [a, b] = await Promise.all([run('w1'), run('w2')]);
    assert.equal(a!.length + b!.length, trials.length);
    assert.equal(new Set([...a!, ...b!]).size, trials.length, 'no trial taken twice');
    assert.ok(a!.length > 0 && b!.length > 0, 'both workers took trials');
    assert.ok((await store.trials('grid')).every((t) => t.status === 'completed' && t.attempt === 1));
    await store.close();
  });

  test(`${backend.name}: SIGKILL at any moment loses nothing that finished, and the abandoned trial is taken over`, async () => {
    const { url, store: setup } = await fresh();
    await setup.upsertStudy(STUDY, expandTrials(STUDY, '0.1.0'));
    await setup.close();
    const dir = mkdtempSync(join(scratch, 'kill-'));
    writeFileSync(join(dir, 'w.mjs'), claimer(url, 'doomed', 15));
    for (const delay of [300, 500, 800]) {
      const reported = await new Promise<string[]>((resolve) => {
        const child = spawn(process.execPath, [join(dir, 'w.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        setTimeout(() => child.kill('SIGKILL'), delay);
        child.on('exit', () => resolve(out.split('\n').filter(Boolean)));
      });
      await backend.checkIntegrity?.(url);
      const store = await openStore(url);
      const byKey = new Map((await store.trials('grid')).map((t) => [t.key, t]));
      for (const key of reported) assert.equal(byKey.get(key)!.status, 'completed', `trial ${key} was reported finished before the kill`);
      await store.close();
    }
    // Whatever a killed worker left 'running' is claimed again by a live one.
    const store = await openStore(url);
    const left = (await store.trials('grid')).filter((t) => t.status === 'running');
    let reclaimed = 0;
    const alive = (w: string) => w !== 'doomed';
    for (let t = await store.claim('grid', 'survivor', { isWorkerAlive: alive }); t; t = await store.claim('grid', 'survivor', { isWorkerAlive: alive })) {
      assert.equal(await store.finish('grid', t.key, t.attempt, { status: 'completed', result: {}, seconds: 0 }), true);
      if (left.some((l) => l.key === t!.key)) reclaimed++;
    }
    assert.equal(reclaimed, left.length);
    assert.ok((await store.trials('grid')).every((t) => t.status === 'completed'), 'every trial ends completed exactly once');
    await store.close();
  });
}

test('sqlite: a store written by a newer sgdlab is refused with a clear message', () => {
  const db = join(mkdtempSync(join(scratch, 'v-')), 'study.db');
  new SqliteStudyStore(db).db.close();
  const raw = new Database(db);
  raw.prepare('UPDATE schema_version SET version = 99').run();
  raw.close();
  assert.throws(() => new SqliteStudyStore(db), new RegExp(`has schema version 99, newer than this sgdlab \\(${MIGRATIONS.length}\\); upgrade sgdlab`));
});

test('sqlite: two processes opening a new store at once migrate it once (the second reads the version again under the write lock)', async () => {
  const db = join(mkdtempSync(join(scratch, 'race-')), 'study.db');
  // Both openers read version 0 while this connection holds the write lock; then both queue for it.
  const raw = new Database(db);
  raw.pragma('journal_mode = WAL');
  raw.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
  raw.exec('BEGIN IMMEDIATE');
  const store = new URL('./sqlite-store.js', import.meta.url).href;
  const opener = () => new Promise<{ code: number | null; err: string }>((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', `const { SqliteStudyStore } = await import(${JSON.stringify(store)}); new SqliteStudyStore(${JSON.stringify(db)}).db.close();`]);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, err }));
  });
  const both = [opener(), opener()];
  await sleep(1500);
  raw.exec('COMMIT');
  raw.close();
  for (const r of await Promise.all(both)) assert.equal(r.code, 0, r.err);
  const after = new Database(db);
  assert.deepEqual(after.prepare('SELECT version FROM schema_version').all(), [{ version: MIGRATIONS.length }]);
  after.close();
});

test('sqlite: a version-1 store is migrated: its measurements become completed measurement jobs, its trials attempt 0', async () => {
  const db = join(mkdtempSync(join(scratch, 'v1-')), 'study.db');
  const raw = new Database(db);
  raw.exec(MIGRATIONS[0]!);
  raw.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);');
  raw.prepare("INSERT INTO studies VALUES ('old', '{}', '2026-01-01')").run();
  raw.prepare("INSERT INTO trials (study, key, coordinates, config, status) VALUES ('old', 'k1', '{}', '{}', 'completed')").run();
  raw.prepare("INSERT INTO metrics VALUES ('old', 'k1', 0, 'loss', 2.5)").run();
  raw.prepare("INSERT INTO measurements VALUES ('old', 'k1', 'hessian', '{\"eigenvalues\":[5]}', '2026-01-02')").run();
  raw.close();
  const store = new SqliteStudyStore(db);
  assert.deepEqual((await store.measurements('old')).map((m) => [m.key, m.kind, m.spec, m.status, m.result, m.attempt]), [['k1', 'hessian', '{}', 'completed', { eigenvalues: [5] }, 0]]);
  assert.deepEqual(await store.metrics('old', 'k1'), [{ step: 0, name: 'loss', value: 2.5 }]);
  assert.equal((await store.listStudies())[0]!.updatedAt, '2026-01-01');
  assert.equal((store.db.prepare('SELECT version FROM schema_version').get() as { version: number }).version, MIGRATIONS.length);
  await store.close();
});

test('postgres: a transaction run again after its COMMIT was acknowledged to nobody stores its metrics once', async () => {
  const cluster = await pgCluster();
  const relay = await lostCommitRelay(cluster.port);
  const url = (await cluster.newDatabase()).replace(`:${cluster.port}/`, `:${relay.port}/`);
  const store = await openStore(url);
  try {
    await store.upsertStudy(STUDY, expandTrials(STUDY, '0.1.0').slice(0, 1));
    const t = (await store.claim('grid', 'w'))!;
    const rows = [{ step: 0, name: 'loss', value: 2.5 }, { step: 4, name: 'loss', value: 2 }, { step: 8, name: 'loss', value: 1.5 }];
    relay.loseNextCommitAck();
    assert.equal(await store.addMetrics('grid', t.key, 1, rows), true, 'the store retried the transaction on a new connection');
    assert.equal(relay.lostAcks, 1, 'the first COMMIT reached the server and its reply was cut');
    assert.deepEqual(await store.metrics('grid', t.key), rows);
  } finally {
    await store.close();
    await relay.close();
  }
});

test('postgres: a column added to a table while a worker runs (a newer sgdlab migrating) does not break its prepared claim', async () => {
  const url = await (await pgCluster()).newDatabase();
  // One connection: the second claim runs on the connection that prepared the first.
  const store = await openStore(url, { maxConnections: 1 });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await store.upsertStudy(STUDY, expandTrials(STUDY, '0.1.0').slice(0, 2));
    const a = (await store.claim('grid', 'w'))!;
    await admin.query('ALTER TABLE trials ADD COLUMN later_release INTEGER');
    const b = (await store.claim('grid', 'w'))!;
    assert.deepEqual([a.attempt, b.attempt, b.status], [1, 1, 'running']);
    assert.notEqual(a.key, b.key);
    assert.equal(await store.finish('grid', b.key, 1, { status: 'completed', result: {}, seconds: 0 }), true);
  } finally {
    await admin.end();
    await store.close();
  }
});

test('sqlite and postgres: a version-3 store with duplicate metric rows opens; the duplicates are removed and each row kept once', async () => {
  const oldRows = `INSERT INTO studies (name, spec, created_at, updated_at) VALUES ('old', '{}', '2026-01-01', '2026-01-01');
    INSERT INTO trials (study, key, coordinates, config, status, attempt) VALUES ('old', 'k1', '{}', '{}', 'running', 1);
    INSERT INTO metrics (study, key, attempt, step, name, value) VALUES ('old', 'k1', 1, 0, 'loss', 2.5), ('old', 'k1', 1, 0, 'lr', 0.1), ('old', 'k1', 1, 0, 'loss', 2.5),
      ('old', 'k1', 1, 8, 'loss', 1.5), ('old', 'k1', 1, 0, 'lr', 0.1), ('old', 'k1', 1, 8, 'loss', 1.5);
    CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (3);`;
  const expected = [{ step: 0, name: 'loss', value: 2.5 }, { step: 0, name: 'lr', value: 0.1 }, { step: 8, name: 'loss', value: 1.5 }];
  const db = join(mkdtempSync(join(scratch, 'v3-')), 'study.db');
  const raw = new Database(db);
  for (const m of MIGRATIONS.slice(0, 3)) raw.exec(m);
  raw.exec(oldRows);
  raw.close();
  const url = await (await pgCluster()).newDatabase();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  for (const m of PG_MIGRATIONS.slice(0, 3)) await client.query(m);
  await client.query(oldRows);
  await client.end();
  for (const location of [db, url]) {
    const store = await openStore(location);
    assert.deepEqual(await store.metrics('old', 'k1'), expected, location);
    assert.equal(await store.addMetrics('old', 'k1', 1, expected), true);
    assert.deepEqual(await store.metrics('old', 'k1'), expected, 'the same rows sent again add nothing');
    await store.close();
  }
  const migrated = new Database(db, { readonly: true });
  assert.equal((migrated.prepare('SELECT version FROM schema_version').get() as { version: number }).version, MIGRATIONS.length);
  migrated.close();
});
