/**
 * The store's side of packed trials (packing.ts), on every backend: claimPending takes, of the keys
 * asked for, only pending trials with nothing to resume from, at most `limit`, each with its own next
 * attempt and lease, never one another worker holds; a heartbeat whose holding lists a pack renews every
 * member's claim (and only those still its own); each member's result is fenced by its own attempt.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { expandTrials, openStore, parseStudy, type WorkerBeat } from './index.js';
import { storeBackends } from './store-testing.js';

const STUDY = parseStudy(parse(`
name: pack
base: { model: { name: mlp, widths: [8] }, data: { name: mnist, subset: 500 }, optimizer: { name: sgd, lr: 0.1 }, batchSize: 50, budget: { steps: 5 } }
grid: { optimizer.lr: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32] }
pack: { when: always, maxMembers: 4 }
`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const beat = (id: string, holds: WorkerBeat['holds']): WorkerBeat => ({ id, study: 'pack', host: 'h', pid: 1, holds, step: null, totalSteps: null, loss: null, rssMb: null, state: 'working', message: null });

for (const backend of storeBackends()) {
  test(`${backend.name}: claimPending takes only pending trials of the keys asked for, up to the limit, each with its own attempt; a pack's heartbeat renews every member`, async () => {
    const store = await openStore(await backend.newUrl());
    const keys = expandTrials(STUDY, '0.1.0').map((t) => t.key);
    await store.upsertStudy(STUDY, expandTrials(STUDY, '0.1.0'));
    const [k0, k1, k2, k3, k4, k5] = keys as [string, string, string, string, string, string];
    const lead = (await store.claim('pack', 'w1', { leaseSeconds: 30 }))!;
    assert.equal(lead.key, k0);
    // k2 is another worker's; k5 ran already.
    assert.deepEqual((await store.claimPending('pack', 'w2', [k2], 5, { leaseSeconds: 30 })).map((t) => t.key), [k2]);
    assert.deepEqual((await store.claimPending('pack', 'w2', [k5], 5, { leaseSeconds: 30 })).map((t) => t.key), [k5]);
    assert.equal(await store.finish('pack', k5, 1, { status: 'completed', result: { loss: 1 }, seconds: 1 }), true);
    // Asked for all others (k0 itself running, k2 held, k5 done): the first two pending ones in the grid's order.
    const more = await store.claimPending('pack', 'w1', [k5, k4, k3, k2, k1, k0], 2, { leaseSeconds: 30 });
    assert.deepEqual(more.map((t) => [t.key, t.status, t.worker, t.attempt]).sort(), [[k1, 'running', 'w1', 1], [k3, 'running', 'w1', 1]].sort());
    assert.deepEqual(more.map((t) => t.key), [k3, k1], 'returned in the order of the keys asked for');
    assert.deepEqual(await store.claimPending('pack', 'w3', [k0, k1, k2, k3, k5], 3, { leaseSeconds: 30 }), [], 'nothing pending among them');
    assert.deepEqual(await store.claimPending('pack', 'w3', [], 3), []);
    // The pack's holding renews the lead's and its members' claims: 3 rows; a member lost to another worker is not renewed.
    const holding = { kind: 'trial' as const, key: lead.key, attempt: lead.attempt, pack: more.map(({ key, attempt }) => ({ key, attempt })) };
    assert.equal(await store.heartbeat(beat('w1', holding), 0.001), 3);
    await sleep(20);
    const taken = (await store.claim('pack', 'w4', { leaseSeconds: 30 }))!;
    assert.equal(taken.key, k4, 'pending trials are claimed before expired ones');
    const retaken = (await store.claim('pack', 'w4', { leaseSeconds: 30 }))!;
    assert.deepEqual([retaken.attempt, retaken.worker], [2, 'w4'], "an expired member's claim is taken over with the next attempt");
    assert.equal(await store.heartbeat(beat('w1', holding), 30), 2, "the member taken over is no longer renewed");
    // Each member's result is fenced by its own attempt: the one taken over is refused, the others stored.
    const results = await Promise.all([lead, ...more].map((t) => store.finish('pack', t.key, t.attempt, { status: 'completed', result: { by: 'w1' }, seconds: 1 })));
    assert.deepEqual(results, [lead, ...more].map((t) => t.key !== retaken.key));
    assert.deepEqual((await store.refusals('pack')).map((r) => [r.key, r.attempt, r.currentAttempt, r.what]), [[retaken.key, 1, 2, 'finish']]);
    await store.close();
  });

  test(`${backend.name}: claimPending leaves a reopened pruned trial (it has a snapshot to resume from) to a claim of its own`, async () => {
    const store = await openStore(await backend.newUrl());
    const trials = expandTrials(STUDY, '0.1.0');
    await store.upsertStudy(STUDY, trials);
    const [k0, k1] = trials.map((t) => t.key) as [string, string];
    assert.deepEqual((await store.claimPending('pack', 'w1', [k1], 1, { leaseSeconds: 30 })).map((t) => t.key), [k1]);
    assert.equal(await store.prune('pack', k1, 1, { result: { pruned: { step: 1, rung: 0, metric: 'validationAccuracy', value: 0.1, rule: 'asha' } }, seconds: 1, checkpoint: '/snapshots/k1' }), true);
    assert.equal(await store.reopenPruned('pack', [k1]), 1);
    assert.deepEqual(await store.claimPending('pack', 'w2', [k1], 1, { leaseSeconds: 30 }), []);
    assert.deepEqual((await store.claimPending('pack', 'w2', [k0, k1], 2, { leaseSeconds: 30 })).map((t) => t.key), [k0]);
    await store.close();
  });
}
