/**
 * The smith paper size (Smith, Elsen & De 2020's four claims on all of Fashion-MNIST): a valid study of the
 * intended shape, checked against the protocol as the issue states it, not against the size's own constants.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scheduleFactor } from '../../optim/schedule.js';
import { builtinStudy, expandTrials, seriesOf, type Trial } from '../index.js';

const log2 = (x: number) => Math.log2(x);
const sorted = (xs: Iterable<number>) => [...new Set(xs)].sort((a, b) => a - b);

test('smith paper: constant epochs B = 16 … 4,096 with and without momentum at the same ε/(1 − m), constant steps, epoch budgets over 128× at B = 64, 3 seeds, the paper\'s schedule', () => {
  const study = builtinStudy('smith', 'paper');
  const trials = expandTrials(study, '0');
  assert.equal(study.prune, undefined, 'no pruning: the training-loss optimum of claim 3 must run to the end');
  for (const t of trials) {
    assert.deepEqual(t.config.data, { ...t.config.data, name: 'fashion-mnist', validation: 5000 });
    assert.equal(t.config.data.subset, undefined, 'all 60,000 training images, 5,000 held out');
    assert.deepEqual([t.config.model.name, t.config.model.widths, t.config.model.ghostBatchSize], ['mlp', [256, 256], 64]);
    assert.deepEqual([t.config.optimizer.name, t.config.optimizer.weightDecay], ['sgd', 5e-4]);
    // Smith et al.: constant for the first half, then halved every twentieth: ×2⁻¹⁰ at the end.
    const total = 1000;
    assert.deepEqual([0, 499, 500, 549, 550, 999].map((s) => scheduleFactor(t.config.schedule, t.config.warmup, s, total)), [1, 1, 0.5, 0.5, 0.25, 2 ** -10]);
  }
  const group = (f: (t: Trial) => boolean) => trials.filter(f);
  const epochsOf = (t: Trial) => (t.config.budget as { epochs?: number }).epochs;
  const stepsOf = (t: Trial) => (t.config.budget as { steps?: number }).steps;
  const momentum = (t: Trial) => t.config.optimizer.momentum ?? 0;
  // Every (B, budget, momentum, ε) has seeds 0, 1, 2.
  const cells = new Map<string, number[]>();
  for (const t of trials) {
    const k = JSON.stringify([t.config.batchSize, t.config.budget, momentum(t), t.config.optimizer.lr]);
    cells.set(k, [...(cells.get(k) ?? []), t.config.seed]);
  }
  assert.ok([...cells.values()].every((s) => sorted(s).join() === '0,1,2'), 'three seeds at every grid point');

  // 1. Constant epochs: B = 16 … 4,096 in factors of 4, ε in factors of 2, every B on the same grid.
  const c1 = group((t) => momentum(t) === 0.9 && epochsOf(t) === 4);
  assert.deepEqual(sorted(c1.map((t) => Number(t.config.batchSize))), [16, 64, 256, 1024, 4096]);
  const lrsAt = (b: number) => sorted(c1.filter((t) => t.config.batchSize === b).map((t) => t.config.optimizer.lr));
  const lrs = lrsAt(256);
  assert.deepEqual(lrs.map(log2), Array.from({ length: 12 }, (_, i) => i - 10));
  assert.deepEqual(lrsAt(1024), lrs);
  assert.deepEqual(lrsAt(4096), lrs);
  // B = 16 reaches down to 2⁻¹² (its measured top is flat near 2⁻⁹); B = 64 also has claim 3's 2⁻¹¹ at 4 epochs (one series, one group).
  assert.deepEqual(lrsAt(16), [2 ** -12, 2 ** -11, ...lrs]);
  assert.deepEqual(lrsAt(64), [2 ** -11, ...lrs]);
  // Wide enough: 3 factors of 2 beyond the quick size's optima at 2 epochs (0.0125 at B = 16 … 0.2 at 1,024; docs/REPRODUCTIONS.md).
  assert.ok(lrs[0]! <= 0.0125 / 8 && lrs.at(-1)! >= 0.2 * 8);

  // 4. SGD at the same effective learning rates ε/(1 − m) as claim 1's momentum 0.9.
  const c4 = group((t) => momentum(t) === 0 && epochsOf(t) === 4);
  assert.deepEqual(sorted(c4.map((t) => Number(t.config.batchSize))), [16, 64, 256, 1024, 4096]);
  const effective = sorted(c4.filter((t) => t.config.batchSize === 256).map((t) => t.config.optimizer.lr));
  assert.equal(effective.length, lrs.length);
  effective.forEach((lr, i) => assert.ok(Math.abs(lr - lrs[i]! / (1 - 0.9)) < 1e-9 * lr, `${lr} vs ${lrs[i]! / 0.1}`));
  for (const b of [64, 1024, 4096]) assert.deepEqual(sorted(c4.filter((t) => t.config.batchSize === b).map((t) => t.config.optimizer.lr)), effective);
  const sgd16 = sorted(c4.filter((t) => t.config.batchSize === 16).map((t) => t.config.optimizer.lr));
  lrsAt(16).forEach((lr, i) => assert.ok(Math.abs(sgd16[i]! - lr / (1 - 0.9)) < 1e-9 * sgd16[i]!));

  // 2. Constant steps: the smallest B sees the 55,000 training images at least twice; B up to 4,096; 9 values of ε at each B.
  const c2 = group((t) => stepsOf(t) !== undefined);
  const sizes = sorted(c2.map((t) => Number(t.config.batchSize)));
  assert.deepEqual(sizes, [64, 256, 1024, 4096]);
  assert.ok((stepsOf(c2[0]!)! * sizes[0]!) / 55000 >= 2);
  for (const b of sizes) assert.equal(sorted(c2.filter((t) => t.config.batchSize === b).map((t) => log2(t.config.optimizer.lr))).length, 9);

  // 3. Epoch budgets at B = 64 over 128×, in factors of 2, on one grid of ε that reaches below claim 1's.
  const c3 = group((t) => t.config.batchSize === 64 && momentum(t) === 0.9 && epochsOf(t) !== undefined);
  const budgets = sorted(c3.map((t) => epochsOf(t)!));
  assert.deepEqual(budgets, [0.25, 0.5, 1, 2, 4, 8, 16, 32]);
  assert.equal(budgets.at(-1)! / budgets[0]!, 128);
  assert.deepEqual(sorted(c3.filter((t) => epochsOf(t) === 32).map((t) => log2(t.config.optimizer.lr))), Array.from({ length: 10 }, (_, i) => i - 11));

  // Two series (momentum 0.9 and 0): claim 1's B = 64 runs at 4 epochs are claim 3's, run once.
  assert.deepEqual([...new Set(trials.map((t) => seriesOf(t.coordinates)))].sort(), ['momentum=0', 'momentum=0.9']);
  assert.equal(trials.length, 2 * (180 + 2 * 3) + 4 * 9 * 3 + (10 * 8 * 3 - 9 * 3));
});
