/**
 * A study that both prunes and packs (issue 23's "both"), end to end (`sgdlab run`, SQLite): each batch
 * size's five learning rates are one pack and one prune group; the pack stops at the rule's rungs, each
 * member is reported and decided on its own, and a pruned member leaves the pack. The second method is
 * the same study with `pack: { when: never }`, where every trial runs alone and pauses at its rungs.
 *
 * Why the two must prune the same trials: with one worker the unpacked study claims trials in the grid's
 * order and runs each through all its rungs before the next starts, so trial j decides at rung k from the
 * rung-k values (ASHA; the median rule also from rungs < k of the same trials) of the trials i < j of its
 * group that reached rung k. The packed study reports its members at each rung in member order, which is
 * the grid's order (the lead is the first pending trial, claimPending returns its partners in the grid's
 * order): when member j decides at rung k, the members i < j still live have reported rung k and the
 * members i > j have not (their rows stop at rung k − 1, which both rules ignore for rung k). The same
 * values of the same trials, so the same decisions, up to the values' float32 rounding (a packed member's
 * evaluation sums in another order, about 1e-7 relative): the rule ranks by validation loss, where two
 * trials are never that close (an accuracy over 200 examples ties often, and a one-example flip could
 * decide a tie differently).
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bestByBatchSize, openStore, type Metric, type StoredTrial } from './index.js';
import { runUntilThenKill, sgdlabCli } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'sgdlab-prune-pack-'));
const STEPS = 80;
// Learning rates up to 0.1: at 0.3 (with momentum 0.9) the run is unstable (its loss rises after step 40),
// and the float32 rounding by which a packed member differs from its lone run grows from 1e-7 at step 5 to
// 7e-3 at step 79 (measured at B = 100, packed or not pruned alike): beyond any tolerance tied to rounding.
// In an order that has the rule prune at more than one rung.
// ASHA with η = 2 at steps 10, 20 and 40 on the validation loss.
const RULE = 'prune: { rule: asha, metric: validationLoss, unit: steps, gracePeriod: 10, reductionFactor: 2 }\n';
const BASE = `
name: lrgrid
base:
  model: { name: mlp, widths: [16] }
  data: { name: mnist, subset: 1000, validation: 200 }
  optimizer: { name: sgd, lr: 0.1, momentum: 0.9 }
  batchSize: 50
  budget: { steps: ${STEPS} }
grid:
  batchSize: [25, 100]
  optimizer.lr: [0.01, 0.1, 0.001, 0.03, 0.003]
  seed: [0]
`;
const GRID = BASE + RULE;

interface Stored {
  trials: StoredTrial[];
  metrics: Map<string, Metric[]>;
  best: ReturnType<typeof bestByBatchSize>;
}

async function stored(db: string): Promise<Stored> {
  const store = await openStore(db);
  const study = (await store.getStudy('lrgrid'))!.study;
  const trials = await store.trials('lrgrid');
  const metrics = new Map<string, Metric[]>();
  for (const t of trials) metrics.set(t.key, await store.metrics('lrgrid', t.key));
  await store.close();
  return { trials, metrics, best: bestByBatchSize(study, trials) };
}

async function run(name: string, pack: string, grid = GRID): Promise<Stored> {
  const file = join(dir, `${name}.yaml`);
  const db = join(dir, `${name}.db`);
  writeFileSync(file, grid + pack);
  const r = sgdlabCli('run', file, '--db', db, '--workers', '1');
  assert.equal(r.status, 0, r.stderr);
  return stored(db);
}

interface Pruned { step: number; rung: number; metric: string; value: number; rule: string; spec: string; why: string }
type Result = { steps: number; train: { loss: number }; validation: { loss: number }; test: { loss: number }; pruned?: Pruned; packed?: { members: number } };
const result = (t: StoredTrial) => t.result as unknown as Result;
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('a packed study that prunes stops each member at the rungs on its own, and prunes what the unpacked study prunes, with its numbers', async (t) => {
  const alone = await run('alone', 'pack: { when: never }\n');
  const packed = await run('packed', 'pack: { when: always }\n');
  const byKey = new Map(alone.trials.map((x) => [x.key, x]));
  assert.deepEqual(packed.trials.map((x) => [x.key, x.status]), alone.trials.map((x) => [x.key, x.status]), 'the same trials pruned, the others completed');
  const pruned = packed.trials.filter((x) => x.status === 'pruned');
  assert.ok(pruned.length > 0 && pruned.length <= 8, `${pruned.length} of 10 pruned`);
  for (const x of packed.trials) {
    const ref = byKey.get(x.key)!;
    const [a, b] = [result(x), result(ref)];
    assert.deepEqual([x.attempt, a.packed?.members, a.steps], [1, 5, b.steps], `${x.key}: one attempt, in a pack of its batch size's five, as many steps as alone`);
    for (const split of ['train', 'validation', 'test'] as const) close(a[split].loss, b[split].loss, `${x.key} ${split} loss`);
    if (x.status !== 'pruned') continue;
    const at = a.pruned!;
    const { value, ...where } = at;
    const { value: refValue, ...refWhere } = b.pruned!;
    assert.deepEqual(where, refWhere, `${x.key}: pruned at the same rung, step, metric and rule, for the same reason`);
    close(value, refValue, `${x.key}: the value that decided`);
    assert.equal(value, a.validation.loss, 'the value that decided is its validation loss at that step (its result there)');
    assert.deepEqual([at.metric, at.rule, at.step], ['validationLoss', 'asha', [10, 20, 40][at.rung]]);
    assert.equal(Math.max(...packed.metrics.get(x.key)!.map((m) => m.step)), at.step, `${x.key}: its learning curves end where it was stopped`);
    // Its rung values, one per rung it reached, as the unpacked trial's.
    const rungs = (s: Stored) => s.metrics.get(x.key)!.filter((m) => m.name === 'rung:validationLoss');
    assert.deepEqual(rungs(packed).map((m) => m.step), rungs(alone).map((m) => m.step));
  }
  assert.deepEqual(packed.best.map((b) => [b.batchSize, b.bestLr]), alone.best.map((b) => [b.batchSize, b.bestLr]));
  for (const b of packed.best) for (const k of b.bestTrials) assert.equal(packed.trials.find((x) => x.key === k)!.status, 'completed', `the best of batch size ${b.batchSize} is no pruned trial`);
  t.diagnostic(`${pruned.length} of 10 trials pruned: ${pruned.map((x) => `${x.key} at step ${result(x).pruned!.step}`).join(', ')}`);
});

test('a member pruned in a pack has no snapshot: without the rule it is reopened and trains again from the start, ending with the full grid\'s numbers', async () => {
  const full = await run('full', 'pack: { when: never }\n', BASE);
  const first = await run('relaxed', 'pack: { when: always }\n');
  const pruned = first.trials.filter((x) => x.status === 'pruned');
  assert.ok(pruned.length > 0);
  assert.deepEqual(pruned.map((x) => x.checkpoint), pruned.map(() => null), 'a packed member leaves nothing to resume from');
  const relaxed = await run('relaxed', 'pack: { when: always }\n', BASE);
  const byKey = new Map(full.trials.map((x) => [x.key, x]));
  assert.deepEqual(relaxed.trials.map((x) => x.status), relaxed.trials.map(() => 'completed'));
  for (const x of relaxed.trials) {
    const [a, b] = [result(x), result(byKey.get(x.key)!)];
    assert.equal(a.steps, STEPS);
    for (const split of ['train', 'validation', 'test'] as const) close(a[split].loss, b[split].loss, `${x.key} ${split} loss`);
  }
  for (const x of pruned) {
    const again = relaxed.trials.find((y) => y.key === x.key)!;
    assert.deepEqual([again.attempt, result(again).packed?.members], [2, pruned.filter((y) => y.coordinates.batchSize === x.coordinates.batchSize).length], `${x.key}: its second attempt, packed with the others reopened of its batch size`);
  }
  assert.deepEqual(relaxed.best.map((b) => [b.batchSize, b.bestLr]), full.best.map((b) => [b.batchSize, b.bestLr]));
});

test('a packed pruning study killed with SIGKILL once a member is pruned, then resumed: the decisions stored stand, and no worker writes to a pruned trial again', async () => {
  const file = join(dir, 'killed.yaml');
  const db = join(dir, 'killed.db');
  writeFileSync(file, `${GRID}pack: { when: always }\n`);
  const prunedNow = async () => (await stored(db)).trials.filter((x) => x.status === 'pruned').map((x) => [x.key, x.attempt, x.result?.pruned] as const);
  await runUntilThenKill([file, '--db', db, '--workers', '2'], async () => (await prunedNow()).length >= 1);
  await new Promise((r) => setTimeout(r, 200));
  const atKill = await prunedNow();
  assert.ok(atKill.length >= 1);
  const killed = await stored(db);
  assert.ok(killed.trials.some((x) => x.status === 'pending' || x.status === 'running'), 'the kill should have interrupted the study');
  const resumed = sgdlabCli('run', file, '--db', db, '--workers', '2');
  assert.equal(resumed.status, 0, resumed.stderr);
  const after = new Map((await stored(db)).trials.map((x) => [x.key, x]));
  for (const [key, attempt, pruned] of atKill) {
    const x = after.get(key)!;
    assert.deepEqual([x.status, x.attempt, x.result?.pruned], ['pruned', attempt, pruned], `${key}: the decision stands, and no other attempt ran it`);
  }
  assert.ok([...after.values()].every((x) => x.status === 'completed' || x.status === 'pruned'), 'every trial ends completed or pruned');
  const store = await openStore(db);
  assert.deepEqual((await store.refusals('lrgrid')).filter((r) => atKill.some(([k]) => k === r.key)), [], 'no worker even tried to write to a pruned trial');
  await store.close();
});
