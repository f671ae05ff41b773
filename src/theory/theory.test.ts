/**
 * Closed forms against independent references: SGD simulated on label-noise linear regression
 * (Ziyin et al. 2022) in plain JavaScript, the generalized Lyapunov solver against the closed form,
 * and Qian & Klabjan's minibatch-variance formulas against exhaustive enumeration of minibatches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  divergenceLearningRate, labelNoiseRegression, linearRegressionGradientVariance, minibatchGradientSecondMoment, minibatchGradientVariance, sgdTemperature, optimalWeightDecay, regularizedLabelNoise, sigma1d, sigma1dContinuous, solveGeneralizedLyapunov, tailIndex, twoBatchEstimates,
} from './index.js';
import { normals } from './testing.js';


/**
 * Online SGD with momentum (heavy ball, as torch.optim.SGD) on ½(wᵀx − y)², x ~ N(0, diag(a)),
 * y = uᵀx + ε. Tracks the deviation w − u. Returns the per-coordinate variance of w and the mean
 * training loss over `steps` steps after a burn-in.
 */
function simulate(a: number[], noise: number, batch: number, lr: number, momentum: number, steps: number, seed: number): { variance: number[]; loss: number; diverged: boolean } {
  const rand = normals(seed);
  const d = a.length;
  const w = new Array<number>(d).fill(0);
  const buf = new Array<number>(d).fill(0);
  const sum = new Array<number>(d).fill(0);
  const sumSq = new Array<number>(d).fill(0);
  let lossSum = 0;
  const burn = 2000;
  const x = new Array<number>(d).fill(0);
  for (let t = 0; t < burn + steps; t++) {
    const g = new Array<number>(d).fill(0);
    let batchLoss = 0;
    for (let k = 0; k < batch; k++) {
      let r = 0;
      for (let i = 0; i < d; i++) {
        x[i] = Math.sqrt(a[i]!) * rand();
        r += x[i]! * w[i]!;
      }
      r -= Math.sqrt(noise) * rand();
      batchLoss += 0.5 * r * r;
      for (let i = 0; i < d; i++) g[i]! += (r * x[i]!) / batch;
    }
    for (let i = 0; i < d; i++) {
      buf[i] = momentum * buf[i]! + g[i]!;
      w[i]! -= lr * buf[i]!;
    }
    if (!Number.isFinite(w[0]!) || Math.abs(w[0]!) > 1e8) return { variance: [], loss: Infinity, diverged: true };
    if (t >= burn) {
      lossSum += batchLoss / batch;
      for (let i = 0; i < d; i++) {
        sum[i]! += w[i]!;
        sumSq[i]! += w[i]! * w[i]!;
      }
    }
  }
  return { variance: sum.map((s, i) => sumSq[i]! / steps - (s / steps) ** 2), loss: lossSum / steps, diverged: false };
}

test('1-D: a = 1, λ = 1, S = 10 gives Σ = 0.125 (exact), not 0.05 (continuous time), and simulation agrees', () => {
  assert.equal(sigma1d(1, 1, 10, 1), 0.125);
  assert.equal(sigma1dContinuous(1, 10, 1), 0.05);
  const sim = simulate([1], 1, 10, 1, 0, 400000, 1);
  assert.ok(Math.abs(sim.variance[0]! - 0.125) < 0.006, `simulated Σ = ${sim.variance[0]}`);
  const exact = labelNoiseRegression({ eigenvalues: [1], noiseVariance: 1, batchSize: 10, learningRate: 1 });
  assert.ok(Math.abs(exact.sigma[0]! - 0.125) < 1e-12);
  assert.ok(Math.abs(sim.loss - exact.trainingLoss) / exact.trainingLoss < 0.01, `training loss ${sim.loss} vs ${exact.trainingLoss}`);
});

test('1-D and 2-D, several λ and S, with and without momentum: simulation matches the exact Σ and training loss', () => {
  const cases = [
    { a: [1], lr: 0.5, S: 1, mu: 0 },
    { a: [1], lr: 1.2, S: 5, mu: 0 },
    { a: [2], lr: 0.05, S: 32, mu: 0 },
    { a: [1], lr: 0.3, S: 4, mu: 0.5 },
    { a: [1, 0.3], lr: 0.8, S: 8, mu: 0 },
    { a: [1, 0.3], lr: 0.2, S: 8, mu: 0.6 },
  ];
  for (const c of cases) {
    const exact = labelNoiseRegression({ eigenvalues: c.a, noiseVariance: 0.5, batchSize: c.S, learningRate: c.lr, momentum: c.mu });
    assert.ok(exact.stable);
    const sim = simulate(c.a, 0.5, c.S, c.lr, c.mu, 300000, 7);
    sim.variance.forEach((v, i) => assert.ok(Math.abs(v / exact.sigma[i]! - 1) < 0.06, `${JSON.stringify(c)}: Σ_${i} simulated ${v}, exact ${exact.sigma[i]}`));
    assert.ok(Math.abs(sim.loss / exact.trainingLoss - 1) < 0.02, `${JSON.stringify(c)}: loss ${sim.loss} vs ${exact.trainingLoss}`);
  }
});

test('the divergence threshold λa = 2S/(S + 2): the variance is finite below it and diverges above it', () => {
  const lr = divergenceLearningRate(1, 4);
  assert.ok(Math.abs(lr - 8 / 6) < 1e-12);
  assert.equal(sigma1d(1, 1, 4, lr * 1.01), Infinity);
  const below = sigma1d(1, 1, 4, lr * 0.8);
  const simBelow = simulate([1], 1, 4, lr * 0.8, 0, 200000, 3);
  assert.ok(Math.abs(simBelow.variance[0]! / below - 1) < 0.05, `below: simulated ${simBelow.variance[0]}, exact ${below}`);
  // Above the threshold the iterates stay finite but their distribution is heavy-tailed (tail
  // index β = 2S/(aλ) − S < 2): the sample variance is huge and keeps growing with the sample.
  const simAbove = simulate([1], 1, 4, lr * 1.15, 0, 200000, 3);
  assert.ok(!simAbove.diverged);
  assert.ok(simAbove.variance[0]! > 20 * below, `above: sample variance ${simAbove.variance[0]}`);
  assert.ok(tailIndex(1, 4, lr * 1.15) < 2);
  assert.ok(Math.abs(tailIndex(1, 4, lr) - 2) < 1e-12, 'β = 2S/(aλ) − S = 2 at the threshold');
});

test('the generalized Lyapunov solver reproduces the closed-form Σ from the closed-form C, with and without momentum', () => {
  for (const mu of [0, 0.5]) {
    const a = [1.5, 0.7, 0.2];
    const p = { eigenvalues: a, noiseVariance: 0.3, batchSize: 6, learningRate: 0.4, momentum: mu };
    const exact = labelNoiseRegression(p);
    const diag = (v: number[]) => v.map((x, i) => v.map((_, j) => (i === j ? x : 0)));
    const sigma = solveGeneralizedLyapunov(diag(a), diag(exact.noise), diag([0.4, 0.4, 0.4]), mu);
    sigma.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - (i === j ? exact.sigma[i]! : 0)) < 1e-10, `μ=${mu}: Σ[${i}][${j}] = ${v}`)));
  }
});

test('Qian–Klabjan: E‖g_b‖² with and without replacement equals exhaustive enumeration of minibatches', () => {
  const rand = normals(9);
  const n = 6;
  const grads = Array.from({ length: n }, () => [rand(), rand(), rand()]);
  const mean = [0, 1, 2].map((k) => grads.reduce((s, g) => s + g[k]!, 0) / n);
  const gradNormSq = mean.reduce((s, m) => s + m * m, 0);
  const traceSigma = grads.reduce((s, g) => s + g.reduce((t, v, k) => t + (v - mean[k]!) ** 2, 0), 0) / n;
  const normSqOfMean = (idx: number[]) => [0, 1, 2].reduce((s, k) => s + (idx.reduce((t, i) => t + grads[i]![k]!, 0) / idx.length) ** 2, 0);
  for (let b = 1; b <= n; b++) {
    // With replacement: all n^b ordered draws.
    let total = 0;
    let count = 0;
    const draw = (prefix: number[]) => {
      if (prefix.length === b) {
        total += normSqOfMean(prefix);
        count++;
        return;
      }
      for (let i = 0; i < n; i++) draw([...prefix, i]);
    };
    if (b <= 4) {
      draw([]);
      assert.ok(Math.abs(total / count - minibatchGradientSecondMoment(gradNormSq, traceSigma, b, n, true)) < 1e-12, `with replacement, b=${b}`);
    }
    // Without replacement: all subsets of size b.
    let subsetTotal = 0;
    let subsets = 0;
    for (let mask = 0; mask < 1 << n; mask++) {
      const idx = [...Array(n).keys()].filter((i) => mask & (1 << i));
      if (idx.length !== b) continue;
      subsetTotal += normSqOfMean(idx);
      subsets++;
    }
    assert.ok(Math.abs(subsetTotal / subsets - minibatchGradientSecondMoment(gradNormSq, traceSigma, b, n, false)) < 1e-12, `without replacement, b=${b}`);
  }
  // The two-batch estimators are exact on exact expectations.
  const e = (b: number) => minibatchGradientSecondMoment(gradNormSq, traceSigma, b, n, true);
  const est = twoBatchEstimates({ b: 2, normSq: e(2) }, { b: 5, normSq: e(5) });
  assert.ok(Math.abs(est.gradNormSq - gradNormSq) < 1e-12 && Math.abs(est.traceSigma - traceSigma) < 1e-12);
});

test('regularized label-noise regression: Γ = 0 is the closed form; with weight decay it matches simulation', () => {
  const base = { A: [[1, 0], [0, 0.4]], teacher: [1, -0.5], noiseVariance: 1, batchSize: 4, learningRate: 0.5 };
  const plain = regularizedLabelNoise({ ...base, weightDecay: 0 });
  const exact = labelNoiseRegression({ eigenvalues: [1, 0.4], noiseVariance: 1, batchSize: 4, learningRate: 0.5 });
  exact.sigma.forEach((s, i) => assert.ok(Math.abs(plain.sigma[i]![i]! - s) < 1e-10, `Σ_${i}${i}`));
  assert.ok(Math.abs(plain.testLoss - exact.testLoss) < 1e-10);
  // 1-D with weight decay γ: simulate SGD on ½(wx − y)² + ½γw², x ~ N(0, 1), y = x + ε.
  const gamma = 0.3;
  const solution = regularizedLabelNoise({ A: [[1]], teacher: [1], noiseVariance: 1, batchSize: 4, learningRate: 0.5, weightDecay: gamma });
  assert.ok(Math.abs(solution.minimum[0]! - 1 / 1.3) < 1e-12);
  const rand = normals(11);
  let w = 0;
  let sum = 0;
  let sumSq = 0;
  const steps = 300000;
  for (let t = 0; t < 2000 + steps; t++) {
    let g = gamma * w;
    for (let k = 0; k < 4; k++) {
      const x = rand();
      g += (x * (w * x - (x + rand()))) / 4;
    }
    w -= 0.5 * g;
    if (t >= 2000) {
      sum += w;
      sumSq += w * w;
    }
  }
  const mean = sum / steps;
  const variance = sumSq / steps - mean * mean;
  assert.ok(Math.abs(mean - solution.minimum[0]!) < 0.01, `mean ${mean} vs ${solution.minimum[0]}`);
  assert.ok(Math.abs(variance / solution.sigma[0]![0]! - 1) < 0.06, `Σ simulated ${variance}, exact ${solution.sigma[0]![0]}`);
});

test('the optimal weight decay is positive at a small learning rate and negative at a large one', () => {
  const p = { A: [[1]], teacher: [1], noiseVariance: 1, batchSize: 10 };
  const gammas = Array.from({ length: 801 }, (_, i) => -0.3 + i * 0.0005);
  const small = optimalWeightDecay({ ...p, learningRate: 0.1 }, gammas);
  const large = optimalWeightDecay({ ...p, learningRate: 0.95 * divergenceLearningRate(1, 10) }, gammas);
  assert.ok(small.weightDecay > 0, `small λ: optimal γ ${small.weightDecay}`);
  assert.ok(large.weightDecay < 0, `large λ: optimal γ ${large.weightDecay}`);
});

test('Qian–Klabjan along SGD: the exact moment recursion equals exhaustive enumeration of every batch sequence (linear regression, k = 2)', () => {
  const rand = normals(11);
  const n = 4;
  const x = Array.from({ length: n }, () => [rand(), rand()]);
  const y = x.map((xi) => 0.7 * xi[0]! - 0.4 * xi[1]! + 0.5 * rand());
  const w0 = [0.3, -0.2];
  const lr = 0.3;
  const grad = (w: number[], batch: number[]) => [0, 1].map((j) => batch.reduce((s, i) => s + x[i]![j]! * (x[i]![0]! * w[0]! + x[i]![1]! * w[1]! - y[i]!), 0) / batch.length);
  const subsets = (b: number) => [...Array(1 << n).keys()].map((mask) => [...Array(n).keys()].filter((i) => mask & (1 << i))).filter((s) => s.length === b);
  const tuples = (b: number): number[][] => (b === 0 ? [[]] : tuples(b - 1).flatMap((t) => [...Array(n).keys()].map((i) => [...t, i])));
  for (const replacement of [true, false]) {
    for (const b of [1, 2, 3]) {
      const batches = replacement ? tuples(b) : subsets(b);
      const steps = 2;
      // Every sequence of `steps` batches, then the gradient on one more: each sequence equally likely.
      let sum = [0, 0];
      let sumSq = 0;
      let count = 0;
      const walk = (w: number[], k: number) => {
        for (const batch of batches) {
          const g = grad(w, batch);
          if (k === steps) {
            sum = [sum[0]! + g[0]!, sum[1]! + g[1]!];
            sumSq += g[0]! ** 2 + g[1]! ** 2;
            count++;
          } else walk([w[0]! - lr * g[0]!, w[1]! - lr * g[1]!], k + 1);
        }
      };
      walk(w0, 0);
      const enumerated = sumSq / count - ((sum[0]! / count) ** 2 + (sum[1]! / count) ** 2);
      const exact = linearRegressionGradientVariance({ x, y, w0, lr, b, replacement }, steps);
      assert.ok(Math.abs(exact[steps]! - enumerated) < 1e-12 * Math.max(1, enumerated), `${replacement ? 'with' : 'without'} replacement, b=${b}: ${exact[steps]} vs ${enumerated}`);
    }
  }
});

test('the SGD temperature is Smith, Elsen & De\'s T = ε(N − B)/(B(N − 1))/(1 − m): ε times the per-example variance factor of sampling without replacement', () => {
  assert.equal(sgdTemperature(0.1, 32, 50000), (0.1 * (50000 - 32)) / (32 * 49999));
  assert.ok(Math.abs(sgdTemperature(0.1, 32, 50000, 0.9) - (10 * 0.1 * 49968) / (32 * 49999)) < 1e-15);
  assert.equal(sgdTemperature(0.5, 1000, 1000), 0, 'full batch: no noise');
  assert.equal(sgdTemperature(0.1, 32, Infinity), 0.1 / 32, 'an infinite training set: ε/B');
  for (const [lr, b, n] of [[0.1, 1, 10], [0.3, 7, 60], [2, 64, 50000]] as const) {
    assert.ok(Math.abs(sgdTemperature(lr, b, n) - lr * minibatchGradientVariance(1, b, n, false)) < 1e-15, `ε=${lr}, B=${b}, N=${n}`);
  }
});
