/** The run command's progress: the ETA from this run's rate (fractions of running trials count), and trial labels. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressLog, describeCoordinates, estimateSecondsLeft } from './study-progress.js';

test('ETA: remaining work over the rate since the run started; unknown before any progress', () => {
  // 10 trials; 2 were done before this run; 60 s later 5.5 are done (3.5 this run) → 4.5 left at 3.5/60 per s.
  assert.equal(estimateSecondsLeft(60, 2, 5.5, 10), (4.5 * 60) / 3.5);
  assert.equal(estimateSecondsLeft(60, 2, 2, 10), Infinity);
  assert.equal(estimateSecondsLeft(30, 0, 10, 10), 0);
});

test('a trial is labelled by its grid coordinates, last path segment, short numbers', () => {
  assert.equal(describeCoordinates({ batchSize: 256, 'optimizer.lr': 0.1 * 3, seed: 0, budget: { epochs: 2 } }), 'batchSize=256 lr=0.3 seed=0 budget={"epochs":2}');
});

test('without a terminal: a timestamped line per finished trial or measurement, and the counts with the ETA at least every 30 s', () => {
  const lines: string[] = [];
  let t = 0;
  const log = new ProgressLog('demo', (l) => lines.push(l), () => t, () => new Date(Date.UTC(2026, 11, 2, 10, 0, t / 1000)));
  const counts = (completed: number, running: number, pending: number) => ({ completed, running, pending, diverged: 0, failed: 0, pruned: 0 });
  const measurements = { pending: 0, running: 0, completed: 0, failed: 0 };
  const worker = (step: number) => ({ slot: 0, pid: 1, rssMb: 10, doing: { type: 'trial' as const, key: 'k', coordinates: {}, step, totalSteps: 10 } });
  log.update({ phase: 'train', counts: counts(0, 1, 3), measurements, workers: [worker(0)], finished: [] });
  assert.deepEqual(lines.splice(0), ['2026-12-02T10:00:00Z demo: training: 0/4 trials done, 1 worker\n', '2026-12-02T10:00:00Z demo: train 0/4 trials | 1 running, 0 failed, 0 diverged | ETA --:--\n']);
  t = 10_000;
  log.update({ phase: 'train', counts: counts(0, 1, 3), measurements, workers: [worker(5)], finished: [] });
  assert.deepEqual(lines, [], 'nothing new within 30 s');
  t = 20_000;
  log.update({
    phase: 'train', counts: counts(1, 1, 2), measurements, workers: [worker(0)],
    finished: [{ key: 'abc', status: 'completed', coordinates: { batchSize: 64, 'optimizer.lr': 0.1 }, seconds: 19.6, testAccuracy: 0.9712, error: null, worker: 'h:1:2' }],
  });
  // 1 trial in 20 s → 3 left at 0.05 trials/s: 60 s.
  assert.deepEqual(lines.splice(0), [
    '2026-12-02T10:00:20Z demo: trial abc completed (batchSize=64 lr=0.1) in 00:20, test accuracy 97.12%\n',
    '2026-12-02T10:00:20Z demo: train 1/4 trials | 1 running, 0 failed, 0 diverged | ETA 01:00\n',
  ]);
  t = 50_000;
  log.update({ phase: 'train', counts: counts(1, 1, 2), measurements, workers: [worker(5)], finished: [] });
  assert.equal(lines.length, 1, 'a progress line 30 s after the last');
  assert.match(lines[0]!, /^2026-12-02T10:00:50Z demo: train 1\/4 trials \| 1 running/);
  assert.equal(ProgressLog.describe({ key: 'k', measurement: 'hessian', status: 'failed', coordinates: { seed: 1 }, seconds: null, testAccuracy: null, error: 'out of memory\nstack', worker: null }),
    'hessian of trial k failed (seed=1) error: out of memory');
});
