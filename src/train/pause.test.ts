/**
 * Pausing a run (hooks.pauseAfter, how a study's pruning rule evaluates a trial at its rungs): a run
 * paused twice and resumed from its snapshots ends with the numbers of the same run never paused, bit
 * for bit (dropout, batch norm and momentum included); each paused part ends at the asked step. A
 * pause that evaluates only some splits (trainPausable, how a pruning rung pauses) reports the same
 * numbers for them as the full-evaluation pause, and completed (completePause) gives the full pause's
 * result, checkpoint included; resumed, the run never paused.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../tensor/index.js';
import { assertClose } from '../tensor/testing.js';
import { disposeSplits, prepareData } from '../data/index.js';
import { completePause, parseTrainConfig, readSidecar, train, trainPausable, type EvalRecord, type TrainConfig, type TrainConfigInput, type TrainResult } from './index.js';

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

/** A result without what differs between two runs of the same configuration in other folders: timings, paths, the run record (its start time). */
function runNumbers(r: TrainResult): string {
  const { seconds: _s, samplesPerSecond: _p, checkpoint: _c, record: _r, config: { save: _save, ...config }, lossLevels, ...rest } = r;
  return JSON.stringify({ ...rest, config, ...(lossLevels ? { lossLevels: lossLevels.map(({ checkpoint: _l, ...l }) => l) } : {}) });
}

/** The checkpoint's sidecar but its folder and run record. */
function sidecarNumbers(path: string): string {
  const { record: _r, config: { save: _save, ...config }, ...rest } = readSidecar(path);
  return JSON.stringify({ ...rest, config });
}

test('a pause that evaluates only the test split: the full pause\'s test numbers; completed, its whole result and checkpoint; resumed, the run never paused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-pause-partial-'));
  const base = parseTrainConfig(config(''));
  const data = prepareData(base.data);
  const at = (name: string): TrainConfig => ({ ...base, save: join(dir, name) });
  try {
    const whole = train(at('whole'), { data });
    const full = train(at('full'), { data, hooks: { pauseAfter: (p) => p.step === 7 } });
    const partial = at('partial');
    const told: EvalRecord[] = [];
    const end = trainPausable(partial, { data, hooks: { pauseAfter: (p) => p.step === 7, onEval: (e) => told.push(e) }, pauseEvaluates: ['test'] });
    assert.equal(end.kind, 'paused');
    if (end.kind !== 'paused') return;
    const { paused } = end;
    // 500 training examples in batches of 50: 10 steps an epoch.
    assert.deepEqual(paused.evaluation, { step: 7, epoch: 0.7, test: full.result.test }, 'only the test split, with the full pause\'s numbers');
    assert.deepEqual(told.map((e) => e.step), [5], 'the periodic evaluation only: the partial one is not told');
    assert.equal(existsSync(join(partial.save!, 'model.json')), false, 'no checkpoint before the evaluation is complete');
    assert.equal(existsSync(join(partial.save!, 'snapshot.json')), true);
    assert.throws(() => completePause(paused, { ...data, description: 'another dataset' }), /completePause: data: the run was trained on '.*', not 'another dataset'/);

    const completed = completePause(paused, data, { onEval: (e) => told.push(e) });
    assert.equal(runNumbers(completed), runNumbers(full.result), 'the full pause\'s result, field for field in the same order (train, validation and test at step 7)');
    assert.deepEqual(told.at(-1), full.result.history.evals.at(-1), 'the whole evaluation is told when completed');
    assert.equal(sidecarNumbers(completed.checkpoint!), sidecarNumbers(full.result.checkpoint!), 'the same checkpoint description and metrics');
    T.tidy(() => {
      for (const [k, v] of full.model.stateDict()) assertClose(paused.model.stateDict().get(k)!, v, { rtol: 0, atol: 0 }, k);
    });
    paused.model.dispose();
    full.model.dispose();

    // Resumed from the partial pause, paused again at 16 with only the validation split (not completed), and resumed to the end.
    const again = trainPausable(partial, { data, resume: true, hooks: { pauseAfter: (p) => p.step === 16 }, pauseEvaluates: ['validation'] });
    assert.equal(again.kind, 'paused');
    if (again.kind !== 'paused') return;
    assert.deepEqual(Object.keys(again.paused.evaluation).sort(), ['epoch', 'step', 'validation']);
    again.paused.model.dispose();
    const last = train(partial, { data, resume: true });
    assert.equal(last.result.steps, 24);
    assert.equal(last.result.stopped, undefined);
    assert.deepEqual(last.result.history.steps.map((s) => s.loss), whole.result.history.steps.map((s) => s.loss));
    assert.deepEqual(last.result.history.evals, whole.result.history.evals, 'the periodic evaluations, none added by the pauses');
    assert.deepEqual([last.result.train, last.result.validation, last.result.test], [whole.result.train, whole.result.validation, whole.result.test]);
    T.tidy(() => {
      for (const [k, v] of whole.model.stateDict()) assertClose(last.model.stateDict().get(k)!, v, { rtol: 0, atol: 0 }, k);
    });
    assert.equal(last.result.distanceFromInitial, whole.result.distanceFromInitial);
    whole.model.dispose();
    last.model.dispose();
  } finally {
    disposeSplits(data);
  }
});

test('with loss-level checkpoints a partial pause evaluates train and test too (the levels read both): completed, the full pause\'s levels and result', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-pause-levels-'));
  // Levels high enough that the training loss crosses some by step 7 (the initial loss is about ln 10 ≈ 2.3).
  const base = parseTrainConfig({ ...config(''), checkpointAt: { trainLoss: [3, 2, 0.01] } });
  const data = prepareData(base.data);
  try {
    const full = train({ ...base, save: join(dir, 'full') }, { data, hooks: { pauseAfter: (p) => p.step === 7 } });
    const end = trainPausable({ ...base, save: join(dir, 'partial') }, { data, hooks: { pauseAfter: (p) => p.step === 7 }, pauseEvaluates: ['validation'] });
    assert.equal(end.kind, 'paused');
    if (end.kind !== 'paused') return;
    const { train: trainSplit, validation, test: testSplit } = end.paused.evaluation;
    assert.deepEqual([trainSplit, validation, testSplit], [full.result.train, full.result.validation, full.result.test]);
    assert.ok((full.result.lossLevels ?? []).length > 0, 'some level is crossed by step 7');
    const completed = completePause(end.paused, data);
    assert.equal(runNumbers(completed), runNumbers(full.result));
    end.paused.model.dispose();
    full.model.dispose();
  } finally {
    disposeSplits(data);
  }
});
