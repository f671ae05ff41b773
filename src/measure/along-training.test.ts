/** Qian & Klabjan: the gradient variance along training from a fixed w₀, against its closed form at k = 0, and its decrease in b. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { makeDataset } from '../data/index.js';
import { buildModel } from '../nn/index.js';
import { fitPolynomialInInverseB, gradientVarianceAlongTraining, isNonIncreasing } from './index.js';

function data() {
  const g = new T.Generator(4);
  const x = T.randn([200, 3], { generator: g });
  const y = x.matmul(T.tensor([1, -1, 0.5])).unsqueeze(1).add(T.randn([200, 1], { generator: g }).mul(0.3));
  return makeDataset(x, y, undefined);
}

test('at k = 0 the variance is tr Σ₁ / b (with replacement), with Σ₁ from the closed-form per-example gradients', () => {
  const d = data();
  const spec = { name: 'linear-regression' as const, init: { scheme: 'normal' as const, std: 0.5 } };
  const w0 = T.tidy(() => T.keep(buildModel(spec, { inputShape: [3], outputs: 1 }, new T.Generator(0)).parameters()[0]!.detach().clone().flatten()));
  const traceSigma = T.tidy(() => {
    const per = d.x.mul(d.x.matmul(w0).sub(d.y.squeeze(1)).unsqueeze(1)); // g_i = x_i (x_iᵀw₀ − y_i)
    return per.sub(per.mean(0)).square().sum(1).mean().item();
  });
  const points = gradientVarianceAlongTraining({ model: spec, data: d, batchSizes: [1, 4, 16], step: 0, sequences: 400, lr: 0.05, seed: 0 });
  for (const p of points) assert.ok(Math.abs(p.variance - traceSigma / p.b) < 4 * p.standardError, `b=${p.b}: ${p.variance} ± ${p.standardError} vs ${traceSigma / p.b}`);
  const [c0, c1] = fitPolynomialInInverseB(points, 1);
  assert.ok(Math.abs(c0!) < 0.1 * traceSigma && Math.abs(c1! / traceSigma - 1) < 0.15, `fit ${c0}, ${c1} vs tr Σ₁ = ${traceSigma}`);
  T.dispose([w0, d.x, d.y]);
});

test('after k = 4 steps the variance still decreases in b, and a polynomial in 1/b fits it', () => {
  const d = data();
  const points = gradientVarianceAlongTraining({ model: { name: 'deep-linear', widths: [3] }, data: d, batchSizes: [1, 2, 4, 8, 32], step: 4, sequences: 300, lr: 0.05, seed: 1 });
  assert.ok(isNonIncreasing(points), JSON.stringify(points));
  const coefficients = fitPolynomialInInverseB(points, 3);
  // The fit passes within three standard errors of every measured point.
  for (const p of points) {
    const fitted = coefficients.reduce((s, c, j) => s + c * p.b ** -j, 0);
    assert.ok(Math.abs(fitted - p.variance) < 3 * p.standardError, `b=${p.b}: fit ${fitted} vs ${p.variance} ± ${p.standardError}`);
  }
  T.dispose([d.x, d.y]);
});
