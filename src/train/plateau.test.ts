/**
 * stopAt.plateau, checked against runs without it: the same seed gives the same steps, so the losses a
 * plain run records are the losses the rule sees. Each test recomputes from them, with Keras's
 * EarlyStopping written out below (not the trainer's rule), where the rule must stop, and checks that
 * the run with the rule stopped exactly there, with the same losses up to it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseTrainConfig, train, type TrainConfigInput, type TrainResult } from './index.js';

/** 250 examples in batches of 24, the last batch of each epoch 10 (dropLast: false): 11 steps an epoch, of unequal size. */
const N = 250;
const B = 24;
const STEPS_PER_EPOCH = Math.ceil(N / B);
const base: TrainConfigInput = {
  model: { name: 'mlp', widths: [16] },
  data: { name: 'gaussian-classification', gaussianClassification: { dim: 10, classes: 3 }, trainSize: N, testSize: 60 },
  optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9 },
  batchSize: B,
  dropLast: false,
  budget: { epochs: 40 },
};

function run(config: TrainConfigInput, options: Parameters<typeof train>[1] = {}): TrainResult {
  const { result, model } = train(parseTrainConfig(config), options);
  model.dispose();
  return result;
}

/** Keras's logs['loss'] at each epoch's end: the mean of the epoch's minibatch losses, weighted by batch size. */
function epochMeans(r: TrainResult, stepsPerEpoch: number): number[] {
  const steps = r.history.steps;
  const means: number[] = [];
  for (let start = 0; start < steps.length; start += stepsPerEpoch) {
    const epoch = steps.slice(start, start + stepsPerEpoch);
    means.push(epoch.reduce((s, m) => s + m.loss * m.batchSize, 0) / epoch.reduce((s, m) => s + m.batchSize, 0));
  }
  return means;
}

/**
 * Keras's EarlyStopping.on_epoch_end (mode 'min', its min_delta made negative, so current − min_delta < best
 * reads current + minDelta < best), or PyTorch's ReduceLROnPlateau 'rel' test: the 0-based check at which
 * the run stops, or undefined.
 */
function kerasStop(losses: number[], patience: number, minDelta: number, mode: 'abs' | 'rel' = 'abs'): number | undefined {
  let best = Infinity;
  let wait = 0;
  for (let i = 0; i < losses.length; i++) {
    const current = losses[i]!;
    wait += 1;
    if (mode === 'abs' ? current + minDelta < best : current < best * (1 - minDelta)) {
      best = current;
      wait = 0;
      continue;
    }
    if (wait >= patience) return i;
  }
  return undefined;
}

const stepLosses = (r: TrainResult) => r.history.steps.map((s) => s.loss);

test('on the epoch mean loss, the run stops at the epoch Keras\'s rule finds in the plain run\'s losses, with the same losses up to it', () => {
  const plain = run(base);
  const means = epochMeans(plain, STEPS_PER_EPOCH);
  assert.equal(means.length, 40);
  const stop = kerasStop(means, 3, 0);
  // The losses must rise and fall again before the stop, for the count to have been reset on the way.
  assert.ok(stop !== undefined && stop < 39 && kerasStop(means, 2, 0)! < stop, `the plain run's epoch means must plateau inside the budget: ${means.join(', ')}`);
  const stopped = run({ ...base, stopAt: { plateau: { patience: 3 } } });
  assert.equal(stopped.steps, (stop + 1) * STEPS_PER_EPOCH);
  assert.equal(stopped.epochs, stop + 1);
  assert.equal(stopped.stoppedBy, 'plateau');
  assert.deepEqual(stepLosses(stopped), stepLosses(plain).slice(0, stopped.steps));
  const p = stopped.plateau!;
  assert.equal(p.on, 'epoch');
  assert.deepEqual(p.checks.map((c) => c.step), means.slice(0, stop + 1).map((_, i) => (i + 1) * STEPS_PER_EPOCH));
  p.checks.forEach((c, i) => assert.ok(Math.abs(c.loss - means[i]!) <= 1e-12 * means[i]!, `epoch ${i + 1}: ${c.loss} vs ${means[i]}`));
  const best = Math.min(...means.slice(0, stop + 1));
  assert.equal(p.best!.step, (means.indexOf(best) + 1) * STEPS_PER_EPOCH);
  assert.equal(p.sinceBest, 3);
  assert.match(stopped.stopped!, new RegExp(`did not improve by more than 0 for 3 epochs \\(stopAt\\.plateau\\.patience 3\\): best .* at step ${p.best!.step} .*, last .* at step ${stopped.steps}$`));
  assert.equal(plain.stoppedBy, undefined, 'without stopAt nothing is recorded');
  assert.equal(plain.plateau, undefined);
});

test('minDelta decides: gradient descent whose loss falls every step runs its budget at minDelta 0 and stops where the falls become smaller than minDelta (abs) or a fraction minDelta (rel)', () => {
  // Full batch: an epoch is one step, and its mean loss is the step's loss.
  const gd: TrainConfigInput = { ...base, batchSize: 'full', optimizer: { name: 'sgd', lr: 0.1 }, budget: { steps: 100 } };
  const losses = stepLosses(run(gd));
  assert.ok(losses.every((l, i) => i === 0 || l < losses[i - 1]!), 'gradient descent with a small step lowers the loss every step');
  assert.equal(kerasStop(losses, 2, 0), undefined);
  const never = run({ ...gd, stopAt: { plateau: { patience: 2, minDelta: 0 } } });
  assert.equal(never.steps, 100);
  assert.equal(never.stoppedBy, 'budget');
  assert.equal(never.stopped, undefined);
  assert.equal(never.plateau!.checks.length, 100);
  assert.equal(never.plateau!.sinceBest, 0);
  for (const [minDelta, mode] of [[5e-3, 'abs'], [2e-2, 'rel']] as const) {
    const stop = kerasStop(losses, 2, minDelta, mode);
    assert.ok(stop !== undefined && stop > 10 && stop < 99, `${mode} ${minDelta}: the falls must shrink below it inside the budget (stop ${stop})`);
    const r = run({ ...gd, stopAt: { plateau: { patience: 2, minDelta, mode } } });
    assert.equal(r.steps, stop + 1, `${mode} ${minDelta}`);
    assert.equal(r.stoppedBy, 'plateau');
    assert.deepEqual(stepLosses(r), losses.slice(0, stop + 1));
    assert.match(r.stopped!, new RegExp(`did not improve by more than ${mode === 'rel' ? 'a fraction ' : ''}${minDelta} for 2 epochs`));
  }
});

test('on: eval monitors the training-set loss of the periodic evaluations, and patience counts evaluations; stopAt.trainLoss and the plateau, whichever comes first', () => {
  const evalEvery = { ...base, eval: { every: 5 } };
  const plain = run(evalEvery);
  const periodic = plain.history.evals.slice(0, -1);
  assert.deepEqual(periodic.map((e) => e.step), periodic.map((_, i) => 5 * (i + 1)));
  const stop = kerasStop(periodic.map((e) => e.train.loss), 4, 1e-3);
  assert.ok(stop !== undefined && stop > 4 && stop < periodic.length - 1, `the evaluations must plateau inside the budget: ${periodic.map((e) => e.train.loss).join(', ')}`);
  const stopped = run({ ...evalEvery, stopAt: { plateau: { patience: 4, minDelta: 1e-3, on: 'eval' } } });
  assert.equal(stopped.steps, periodic[stop]!.step);
  assert.equal(stopped.stoppedBy, 'plateau');
  assert.deepEqual(stopped.plateau!.checks.map((c) => c.loss), periodic.slice(0, stop + 1).map((e) => e.train.loss));
  assert.match(stopped.stopped!, /training loss at the evaluations did not improve by more than 0\.001 for 4 evaluations/);
  // A loss level the evaluations reach before the plateau ends the run there instead; one never reached leaves it to the plateau.
  const earlier = periodic[stop - 2]!;
  const level = earlier.train.loss * (1 + 1e-9);
  const first = periodic.find((e) => e.train.loss < level)!;
  const byLevel = run({ ...evalEvery, stopAt: { trainLoss: level, plateau: { patience: 4, minDelta: 1e-3, on: 'eval' } } });
  assert.equal(byLevel.steps, first.step);
  assert.equal(byLevel.stoppedBy, 'trainLoss');
  const byPlateau = run({ ...evalEvery, stopAt: { trainLoss: 1e-9, plateau: { patience: 4, minDelta: 1e-3, on: 'eval' } } });
  assert.equal(byPlateau.steps, stopped.steps);
  assert.equal(byPlateau.stoppedBy, 'plateau');
  assert.equal(run({ ...evalEvery, budget: { steps: 20 }, stopAt: { trainLoss: 1e-9 } }).stoppedBy, 'budget');
});

test('on: epoch checks where the trainer\'s epochs end: a warm phase\'s epochs at its own batch size, and a growing batch\'s epochs in examples', () => {
  // Warm phase: 2 epochs of 11 steps at B = 24; then batches of 50 (dropLast: 5 steps an epoch) for 3 epochs.
  const warm = run({ ...base, dropLast: true, batchSize: 50, warmStart: { batchSize: 24, epochs: 2 }, budget: { epochs: 3 }, stopAt: { plateau: { patience: 100 } } });
  // With dropLast the warm epochs are 10 steps of 24 (the last 10 examples dropped).
  assert.deepEqual(warm.plateau!.checks.map((c) => c.step), [10, 20, 25, 30, 35]);
  assert.deepEqual(warm.plateau!.checks.map((c) => c.epoch), [1, 2, 3, 4, 5]);
  // A batch that grows from 24 to 120 halfway: an epoch ends at the step whose examples pass a multiple of N.
  const grown = run({ ...base, batchSchedule: { kind: 'step', milestones: [0.5], batchSizes: [120] }, budget: { epochs: 4 }, stopAt: { plateau: { patience: 100 } } });
  const sizes = grown.history.steps.map((s) => s.batchSize);
  assert.ok(sizes.includes(24) && sizes.includes(120), `the batch grew: ${[...new Set(sizes)].join(', ')}`);
  const ends: number[] = [];
  let examples = 0;
  sizes.forEach((b, i) => {
    if (Math.floor((examples + b) / N) > Math.floor(examples / N)) ends.push(i + 1);
    examples += b;
  });
  assert.deepEqual(grown.plateau!.checks.map((c) => c.step), ends);
  assert.equal(ends.length, 4);
});

test('a run resumed from a snapshot taken mid-epoch, after the best, stops at the step of the uninterrupted run with the same record', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-plateau-'));
  const config = (save: string): TrainConfigInput => ({ ...base, save, snapshotEvery: 7, stopAt: { plateau: { patience: 3 } } });
  const whole = run(config(join(dir, 'whole')));
  // The uninterrupted run's checks: the snapshot at step 105 is one epoch after a best, 6 steps into the next epoch.
  const best = whole.plateau!.best!.step;
  assert.ok(best < 105 && whole.steps > 112 && 105 % STEPS_PER_EPOCH !== 0, `best at ${best}, stop at ${whole.steps}`);
  assert.ok(whole.plateau!.checks.some((c) => c.step > best && c.step < 105), 'a check without improvement before the snapshot');
  assert.throws(() => run(config(join(dir, 'stopped')), { hooks: { onStep: ({ step }) => { if (step === 108) throw new Error('stopped'); } } }), /stopped/);
  const resumed = run(config(join(dir, 'stopped')), { resume: true });
  assert.equal(resumed.steps, whole.steps);
  assert.equal(resumed.stoppedBy, 'plateau');
  assert.deepEqual(resumed.plateau, whole.plateau);
  assert.deepEqual(stepLosses(resumed), stepLosses(whole));
  assert.equal(resumed.stopped, whole.stopped);
});

test('bad plateau values are configuration errors naming the field, the value and what is allowed', () => {
  const bad = (plateau: unknown, pattern: RegExp) => assert.throws(() => parseTrainConfig({ ...base, stopAt: { plateau } }), (e: unknown) => e instanceof ConfigError && pattern.test(e.message), JSON.stringify(plateau));
  bad({ patience: 0 }, /stopAt\.plateau\.patience: Too small: expected number to be >0 \(got 0\)/);
  bad({ patience: 1.5 }, /stopAt\.plateau\.patience: .*expected int.* \(got 1\.5\)/);
  bad({}, /stopAt\.plateau\.patience: missing \(expected number\)/);
  bad({ patience: 2, minDelta: -0.1 }, /stopAt\.plateau\.minDelta: Too small: expected number to be >=0 \(got -0\.1\)/);
  bad({ patience: 2, minDelta: 1, mode: 'rel' }, /stopAt\.plateau\.minDelta: with mode rel .* minDelta must be below 1 \(got 1\)/);
  bad({ patience: 2, mode: 'ratio' }, /stopAt\.plateau\.mode: .*"abs"\|"rel".* \(got "ratio"\)/);
  bad({ patience: 2, on: 'val_loss' }, /stopAt\.plateau\.on: .*"epoch"\|"eval".* \(got "val_loss"\)/);
  bad({ patience: 2, monitor: 'loss' }, /stopAt\.plateau: unknown field\(s\) 'monitor'/);
  assert.throws(() => parseTrainConfig({ ...base, stopAt: {} }), /stopAt: give trainLoss, plateau or both \(got \{\}\)/);
  assert.deepEqual(parseTrainConfig({ ...base, stopAt: { plateau: { patience: 5 } } }).stopAt, { plateau: { patience: 5, minDelta: 0, mode: 'abs', on: 'epoch' } }, 'the resolved configuration records the defaults');
});
