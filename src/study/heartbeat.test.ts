/**
 * The heartbeat's last beat: a worker that stops records state 'exited' whatever its thread was doing
 * when told to stop. The stop used to be lost when it arrived while a beat was being written (the
 * thread ended after that beat, which was written before the stop and said 'idle'): eight PostgreSQL
 * workers on 500 tiny trials then left a worker 'idle' now and then (machines.test.ts). A worker
 * training a pack (packing.ts) renews every member's claim and learns when one was taken over.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Heartbeat } from './heartbeat.js';
import { openStore } from './store-factory.js';
import { storeBackends } from './store-testing.js';
import type { WorkerBeat } from './store.js';
import { parseStudy } from './schema.js';
import { expandTrials } from './trials.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of storeBackends()) test(`${backend.name}: a stop that arrives while a beat is being written still records the worker as exited`, async () => {
  const url = await backend.newUrl();
  const store = await openStore(url);
  const beat = (id: string): WorkerBeat => ({ id, study: 'hb', host: 'h', pid: 1, holds: null, step: null, totalSteps: null, loss: null, rssMb: null, state: 'idle', message: null });
  // Stops sent 0–39 ms after the start land before, during and after a beat's write (a round trip
  // to PostgreSQL; with SQLite only the first beat's connection is asynchronous work).
  const ids = Array.from({ length: 40 }, (_, i) => `w${i}`);
  await Promise.all(ids.map(async (id, i) => {
    const heartbeat = new Heartbeat(beat(id), { url, leaseSeconds: 30, heartbeatSeconds: 5, progressSeconds: 1 });
    await sleep(10 * i);
    heartbeat.progress(1, 10, 0.5);
    await heartbeat.stop(`done ${id}`);
  }));
  const workers = await store.workers('hb');
  assert.deepEqual(workers.filter((w) => w.state !== 'exited' || w.message !== `done ${w.id}`).map((w) => `${w.id}: ${w.state}`), [], 'every worker exited with its message');
  assert.equal(workers.length, ids.length);
  await store.close();
});

for (const backend of storeBackends()) test(`${backend.name}: a worker holding a pack renews every member's claim, and reports the pack lost when one member is taken over`, async () => {
  const url = await backend.newUrl();
  const store = await openStore(url);
  const study = parseStudy({ name: 'hb', base: { model: { name: 'mlp', widths: [8] }, data: { name: 'mnist', subset: 500 }, optimizer: { name: 'sgd', lr: 0.1 }, batchSize: 50, budget: { steps: 5 } }, grid: { 'optimizer.lr': [0.01, 0.02] } });
  await store.upsertStudy(study, expandTrials(study, '0.1.0'));
  const lead = (await store.claim('hb', 'w', { leaseSeconds: 30 }))!;
  const [member] = await store.claimPending('hb', 'w', expandTrials(study, '0.1.0').map((t) => t.key), 1, { leaseSeconds: 30 });
  const heartbeat = new Heartbeat({ id: 'w', study: 'hb', host: 'h', pid: 1, holds: null, step: null, totalSteps: null, loss: null, rssMb: null, state: 'idle', message: null }, { url, leaseSeconds: 30, heartbeatSeconds: 5, progressSeconds: 0.05 });
  heartbeat.holds({ kind: 'trial', key: lead.key, attempt: lead.attempt, pack: [{ key: member!.key, attempt: member!.attempt }] });
  await heartbeat.flushMetrics();
  assert.equal(heartbeat.lost.length, 0, 'both claims renewed');
  // Another worker finds 'w' dead and takes over one of the pack's claims (the first running one: the lead's).
  const taken = (await store.claim('hb', 'other', { leaseSeconds: 30, isWorkerAlive: (id) => id !== 'w' }))!;
  assert.equal(taken.attempt, 2);
  heartbeat.progress(1, 5, 0.5);
  for (let i = 0; i < 100 && heartbeat.lost.length === 0; i++) await sleep(20);
  assert.deepEqual(heartbeat.lost.map((h) => h.key), [lead.key], 'the pack is reported (by its lead) as lost');
  await heartbeat.stop();
  await store.close();
});
