/**
 * Measurements at training-loss levels: one job per target trial × recorded level × kind, on the
 * levels' subset; the worker's target is the level's checkpoint; level values never enter the final
 * minima's summaries (src/report/builtin/keskar-equal-loss.test.ts checks where they go instead).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandTrials, levelOf, measurementJobs, measurementTarget, parseStudy, summarizeMeasurements, type StoredMeasurement, type StoredTrial } from './index.js';

const study = parseStudy({
  name: 'levels',
  base: { model: { name: 'mlp', widths: [8] }, data: { name: 'mnist', subset: 500 }, optimizer: { name: 'sgd', lr: 0.1 }, budget: { steps: 10 }, checkpointAt: { trainLoss: [1, 0.5] } },
  grid: { batchSize: [16, 64] },
  select: 'trainLoss',
  measure: { what: ['hessian', 'sharpness'], subset: 400, sharpness: { solver: ['lbfgsb', 'projected'] }, levels: { what: ['sharpness'], subset: 100 } },
});

const level = (lvl: number, key: string, loss: number) => ({ level: lvl, step: 5, epoch: 0.5, trainLoss: loss, trainExamples: 500, testAccuracy: 0.5, distanceFromInitial: 2 * lvl, checkpoint: `/ckpt/${key}/loss-${lvl}` });
const trials: StoredTrial[] = expandTrials(study, '0').map((t, i) => ({
  study: 'levels', key: t.key, coordinates: t.coordinates, config: t.config, status: 'completed', attempt: 1, worker: null, startedAt: null, finishedAt: null, seconds: 1, error: null,
  checkpoint: `/ckpt/${t.key}/model.safetensors`,
  // The small batch reached both levels, the large one only the first.
  result: { batchSize: [16, 64][i], steps: 10, epochs: 1, train: { loss: 0.3 + i, accuracy: 0.9 }, test: { loss: 0.4, accuracy: 0.8 }, distanceFromInitial: 7,
    lossLevels: i === 0 ? [level(1, t.key, 0.9), level(0.5, t.key, 0.45)] : [level(1, t.key, 0.8)] },
}));

test('one job per target trial, recorded level and kind, on the levels\' subset; the final jobs are unchanged', () => {
  const jobs = measurementJobs(study, trials);
  const final = jobs.filter((j) => levelOf(j.spec) === undefined);
  const levelled = jobs.filter((j) => levelOf(j.spec) !== undefined);
  assert.equal(final.length, 2 * 2);
  assert.deepEqual(levelled.map((j) => [j.key, j.kind, levelOf(j.spec)]), [[trials[0]!.key, 'sharpness', 1], [trials[0]!.key, 'sharpness', 0.5], [trials[1]!.key, 'sharpness', 1]]);
  for (const j of levelled) assert.equal(JSON.parse(j.spec).subset, 100);
  for (const j of final) assert.equal(JSON.parse(j.spec).subset, 400);
  // The worker measures the level's checkpoint on the levels' subset, the final one on the study's.
  const t = measurementTarget(study.measure!, trials[0]!, levelled[1]!.spec);
  assert.deepEqual([t.checkpoint, t.measure.subset, t.level], [`/ckpt/${trials[0]!.key}/loss-0.5`, 100, 0.5]);
  const f = measurementTarget(study.measure!, trials[0]!, final[0]!.spec);
  assert.deepEqual([f.checkpoint, f.measure.subset, f.level], [`/ckpt/${trials[0]!.key}/model.safetensors`, 400, undefined]);
  assert.throws(() => measurementTarget(study.measure!, trials[1]!, levelled[1]!.spec), /has no checkpoint at training-loss level 0\.5/);
});

test('level values stay out of the final minima\'s summaries, which name both solvers and the first-order part', () => {
  const jobs = measurementJobs(study, trials);
  const values = (phi: number) => ({ values: [
    { epsilon: 0.001, space: 'full', solver: 'lbfgsb', phi, firstOrder: phi / 2 },
    { epsilon: 0.001, space: 'full', solver: 'projected', phi: phi + 1, firstOrder: phi / 2 },
  ], examples: 100 });
  const stored: StoredMeasurement[] = jobs.filter((j) => j.kind === 'sharpness').map((j) => ({
    ...j, status: 'completed', attempt: 1, worker: null, seconds: 1, error: null, result: values(levelOf(j.spec) === undefined ? 50 : 10 * levelOf(j.spec)!),
  }));
  const summary = summarizeMeasurements(jobs, [trials[0]!.key], stored);
  assert.deepEqual(Object.fromEntries(Object.entries(summary).map(([k, s]) => [k, [s.mean, s.n]])), {
    'phi(eps=0.001, full) L-BFGS-B': [50, 1], 'phi(eps=0.001, full) first-order': [25, 1], 'phi(eps=0.001, full)': [51, 1],
  });
});
