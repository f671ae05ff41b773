/**
 * Pruning a learning-rate grid end to end (`sgdlab run`, one worker, so that the claim order and the
 * decisions are deterministic): with ASHA and with the median rule, the best learning rate per batch
 * size equals the full grid's, every trial that was not pruned ends with the full grid's numbers (its
 * pauses at the rungs change nothing), pruned trials are recorded with the step, rung, metric and
 * rule that stopped them and their curves end there, the best never is a pruned trial, and fewer
 * trial-steps are trained. Relaxing the rule resumes pruned trials from their snapshots; SIGKILL and a
 * restart keep every decision.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bestByBatchSize, openStore, type StoredTrial } from './index.js';
import { runUntilThenKill, sgdlabCli } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'sgdlab-prune-'));
const STEPS = 80;
const GRID = `
name: lrgrid
base:
  model: { name: mlp, widths: [16] }
  data: { name: mnist, subset: 1000, validation: 200 }
  optimizer: { name: sgd, lr: 0.1, momentum: 0.9 }
  batchSize: 50
  budget: { steps: ${STEPS} }
grid:
  batchSize: [25, 100]
  optimizer.lr: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3]
  seed: [0]
`;

async function run(name: string, extra: string, ...flags: string[]): Promise<{ stdout: string; trials: StoredTrial[]; best: ReturnType<typeof bestByBatchSize>; metricsEnd: Map<string, number>; namesAtEnd: Map<string, string[]> }> {
  const file = join(dir, `${name}.yaml`);
  const db = join(dir, `${name}.db`);
  writeFileSync(file, GRID + extra);
  const r = sgdlabCli('run', file, '--db', db, '--workers', '1', ...flags);
  assert.equal(r.status, 0, r.stderr);
  const store = await openStore(db);
  const study = (await store.getStudy('lrgrid'))!.study;
  const trials = await store.trials('lrgrid');
  const metricsEnd = new Map<string, number>();
  // The names of the curves' rows at their last step (the evaluation there).
  const namesAtEnd = new Map<string, string[]>();
  for (const t of trials) {
    const rows = await store.metrics('lrgrid', t.key);
    const end = Math.max(...rows.map((m) => m.step));
    metricsEnd.set(t.key, end);
    namesAtEnd.set(t.key, [...new Set(rows.filter((m) => m.step === end).map((m) => m.name))].sort());
  }
  await store.close();
  return { stdout: r.stdout, trials, best: bestByBatchSize(study, trials), metricsEnd, namesAtEnd };
}

test('ASHA and the median rule find the full grid\'s best learning rate per batch size with fewer trial-steps', async (t) => {
  const full = await run('full', '');
  assert.equal(full.best.length, 2);
  const byKey = new Map(full.trials.map((x) => [x.key, x]));
  for (const [name, rule] of [['asha', 'prune: { rule: asha, unit: steps, gracePeriod: 10, reductionFactor: 2 }\n'], ['median', 'prune: { rule: median, unit: steps, gracePeriod: 20, every: 20, minTrials: 2 }\n']] as const) {
    const p = await run(name, rule);
    assert.deepEqual(p.best.map((b) => [b.batchSize, b.bestLr]), full.best.map((b) => [b.batchSize, b.bestLr]), `${name}: the best learning rate per batch size`);
    const pruned = p.trials.filter((x) => x.status === 'pruned');
    assert.ok(pruned.length > 0, `${name}: some trial is pruned`);
    assert.match(p.stdout, new RegExp(`^lrgrid: ${12 - pruned.length} completed, 0 diverged, 0 failed, ${pruned.length} pruned, 0 left`, 'm'));
    for (const x of p.trials) {
      if (x.status === 'completed') {
        assert.deepEqual(x.result?.validation, byKey.get(x.key)!.result?.validation, `${name}: ${x.key} ends with the full grid's numbers`);
        continue;
      }
      const at = x.result!.pruned!;
      assert.equal(x.status, 'pruned');
      assert.equal(at.rule, name);
      assert.equal(at.metric, 'validationAccuracy');
      assert.equal(at.value, x.result!.validation!.accuracy, 'the value that decided is its validation accuracy at that step');
      assert.ok(at.step < STEPS && at.step === x.result!.steps, `${name}: pruned at a rung inside the run`);
      assert.equal(p.metricsEnd.get(x.key), at.step, 'its learning curves end where it was stopped');
      // The rung evaluated only the validation split; the pruned trial's result has every split there, on the whole of each (1000 − 200 training examples, 200 validation, the test set of a completed trial).
      const testExamples = byKey.get(x.key)!.result!.test!.examples;
      assert.deepEqual([x.result!.train?.examples, x.result!.validation?.examples, x.result!.test?.examples], [800, 200, testExamples], `${name}: ${x.key} has train, validation and test at its pruning step`);
      assert.ok([x.result!.train!.loss, x.result!.test!.loss].every(Number.isFinite));
      assert.deepEqual(p.namesAtEnd.get(x.key)!.filter((n) => n.includes('.')), ['test.accuracy', 'test.loss', 'train.accuracy', 'train.loss', 'validation.accuracy'], 'its curves have its train, test and validation points there');
    }
    for (const b of p.best) for (const k of b.bestTrials) assert.equal(p.trials.find((x) => x.key === k)!.status, 'completed');
    const trained = p.trials.reduce((a, x) => a + (x.status === 'pruned' ? x.result!.pruned!.step : x.result!.steps!), 0);
    assert.ok(trained < 12 * STEPS);
    t.diagnostic(`${name}: ${pruned.length} of 12 trials pruned, ${trained} of ${12 * STEPS} trial-steps trained (${(100 * (1 - trained / (12 * STEPS))).toFixed(1)}% saved)`);
  }
});

for (const artifacts of ['folder', 'store'] as const) {
  test(`the same rule run again changes nothing; without it, the pruned trials resume from their snapshots (checkpoints in the ${artifacts}) and end with the full grid's numbers`, async () => {
    const full = await run('full', '');
    const asha = 'prune: { rule: asha, unit: steps, gracePeriod: 10, reductionFactor: 2 }\n';
    const name = `relax-${artifacts}`;
    const flags = artifacts === 'store' ? ['--artifacts', 'store'] : [];
    const first = await run(name, asha, ...flags);
    const pruned = first.trials.filter((x) => x.status === 'pruned');
    assert.ok(pruned.length > 0);
    const again = await run(name, asha, ...flags);
    assert.deepEqual(again.trials.map((x) => [x.key, x.status, x.attempt]), first.trials.map((x) => [x.key, x.status, x.attempt]), 'decisions stand: nothing reopened, nothing run');
    const store = await openStore(join(dir, `${name}.db`));
    for (const x of pruned) {
      if (artifacts === 'folder') assert.ok(existsSync(join(x.checkpoint!, 'snapshot.json')) && existsSync(join(x.checkpoint!, 'snapshot.safetensors')), `${x.key} keeps its snapshot`);
      else assert.deepEqual((await store.artifactSizes('lrgrid', x.key))?.map((f) => f.name), ['snapshot/initial.safetensors', 'snapshot/snapshot.json', 'snapshot/snapshot.safetensors'], `${x.key} keeps its snapshot`);
    }
    await store.close();
    const relaxed = await run(name, '', ...flags);
    assert.match(relaxed.stdout, /^lrgrid: 12 completed, 0 diverged, 0 failed, 0 left/m);
    const byKey = new Map(full.trials.map((x) => [x.key, x]));
    for (const x of relaxed.trials) assert.deepEqual(x.result?.validation, byKey.get(x.key)!.result?.validation, `${x.key}: the full grid's numbers`);
    assert.deepEqual(relaxed.best.map((b) => [b.batchSize, b.bestLr]), full.best.map((b) => [b.batchSize, b.bestLr]));
    const reopened = new Set(pruned.map((x) => x.key));
    const after = await openStore(join(dir, `${name}.db`));
    for (const x of relaxed.trials.filter((y) => reopened.has(y.key))) {
      assert.deepEqual([x.attempt, x.checkpoint], [2, null]);
      // In the store, the snapshot goes when the resumed run ends: only a run that resumed from it removes it.
      if (artifacts === 'store') assert.equal(await after.artifactSizes('lrgrid', x.key), undefined, `${x.key} resumed from its snapshot`);
      // Its curves run from step 0 (the pruned attempt's rows, carried) to the end.
      const steps = (await after.metrics('lrgrid', x.key)).filter((m) => m.name === 'loss').map((m) => m.step);
      assert.deepEqual([steps[0], relaxed.metricsEnd.get(x.key)], [0, STEPS]);
    }
    await after.close();
  });
}

test('two workers killed with SIGKILL once a trial is pruned, then resumed: every pruned trial stays pruned as decided, never claimed or run again', async () => {
  const file = join(dir, 'killed.yaml');
  const db = join(dir, 'killed.db');
  writeFileSync(file, `${GRID}prune: { rule: asha, unit: steps, gracePeriod: 10, reductionFactor: 2 }\n`);
  const prunedNow = async () => {
    const store = await openStore(db);
    try {
      return (await store.trials('lrgrid')).filter((x) => x.status === 'pruned').map((x) => [x.key, x.attempt, x.result?.pruned] as const);
    } finally {
      await store.close();
    }
  };
  // The whole process group (runner and workers) is killed once a pruned trial is stored.
  let atKill: Awaited<ReturnType<typeof prunedNow>> = [];
  await runUntilThenKill([file, '--db', db, '--workers', '2'], async () => (await prunedNow()).length >= 1);
  await new Promise((r) => setTimeout(r, 200));
  atKill = await prunedNow();
  assert.ok(atKill.length >= 1);
  const killed = await openStore(db);
  assert.ok((await killed.trials('lrgrid')).some((x) => x.status === 'pending' || x.status === 'running'), 'the kill should have interrupted the study');
  await killed.close();
  const resumed = sgdlabCli('run', file, '--db', db, '--workers', '2');
  assert.equal(resumed.status, 0, resumed.stderr);
  const store = await openStore(db);
  const after = new Map((await store.trials('lrgrid')).map((x) => [x.key, x]));
  for (const [key, attempt, pruned] of atKill) {
    const x = after.get(key)!;
    assert.deepEqual([x.status, x.attempt, x.result?.pruned], ['pruned', attempt, pruned], `${key}: the decision stands, and no other attempt ran it`);
  }
  assert.ok([...after.values()].every((x) => x.status === 'completed' || x.status === 'pruned'));
  assert.deepEqual((await store.refusals('lrgrid')).filter((r) => atKill.some(([k]) => k === r.key)), [], 'no worker even tried to write to a pruned trial');
  await store.close();
});
