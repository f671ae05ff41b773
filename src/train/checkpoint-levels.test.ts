/**
 * Checkpoints at training-loss levels and stopping at a loss, checked against a plain run of the same
 * configuration (same seed ⇒ the same evaluations): each level's checkpoint holds exactly the weights
 * of the first evaluation below it, its sidecar says which, ‖θ − θ₀‖ is the distance of those weights
 * from the initial ones, and a run with stopAt ends at the first evaluation below the loss.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../tensor/index.js';
import { ConfigError, distanceFromInitial, loadCheckpoint, lossLevelDir, parseTrainConfig, train, type TrainConfigInput } from './index.js';

const base: TrainConfigInput = {
  model: { name: 'mlp', widths: [16] },
  data: { name: 'gaussian-classification', gaussianClassification: { dim: 10, classes: 3 }, trainSize: 240, testSize: 60 },
  optimizer: { name: 'sgd', lr: 0.2, momentum: 0.9 },
  batchSize: 24,
  budget: { steps: 60 },
  eval: { every: 5 },
};

/** The plain run: the training loss and the weights at every evaluation. */
function reference() {
  const evals: { step: number; loss: number; weights: Map<string, T.Tensor> }[] = [];
  const { result, model } = train(parseTrainConfig(base), {
    hooks: { onEval: (e, m) => evals.push({ step: e.step, loss: e.train.loss, weights: new Map([...m.stateDict()].map(([k, v]) => [k, T.keep(v.detach().clone())])) }) },
  });
  model.dispose();
  return { evals, result };
}

test('each level is saved at the first evaluation below it, with those weights; levels never reached are absent', () => {
  const ref = reference();
  const losses = ref.evals.map((e) => e.loss);
  // Levels between evaluations found in the plain run: two crossed at the same evaluation, one never reached.
  const firstDrop = losses.findIndex((l, i) => i > 0 && l < losses[i - 1]! * 0.9);
  assert.ok(firstDrop > 0, `the loss must fall: ${losses.join(', ')}`);
  const a = (losses[firstDrop - 1]! + 2 * losses[firstDrop]!) / 3;
  const b = (2 * losses[firstDrop - 1]! + losses[firstDrop]!) / 3;
  const later = losses.length - 2;
  const c = losses[later]! * (1 + 1e-9);
  const never = Math.min(...losses) / 2;
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-levels-'));
  const { result, model } = train(parseTrainConfig({ ...base, save: dir, checkpointAt: { trainLoss: [a, b, c, never] } }));
  model.dispose();
  const firstBelow = (level: number) => ref.evals.find((e) => e.loss < level)!;
  assert.deepEqual(result.lossLevels!.map((r) => r.level), [b, a, c].sort((x, y) => y - x));
  for (const record of result.lossLevels!) {
    const expected = firstBelow(record.level);
    assert.equal(record.step, expected.step, `level ${record.level}`);
    assert.equal(record.trainLoss, expected.loss);
    assert.equal(record.checkpoint, lossLevelDir(dir, record.level));
    const saved = loadCheckpoint(record.checkpoint!);
    for (const [k, v] of expected.weights) assert.ok(T.tidy(() => saved.model.stateDict().get(k)!.sub(v).abs().max().item()) === 0, `level ${record.level}: ${k} differs from the weights at step ${expected.step}`);
    assert.equal(saved.sidecar.step, expected.step);
    assert.equal((saved.sidecar.metrics as { level: number }).level, record.level);
    // ‖θ − θ₀‖ recorded in training equals the distance of the saved weights from the initial weights saved beside them.
    const d = distanceFromInitial(record.checkpoint!, saved.model)!;
    assert.ok(Math.abs(d - record.distanceFromInitial) <= 1e-6 * d, `distance ${record.distanceFromInitial} vs ${d}`);
    saved.model.dispose();
  }
  assert.equal(result.lossLevels!.find((r) => r.level === a)!.step, result.lossLevels!.find((r) => r.level === b)!.step, 'two levels crossed at one evaluation share it');
  assert.equal(existsSync(lossLevelDir(dir, never)), false);
  for (const e of ref.evals) T.dispose([...e.weights.values()]);
});

test('stopAt ends the run at the first evaluation below the loss; the run up to there is the plain run', () => {
  const ref = reference();
  const target = ref.evals[Math.floor(ref.evals.length / 2)]!;
  const { result, model } = train(parseTrainConfig({ ...base, stopAt: { trainLoss: target.loss * (1 + 1e-9) } }));
  model.dispose();
  const first = ref.evals.find((e) => e.loss < target.loss * (1 + 1e-9))!;
  assert.equal(result.steps, first.step);
  assert.match(result.stopped!, new RegExp(`at step ${first.step} .* below stopAt\\.trainLoss`));
  assert.deepEqual(result.history.evals.slice(0, -1).map((e) => e.train.loss), ref.evals.filter((e) => e.step <= first.step).map((e) => e.loss));
  assert.equal(ref.result.stopped, undefined);
  for (const e of ref.evals) T.dispose([...e.weights.values()]);
});

test('without a save folder the levels are recorded, not written; bad levels are configuration errors', () => {
  const { result, model } = train(parseTrainConfig({ ...base, budget: { steps: 20 }, checkpointAt: { trainLoss: [10] } }));
  model.dispose();
  assert.equal(result.lossLevels!.length, 1);
  assert.equal(result.lossLevels![0]!.step, 5);
  assert.equal(result.lossLevels![0]!.checkpoint, undefined);
  assert.ok(result.lossLevels![0]!.distanceFromInitial > 0);
  assert.throws(() => parseTrainConfig({ ...base, checkpointAt: { trainLoss: [] } }), (e: unknown) => e instanceof ConfigError && /checkpointAt\.trainLoss: Too small: expected array to have >=1 items \(got \[\]\)/.test(e.message));
  assert.throws(() => parseTrainConfig({ ...base, checkpointAt: { trainLoss: [0.1, -1] } }), /checkpointAt\.trainLoss\.1: Too small: expected number to be >0 \(got -1\)/);
  assert.throws(() => parseTrainConfig({ ...base, stopAt: { loss: 1 } }), /stopAt: unknown field\(s\) 'loss'/);
});

test('a resumed run keeps the levels crossed before it stopped: same records, and their checkpoints are not written again', () => {
  const ref = reference();
  const losses = ref.evals.map((e) => e.loss);
  // One level crossed before the stop at step 32 (after the snapshot at step 30), one after it.
  const early = losses[2]! * (1 + 1e-9);
  const late = Math.min(...losses) * (1 + 1e-9);
  assert.ok(ref.evals.find((e) => e.loss < early)!.step < 30 && ref.evals.find((e) => e.loss < late)!.step > 32, `levels on both sides of the stop: ${losses.join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-levels-resume-'));
  const config = (save: string) => parseTrainConfig({ ...base, save, snapshotEvery: 10, checkpointAt: { trainLoss: [early, late] } });
  const whole = train(config(join(dir, 'whole')));
  whole.model.dispose();
  assert.throws(() => train(config(join(dir, 'stopped')), { hooks: { onStep: ({ step }) => { if (step === 32) throw new Error('stopped'); } } }), /stopped/);
  const earlyDir = lossLevelDir(join(dir, 'stopped'), early);
  const written = statSync(join(earlyDir, 'model.safetensors')).mtimeMs;
  const resumed = train(config(join(dir, 'stopped')), { resume: true });
  resumed.model.dispose();
  const records = (r: typeof whole) => r.result.lossLevels!.map(({ checkpoint: _c, ...rest }) => rest);
  assert.deepEqual(records(resumed), records(whole));
  assert.deepEqual(resumed.result.lossLevels!.map((r) => r.level), [early, late]);
  assert.equal(statSync(join(earlyDir, 'model.safetensors')).mtimeMs, written, 'the early level was not saved again after the resume');
  for (const e of ref.evals) T.dispose([...e.weights.values()]);
});
