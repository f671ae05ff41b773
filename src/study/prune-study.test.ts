/**
 * Pruning a learning-rate grid end to end (`sgdlab run`, one worker, so that the claim order and the
 * decisions are deterministic): with ASHA and with the median rule, the best learning rate per batch
 * size equals the full grid's, every trial that was not pruned ends with the full grid's numbers (its
 * pauses at the rungs change nothing), pruned trials are recorded with the step, rung, metric and
 * rule that stopped them and their curves end there, the best never is a pruned trial, and fewer
 * trial-steps are trained.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bestByBatchSize, openStore, type StoredTrial } from './index.js';
import { sgdlabCli } from './testing.js';

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

async function run(name: string, extra: string): Promise<{ stdout: string; trials: StoredTrial[]; best: ReturnType<typeof bestByBatchSize>; metricsEnd: Map<string, number> }> {
  const file = join(dir, `${name}.yaml`);
  const db = join(dir, `${name}.db`);
  writeFileSync(file, GRID + extra);
  const r = sgdlabCli('run', file, '--db', db, '--workers', '1');
  assert.equal(r.status, 0, r.stderr);
  const store = await openStore(db);
  const study = (await store.getStudy('lrgrid'))!.study;
  const trials = await store.trials('lrgrid');
  const metricsEnd = new Map<string, number>();
  for (const t of trials) metricsEnd.set(t.key, Math.max(...(await store.metrics('lrgrid', t.key)).map((m) => m.step)));
  await store.close();
  return { stdout: r.stdout, trials, best: bestByBatchSize(study, trials), metricsEnd };
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
    }
    for (const b of p.best) for (const k of b.bestTrials) assert.equal(p.trials.find((x) => x.key === k)!.status, 'completed');
    const trained = p.trials.reduce((a, x) => a + (x.status === 'pruned' ? x.result!.pruned!.step : x.result!.steps!), 0);
    assert.ok(trained < 12 * STEPS);
    t.diagnostic(`${name}: ${pruned.length} of 12 trials pruned, ${trained} of ${12 * STEPS} trial-steps trained (${(100 * (1 - trained / (12 * STEPS))).toFixed(1)}% saved)`);
  }
});
