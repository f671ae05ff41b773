/**
 * Pausing a run (hooks.pauseAfter, how a study's pruning rule evaluates a trial at its rungs): a run
 * paused twice and resumed from its snapshots ends with the numbers of the same run never paused, bit
 * for bit (dropout, batch norm and momentum included); each paused part ends at the asked step.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../tensor/index.js';
import { assertClose } from '../tensor/testing.js';
import { parseTrainConfig, train, type TrainConfigInput } from './index.js';

const config = (save: string): TrainConfigInput => ({
  model: { name: 'mlp', widths: [16], batchNorm: true, dropout: 0.2 },
  data: { name: 'mnist', subset: 600, validation: 100 },
  optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 },
  batchSize: 50,
  budget: { steps: 24 },
  eval: { every: 5 },
  save,
});

test('a run paused at steps 7 and 16 and resumed each time ends as the run never paused, bit for bit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-pause-'));
  const whole = train(parseTrainConfig(config(join(dir, 'whole'))));
  const paused = parseTrainConfig(config(join(dir, 'paused')));
  const ends: number[] = [];
  let last;
  for (let resume = false; ; resume = true) {
    let stop = false;
    const run = train(paused, { resume, hooks: { pauseAfter: (p) => (stop = p.step === 7 || p.step === 16) } });
    ends.push(run.result.steps);
    if (!stop) {
      last = run;
      break;
    }
    assert.equal(run.result.stopped, `paused after step ${run.result.steps}`);
    run.model.dispose();
  }
  assert.deepEqual(ends, [7, 16, 24]);
  assert.deepEqual(last.result.history.steps.map((s) => s.loss), whole.result.history.steps.map((s) => s.loss));
  assert.deepEqual(last.result.history.evals, whole.result.history.evals, 'the periodic evaluations, none added by the pauses');
  assert.deepEqual([last.result.train, last.result.validation, last.result.test], [whole.result.train, whole.result.validation, whole.result.test]);
  assert.equal(last.result.stopped, undefined);
  T.tidy(() => {
    for (const [k, v] of whole.model.stateDict()) assertClose(last.model.stateDict().get(k)!, v, { rtol: 0, atol: 0 }, k);
  });
  assert.equal(last.result.distanceFromInitial, whole.result.distanceFromInitial);
  whole.model.dispose();
  last.model.dispose();
});

test('pausing needs a save directory for its snapshot', () => {
  const { save: _save, ...rest } = config('');
  assert.throws(() => train(parseTrainConfig(rest), { hooks: { pauseAfter: () => true } }), /pausing a run \(hooks\.pauseAfter\) needs config\.save/);
});
