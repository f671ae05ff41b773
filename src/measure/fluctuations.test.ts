/**
 * sgdlab's own trainer on label-noise linear regression reproduces Ziyin et al.'s exact stationary
 * fluctuations — and not the continuous-time ones (a = 1, λ = 1, S = 10: Σ = 0.125, not 0.05).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelNoiseRegression, sigma1dContinuous } from '../theory/index.js';
import { parseTrainConfig, train } from '../train/index.js';
import { StationaryFluctuations } from './index.js';

function run(lr: number, batchSize: number, momentum: number, steps: number, eigenvalues: number[]) {
  const fluctuations = new StationaryFluctuations(2000);
  const d = eigenvalues.length;
  const { model } = train(parseTrainConfig({
    model: { name: 'linear-regression' },
    data: { name: 'linear-regression', linearRegression: { dim: d, covariance: eigenvalues, teacher: new Array(d).fill(1), labelNoise: 1 }, trainSize: 100, testSize: 100 },
    optimizer: { name: 'sgd', lr, momentum },
    batchSize, sampling: 'fresh', budget: { steps }, eval: { every: 10 ** 9 }, divergenceLoss: 1e9, seed: 3,
  }), { hooks: fluctuations.hooks });
  model.dispose();
  const r = fluctuations.result();
  fluctuations.dispose();
  return r;
}

test('1-D, a = 1, λ = 1, S = 10: the measured weight variance is 0.125 (exact), not 0.05 (continuous time)', () => {
  const r = run(1, 10, 0, 42000, [1]);
  const exact = labelNoiseRegression({ eigenvalues: [1], noiseVariance: 1, batchSize: 10, learningRate: 1 });
  assert.equal(r.steps, 40000);
  assert.ok(Math.abs(r.weightMean[0]! - 1) < 0.02, `mean ${r.weightMean[0]}`);
  assert.ok(Math.abs(r.weightVariance[0]! / 0.125 - 1) < 0.06, `Σ ${r.weightVariance[0]}`);
  assert.ok(Math.abs(r.weightVariance[0]! - sigma1dContinuous(1, 10, 1)) > 0.05);
  assert.ok(Math.abs(r.lossMean / exact.trainingLoss - 1) < 0.02, `training loss ${r.lossMean} vs ${exact.trainingLoss}`);
});

test('2-D with momentum: the measured covariance matches the exact Σ (diagonal in A\'s eigenbasis)', () => {
  const r = run(0.3, 4, 0.5, 42000, [1, 0.4]);
  const exact = labelNoiseRegression({ eigenvalues: [1, 0.4], noiseVariance: 1, batchSize: 4, learningRate: 0.3, momentum: 0.5 });
  exact.sigma.forEach((s, i) => assert.ok(Math.abs(r.weightCovariance![i]![i]! / s - 1) < 0.08, `Σ_${i}${i} ${r.weightCovariance![i]![i]} vs ${s}`));
  assert.ok(Math.abs(r.weightCovariance![0]![1]!) < 0.1 * Math.sqrt(exact.sigma[0]! * exact.sigma[1]!), 'off-diagonal should vanish');
  assert.ok(Math.abs(r.lossMean / exact.trainingLoss - 1) < 0.03, `training loss ${r.lossMean} vs ${exact.trainingLoss}`);
});
