/**
 * The best learning rate per batch size never is a pruned trial: a pruned trial's accuracy is at the
 * rung that stopped it (it may even be the grid's highest at that moment), and a learning rate with a
 * pruned seed is no candidate, as with a diverged one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestByBatchSize, parseStudy } from './index.js';
import { storedTrial as trial } from './testing.js';

const study = parseStudy({ name: 's', base: {}, grid: {}, select: 'validationAccuracy' });

test('bestByBatchSize never picks a pruned trial, nor a learning rate one of whose seeds was pruned', () => {
  // lr 0.4 (pruned) has the highest stored accuracy; lr 0.2 has one completed seed better than 0.1's, and one pruned.
  const trials = [trial(0.1, 0, 'completed', 0.8), trial(0.1, 1, 'completed', 0.78), trial(0.2, 0, 'completed', 0.9), trial(0.2, 1, 'pruned', 0.5), trial(0.4, 0, 'pruned', 0.95), trial(0.4, 1, 'pruned', 0.95)];
  const [row] = bestByBatchSize(study, trials);
  assert.equal(row!.bestLr, 0.1);
  assert.deepEqual(row!.bestTrials, ['lr0.1-s0', 'lr0.1-s1']);
  assert.deepEqual(row!.tried.map((t) => [t.lr, t.completed, t.pruned]), [[0.1, 2, 0], [0.2, 1, 1], [0.4, 0, 2]]);
});
