/**
 * The ziyin paper size: a valid study of the intended shape (not run here: the lead runs it; its cost is
 * estimated in ziyin.ts). Each part is checked against what the claim needs: seeds, the Fig. 4b–c batch
 * sizes, Adam in the width sweep, weight decays fine around 0 with the regression's inside the window where
 * the exact optimum is negative (checked by a dense minimization of the closed form, not by that predicate).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinStudy, expandTrials, sizesOf, BUILTIN_STUDIES } from '../index.js';
import { regularized1d } from '../../theory/index.js';

test('ziyin paper: 1-D λ × S grid with 3 seeds, C along training at 7 step budgets × 5 seeds, 2-D ellipses at S = 4, 10, 50 and Fig. 4b–c at λ = 1.5 on eigenvalues 1 and 0.5, width sweep with SGD fixed, SGD ∝ 1/d and Adam at two learning rates, weight decay in regression and on all of MNIST; C measured on every trial', () => {
  assert.deepEqual(sizesOf(BUILTIN_STUDIES.find((b) => b.name === 'ziyin')!), ['smoke', 'quick', 'full', 'paper']);
  const study = builtinStudy('ziyin', 'paper');
  const trials = expandTrials(study, '0');
  const lr = (t: (typeof trials)[number]) => t.config.data.linearRegression;
  const steps = (t: (typeof trials)[number]) => (t.config.budget as { steps: number }).steps;
  const oneD = trials.filter((t) => lr(t)?.dim === 1 && (t.config.optimizer.weightDecay ?? 0) === 0 && steps(t) === 100000);
  assert.equal(oneD.length, 8 * 4 * 3);
  // C along training: 1-D trials at λ = 0.05, S = 10 cut at 1 … 1,000 steps, 5 seeds each.
  const along = trials.filter((t) => lr(t)?.dim === 1 && steps(t) < 100000);
  assert.deepEqual([...new Set(along.map((t) => `${t.config.optimizer.lr}/${String(t.config.batchSize)}`))], ['0.05/10']);
  assert.deepEqual([...new Set(along.map(steps))].sort((x, y) => x - y), [1, 3, 10, 30, 100, 300, 1000]);
  assert.equal(along.length, 7 * 5);
  assert.ok(oneD.every((t) => JSON.stringify(t.config.budget) === '{"steps":100000}' && t.config.sampling === 'fresh'));
  const twoD = trials.filter((t) => lr(t)?.dim === 2);
  assert.deepEqual(twoD.map((t) => `${t.config.optimizer.lr}/${String(t.config.batchSize)}/${t.config.seed}`).sort(), ['0.5/4', '1/10', '1/50', '1.5/10', '1.5/50'].flatMap((p) => [0, 1, 2].map((s) => `${p}/${s}`)).sort());
  // Fig. 4b–c's own setting: λ = 1.5 on an A with eigenvalues 1 and 0.5 (trace 1.5, determinant 0.5).
  const fig4 = twoD.filter((t) => t.config.optimizer.lr === 1.5).map((t) => lr(t)!.covariance as number[][]);
  assert.ok(fig4.length === 6 && fig4.every((A) => A[0]![0]! + A[1]![1]! === 1.5 && A[0]![0]! * A[1]![1]! - A[0]![1]! * A[1]![0]! === 0.5 && A[0]![1]! !== 0));
  const mlp = trials.filter((t) => t.config.model.name === 'mlp');
  const rules = new Set(mlp.map((t) => (t.config.optimizer.name === 'adam' ? `adam ${t.config.optimizer.lr}` : t.config.optimizer.lr === 0.5 ? 'sgd 0.5' : `sgd ${t.config.optimizer.lr * t.config.model.widths![0]!}`)));
  assert.deepEqual([...rules].sort(), ['adam 0.001', 'adam 0.01', 'sgd 0.5', 'sgd 50']);
  // At d = 100 the rule λ = 50/d is λ = 0.5: one trial per seed, not two.
  assert.equal(mlp.length, 6 * 4 * 3 - 3);
  assert.deepEqual([...new Set(mlp.map((t) => t.config.model.widths![0]))], [50, 100, 200, 400, 800, 1600]);
  // Logistic regression on all 60,000 images, pixels in [0, 1], λ = 1.5, S = 32: γ symmetric about 0 and 5 seeds each.
  const mnist = trials.filter((t) => t.config.model.name === 'logistic-regression');
  assert.ok(mnist.every((t) => t.config.data.subset === undefined && t.config.data.normalize === false && t.config.optimizer.lr === 1.5 && t.config.batchSize === 32));
  const gammas = [...new Set(mnist.map((t) => t.config.optimizer.weightDecay!))].sort((a, b) => a - b);
  assert.deepEqual(gammas, gammas.map((g) => -g).reverse().map((g) => g + 0), 'symmetric about 0');
  assert.ok(gammas.includes(0) && gammas.filter((g) => g < 0).length >= 4);
  assert.ok(gammas.every((g) => mnist.filter((t) => t.config.optimizer.weightDecay === g).length === 5));
  // Regression with weight decay at λ = 1.5, S = 32, a = 1 (its γ = 0 points are the 1-D grid's): the exact optimum,
  // by a dense scan of the closed form, is negative and inside the grid, and γ = 0 is in it too.
  const decayed = trials.filter((t) => lr(t)?.dim === 1 && (t.config.optimizer.weightDecay ?? 0) !== 0);
  assert.ok(decayed.every((t) => steps(t) === 100000));
  assert.ok(decayed.every((t) => t.config.optimizer.lr === 1.5 && t.config.batchSize === 32 && lr(t)!.covariance?.[0] === 1));
  const grid = [0, ...new Set(decayed.map((t) => t.config.optimizer.weightDecay!))].sort((a, b) => a - b);
  const scan = Array.from({ length: 2001 }, (_, i) => -0.5 + i * 0.0005).map((g) => ({ g, loss: regularized1d({ a: 1, noiseVariance: 1, teacher: 1, batchSize: 32, learningRate: 1.5, weightDecay: g }).testLoss }));
  const optimum = scan.reduce((x, y) => (y.loss < x.loss ? y : x)).g;
  assert.ok(optimum < 0 && optimum > grid[0]! && optimum < grid[grid.length - 1]!, `optimum ${optimum} within ${grid.join(', ')}`);
  assert.ok(oneD.some((t) => t.config.optimizer.lr === 1.5 && t.config.batchSize === 32), 'the γ = 0 point');
  assert.deepEqual([study.measure!.trials, study.measure!.what, study.measure!.subset, study.measure!.hessian], ['all', ['noise', 'hessian'], 4000, { topK: 1, method: 'lanczos', maxIter: 10, traceProbes: 30 }]);
  assert.ok(trials.filter((t) => t.config.data.name === 'linear-regression').every((t) => t.config.data.trainSize === 4000), 'the examples C is measured over');
  assert.equal(trials.length, 96 + 35 + 15 + decayed.length + 69 + mnist.length);
});
