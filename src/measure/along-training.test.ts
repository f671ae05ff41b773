/**
 * Qian & Klabjan: the gradient variance along training from a fixed w₀, against the exact moment
 * recursion for linear regression (theory/qian-klabjan.ts, itself checked by enumeration), its
 * closed form at k = 0, its decrease in b, and the seeding of the sequences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { buildModel } from '../nn/index.js';
import { linearRegressionGradientVariance } from '../theory/index.js';
import { fitPolynomialInInverseB, gradientVarianceAlongTraining, isNonIncreasing } from './index.js';
import { regressionData } from './testing.js';

const spec = { name: 'linear-regression' as const, init: { scheme: 'normal' as const, std: 0.5 } };
const io = { inputShape: [3], outputs: 1 };

test('after k = 0 and k = 4 steps the measured variance equals the exact moment recursion for every b, with and without replacement', () => {
  const d = regressionData();
  const w0 = buildModel(spec, io, new T.Generator(0));
  const rows = { x: d.x.toArray() as number[][], y: (d.y.squeeze(1).toArray() as number[]), w0: (w0.parameters()[0]!.flatten().toArray() as number[]) };
  for (const replacement of [true, false]) {
    for (const step of [0, 4]) {
      const points = gradientVarianceAlongTraining({ model: spec, initial: w0, data: d, batchSizes: [1, 4, 16], step, sequences: 400, lr: 0.05, replacement, seed: 0 });
      for (const p of points) {
        const exact = linearRegressionGradientVariance({ ...rows, lr: 0.05, b: p.b, replacement }, step)[step]!;
        assert.ok(Math.abs(p.variance - exact) < 4 * p.standardError, `${replacement ? 'with' : 'without'} replacement, k=${step}, b=${p.b}: ${p.variance} ± ${p.standardError} vs exact ${exact}`);
      }
    }
  }
  w0.dispose();
  T.dispose([d.x, d.y]);
});

test('the polynomial fit in 1/b recovers a held-out batch size of the exact curve (degree k + 1 = 5 at k = 4)', () => {
  const d = regressionData();
  const w0 = buildModel(spec, io, new T.Generator(0));
  const rows = { x: d.x.toArray() as number[][], y: (d.y.squeeze(1).toArray() as number[]), w0: (w0.parameters()[0]!.flatten().toArray() as number[]) };
  const exact = (b: number) => linearRegressionGradientVariance({ ...rows, lr: 0.05, b, replacement: true }, 4)[4]!;
  const fitted = [1, 2, 3, 5, 8, 32].map((b) => ({ b, variance: exact(b) }));
  const c = fitPolynomialInInverseB(fitted, 5);
  for (const b of [4, 16, 100]) {
    const predicted = c.reduce((s, cj, j) => s + cj * b ** -j, 0);
    assert.ok(Math.abs(predicted - exact(b)) < 1e-9 * exact(b), `b=${b}: fit ${predicted} vs exact ${exact(b)}`);
  }
  // A lower degree cannot: the curve is not linear in 1/b after 4 steps.
  const line = fitPolynomialInInverseB(fitted, 1);
  assert.ok(Math.abs(line[0]! + line[1]! / 16 - exact(16)) > 1e-6 * exact(16));
  w0.dispose();
  T.dispose([d.x, d.y]);
});

test('after k = 4 steps of a deep linear network the variance still decreases in b', () => {
  const d = regressionData();
  const model = { name: 'deep-linear' as const, widths: [3] };
  const w0 = buildModel(model, io, new T.Generator(1));
  const points = gradientVarianceAlongTraining({ model, initial: w0, data: d, batchSizes: [1, 2, 4, 8, 32], step: 4, sequences: 300, lr: 0.05, seed: 1 });
  assert.ok(isNonIncreasing(points), JSON.stringify(points));
  w0.dispose();
  T.dispose([d.x, d.y]);
});

test('the sequences follow the seed: the same seed repeats every number, another seed draws other batches; w₀ is never changed', () => {
  const d = regressionData();
  const w0 = buildModel(spec, io, new T.Generator(0));
  const before = T.tidy(() => w0.parameters()[0]!.toArray());
  const run = (seed: number) => gradientVarianceAlongTraining({ model: spec, initial: w0, data: d, batchSizes: [2], step: 3, sequences: 20, lr: 0.05, seed }).map((p) => p.variance);
  assert.deepEqual(run(5), run(5));
  assert.notDeepEqual(run(5), run(6));
  assert.deepEqual(T.tidy(() => w0.parameters()[0]!.toArray()), before);
  w0.dispose();
  T.dispose([d.x, d.y]);
});
