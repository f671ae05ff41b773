/**
 * The pruning rules against cases computed by hand from the papers' definitions: ASHA's "top 1/η of the
 * trials that reached the rung" (Li et al. 2020, Alg. 2, in its stopping form) and Golovin et al.'s
 * median of the running averages; the rungs a rule places in a run; the groups that compete.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStudy } from './schema.js';
import { expandTrials } from './trials.js';
import { pruneDecision, pruneGroup, pruneSchema, rungPoints } from './pruning.js';

const asha = (reductionFactor: number) => pruneSchema.parse({ rule: 'asha', gracePeriod: 1, reductionFactor });
const medianRule = (minTrials: number) => pruneSchema.parse({ rule: 'median', gracePeriod: 1, minTrials });

test('ASHA keeps the top ⌊n/η⌋ of the trials at a rung (itself included)', () => {
  // η = 3, six trials at rung 0: the top 2 continue. 0.75 has 0.9 and 0.8 above it (third): pruned.
  const others = [[0.5], [0.7], [0.9], [0.6], [0.8]];
  assert.equal(pruneDecision(asha(3), 'max', { rung: 0, own: [0.75], others }).prune, true);
  // 0.85 is second: continues.
  assert.equal(pruneDecision(asha(3), 'max', { rung: 0, own: [0.85], others }).prune, false);
  // Minimizing a loss, η = 2, five trials: the top 2 (smallest) continue. 0.3 is second, 0.45 third.
  const losses = [[0.2], [0.4], [0.5], [0.6]];
  assert.equal(pruneDecision(asha(2), 'min', { rung: 0, own: [0.3], others: losses }).prune, false);
  assert.equal(pruneDecision(asha(2), 'min', { rung: 0, own: [0.45], others: losses }).prune, true);
});

test('ASHA with fewer than η trials at the rung lets only the best so far continue', () => {
  assert.equal(pruneDecision(asha(3), 'max', { rung: 0, own: [0.4], others: [[0.5]] }).prune, true);
  assert.equal(pruneDecision(asha(3), 'max', { rung: 0, own: [0.6], others: [[0.5]] }).prune, false);
  // Alone at the rung: nothing to compare with, it continues.
  assert.equal(pruneDecision(asha(3), 'max', { rung: 0, own: [0.1], others: [] }).prune, false);
});

test('ASHA compares at the trial\'s rung only, with the trials that reached it', () => {
  // Rung 1: only the second trial reached it (0.2); 0.6 is the best of two at η = 2: continues, although 0.9 beat it at rung 0.
  assert.equal(pruneDecision(asha(2), 'max', { rung: 1, own: [0.5, 0.6], others: [[0.9], [0.1, 0.2]] }).prune, false);
  // A value that is not finite (a loss that diverged, stored as null/NaN) ranks last.
  assert.equal(pruneDecision(asha(2), 'min', { rung: 0, own: [NaN], others: [[5], [7]] }).prune, true);
});

test('the median rule stops a trial whose best is below the median of the others\' running averages', () => {
  // Others' running averages to rung 1: 0.6, 0.3, 0.65 → median 0.6. Best 0.5 < 0.6: stopped; best 0.62: continues.
  const others = [[0.4, 0.8], [0.2, 0.4], [0.6, 0.7]];
  assert.equal(pruneDecision(medianRule(2), 'max', { rung: 1, own: [0.3, 0.5], others }).prune, true);
  assert.equal(pruneDecision(medianRule(2), 'max', { rung: 1, own: [0.3, 0.62], others }).prune, false);
  // Its best so far counts, not its latest: 0.7 at rung 0 ≥ 0.6.
  assert.equal(pruneDecision(medianRule(2), 'max', { rung: 1, own: [0.7, 0.1], others }).prune, false);
  // Two others: averages 0.6 and 0.3, median 0.45; best 0.5 continues.
  assert.equal(pruneDecision(medianRule(2), 'max', { rung: 1, own: [0.3, 0.5], others: others.slice(0, 2) }).prune, false);
  // Losses: averages 0.4, 0.7, 1.5 → median 0.7; best 0.9 is worse: stopped.
  assert.equal(pruneDecision(medianRule(3), 'min', { rung: 1, own: [1.0, 0.9], others: [[0.5, 0.3], [0.8, 0.6], [2.0, 1.0]] }).prune, true);
});

test('the median rule waits for minTrials other trials at the rung', () => {
  const others = [[0.9, 0.9], [0.8, 0.8], [0.7]];
  // Two others reached rung 1 (the third stopped before it): minTrials 3 keeps the trial, 2 stops it.
  assert.equal(pruneDecision(medianRule(3), 'max', { rung: 1, own: [0.1, 0.1], others }).prune, false);
  assert.equal(pruneDecision(medianRule(2), 'max', { rung: 1, own: [0.1, 0.1], others }).prune, true);
});

test('rungs: ASHA at r·η^k, the median rule every interval after the grace period, both strictly inside the run', () => {
  assert.deepEqual(rungPoints(pruneSchema.parse({ rule: 'asha', gracePeriod: 1, reductionFactor: 3 }), 20), [1, 3, 9]);
  assert.deepEqual(rungPoints(pruneSchema.parse({ rule: 'asha', gracePeriod: 1, reductionFactor: 3 }), 9), [1, 3]);
  assert.deepEqual(rungPoints(pruneSchema.parse({ rule: 'median', gracePeriod: 2, every: 3 }), 10), [2, 5, 8]);
  assert.deepEqual(rungPoints(pruneSchema.parse({ rule: 'median', gracePeriod: 2 }), 7), [2, 4, 6]);
  assert.deepEqual(rungPoints(pruneSchema.parse({ rule: 'asha', gracePeriod: 1, rungs: [1, 2, 5] }), 5), [1, 2]);
});

test('trials compete in groups: the same coordinates but for the competing axes', () => {
  const rule = asha(3);
  const a = pruneGroup(rule, { batchSize: 32, 'optimizer.lr': 0.1, seed: 0 });
  assert.equal(pruneGroup(rule, { seed: 0, 'optimizer.lr': 0.2, batchSize: 32 }), a);
  assert.notEqual(pruneGroup(rule, { batchSize: 32, 'optimizer.lr': 0.1, seed: 1 }), a);
  assert.notEqual(pruneGroup(rule, { batchSize: 64, 'optimizer.lr': 0.1, seed: 0 }), a);
});

test('a study\'s prune option is checked with the field named', () => {
  const base = { name: 's', base: {}, grid: {} };
  assert.throws(() => parseStudy({ ...base, prune: { rule: 'asha', gracePeriod: 1, rungs: [2, 1] } }), /rungs/);
  assert.throws(() => parseStudy({ ...base, prune: { rule: 'hyperband', gracePeriod: 1 } }), /prune\.rule/);
  assert.throws(() => parseStudy({ ...base, prune: { rule: 'asha', gracePeriod: 1, reductionFactor: 1 } }), /reductionFactor/);
  assert.equal(parseStudy({ ...base, prune: { rule: 'asha', gracePeriod: 1 } }).prune?.reductionFactor, 4);
  const grid = { ...base, base: { model: { name: 'mlp', widths: [4] }, data: { name: 'mnist', subset: 100 }, optimizer: { name: 'sgd', lr: 0.1 }, batchSize: 10, budget: { steps: 5 } }, grid: { batchSize: [10, 20], 'optimizer.lr': [0.1, 0.2] } };
  assert.throws(() => expandTrials(parseStudy({ ...grid, prune: { rule: 'asha', gracePeriod: 1, across: ['optimiser.lr'] } }), '0'), (e: Error & { problems?: string[] }) => {
    assert.deepEqual(e.problems, ["prune.across: 'optimiser.lr' is not an axis of the grid (its axes: batchSize, optimizer.lr)"]);
    return true;
  });
  assert.equal(expandTrials(parseStudy({ ...grid, prune: { rule: 'asha', gracePeriod: 1 } }), '0').length, 4);
});
