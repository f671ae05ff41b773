/**
 * The 1-D weight-decay closed form (regularized1d) and where its optimal γ is negative, against
 * regularized.ts's independent route: the generalized Lyapunov equation solved by fixed-point iteration
 * on the Σ-dependent noise, minimized over a dense γ grid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { divergenceLearningRate, optimalWeightDecay1d, optimalWeightDecayIsNegative, regularized1d, regularizedLabelNoise, sigma1d } from './index.js';

test('regularized1d equals the Lyapunov fixed point of regularized.ts at every γ, and sigma1d at γ = 0', () => {
  for (const [a, lr, S] of [[1, 1.5, 32], [0.5, 1.5, 32], [2, 0.4, 5], [1, 0.9, 2]] as const) {
    for (const g of [-0.3, -0.1, 0, 0.05, 0.4]) {
      const mine = regularized1d({ a, noiseVariance: 1.3, teacher: 0.8, batchSize: S, learningRate: lr, weightDecay: g * a });
      const lyapunov = regularizedLabelNoise({ A: [[a]], teacher: [0.8], noiseVariance: 1.3, batchSize: S, learningRate: lr, weightDecay: g * a });
      assert.equal(mine.stable, lyapunov.stable, `a ${a} λ ${lr} S ${S} γ ${g * a}`);
      if (!mine.stable) continue;
      assert.ok(Math.abs(mine.sigma / lyapunov.sigma[0]![0]! - 1) < 1e-9, `Σ ${mine.sigma} vs ${lyapunov.sigma[0]![0]}`);
      assert.ok(Math.abs(mine.testLoss / lyapunov.testLoss - 1) < 1e-9, `test loss ${mine.testLoss} vs ${lyapunov.testLoss}`);
    }
    const zero = regularized1d({ a, noiseVariance: 1.3, teacher: 0.8, batchSize: S, learningRate: lr, weightDecay: 0 });
    assert.ok(Math.abs(zero.sigma / sigma1d(a, 1.3, S, lr) - 1) < 1e-12);
  }
});

test('the optimal γ is negative exactly when 1 < λa < 2S/(S + 2): the sign of a dense minimization of the Lyapunov test loss, over λ, S and the data scale a', () => {
  let negatives = 0;
  for (const S of [2, 10, 32]) {
    for (const a of [0.25, 1, 4]) {
      // λa from 0.3 to 0.97 of the edge, skipping a band around λa = 1 where the optimum is ≈ 0.
      for (const fraction of [0.3, 0.45, 0.7, 0.85, 0.97]) {
        const lr = (fraction * divergenceLearningRate(a, S));
        if (Math.abs(lr * a - 1) < 0.05) continue;
        const gammas = Array.from({ length: 1201 }, (_, i) => a * (-0.6 + i * 0.001));
        const curve = gammas.map((g) => ({ g, loss: regularizedLabelNoise({ A: [[a]], teacher: [1], noiseVariance: 1, batchSize: S, learningRate: lr, weightDecay: g }).testLoss }));
        const best = curve.reduce((x, y) => (y.loss < x.loss ? y : x));
        const negative = optimalWeightDecayIsNegative(a, S, lr);
        negatives += negative ? 1 : 0;
        assert.equal(best.g < 0, negative, `S ${S} a ${a} λ ${lr}: dense optimum γ = ${best.g}`);
        assert.ok(Math.abs(best.g) > 1e-4 * a, `the optimum is resolved away from 0 (γ = ${best.g})`);
        const golden = optimalWeightDecay1d({ a, noiseVariance: 1, teacher: 1, batchSize: S, learningRate: lr });
        assert.ok(Math.abs(golden.weightDecay - best.g) <= 0.001 * a, `golden section γ ${golden.weightDecay} vs dense ${best.g}`);
      }
    }
  }
  assert.ok(negatives >= 3, `some cases negative (${negatives})`);
});

test("the paper's λ = 1.5, S = 32: the optimal γ is negative for data scales 2/3 < a < 1.25 (a = 1: γ* ≈ −0.07, 4% below γ = 0) and positive at a = 0.5", () => {
  const p = { noiseVariance: 1, teacher: 1, batchSize: 32, learningRate: 1.5 };
  assert.equal(optimalWeightDecayIsNegative(0.66, 32, 1.5), false);
  assert.equal(optimalWeightDecayIsNegative(0.7, 32, 1.5), true);
  assert.equal(optimalWeightDecayIsNegative(1.25, 32, 1.5), true);
  assert.equal(optimalWeightDecayIsNegative(1.26, 32, 1.5), false);
  const one = optimalWeightDecay1d({ ...p, a: 1 });
  // Direct evaluation of Σ(γ) = λ(2a²r² + aσ²)/(S(2k − λk²) − 2λa²) at γ = 0: 1.5/(64 − 51) = 0.11538.
  assert.ok(Math.abs(regularized1d({ ...p, a: 1, weightDecay: 0 }).testLoss - 0.5 * 1.5 / 13) < 1e-12);
  assert.ok(one.weightDecay < -0.03 && one.weightDecay > -0.12, `a = 1: γ* = ${one.weightDecay}`);
  assert.ok(optimalWeightDecay1d({ ...p, a: 0.5 }).weightDecay > 0);
});
