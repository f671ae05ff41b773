/** The run command's progress: the ETA from this run's rate (fractions of running trials count), and trial labels. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeCoordinates, estimateSecondsLeft } from './study-progress.js';

test('ETA: remaining work over the rate since the run started; unknown before any progress', () => {
  // 10 trials; 2 were done before this run; 60 s later 5.5 are done (3.5 this run) → 4.5 left at 3.5/60 per s.
  assert.equal(estimateSecondsLeft(60, 2, 5.5, 10), (4.5 * 60) / 3.5);
  assert.equal(estimateSecondsLeft(60, 2, 2, 10), Infinity);
  assert.equal(estimateSecondsLeft(30, 0, 10, 10), 0);
});

test('a trial is labelled by its grid coordinates, last path segment, short numbers', () => {
  assert.equal(describeCoordinates({ batchSize: 256, 'optimizer.lr': 0.1 * 3, seed: 0, budget: { epochs: 2 } }), 'batchSize=256 lr=0.3 seed=0 budget={"epochs":2}');
});
