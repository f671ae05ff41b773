/** The metrics a worker streams while training equal the subsample it used to store at the end (every ⌈n/200⌉-th step, every evaluation); an evaluation of some splits gives their rows only. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricSampler } from './live-metrics.js';

const history = (steps: number) => ({
  steps: Array.from({ length: steps }, (_, i) => ({ step: i + 1, loss: 1 / (i + 1), gradNorm: i % 7, lr: 0.1, batchSize: 32 })),
  evals: [...new Set([100, 200, steps])].map((step) => ({ step, epoch: 0, train: { loss: 0.5, accuracy: 0.8, examples: 10 }, test: { loss: 0.6, accuracy: null, examples: 10 }, validation: { loss: 0.6, accuracy: 0.7, examples: 10 } })),
});

/** n → [rows, first steps, last step], counted by hand (at most 200 rows, every ⌈n/200⌉-th step from step 1). */
const handCounted: Record<number, [number, number[], number]> = {
  1: [1, [1], 1],
  150: [150, [1, 2, 3], 150],
  200: [200, [1, 2, 3], 200],
  201: [101, [1, 3, 5], 201],
  1000: [200, [1, 6, 11], 996],
  4321: [197, [1, 23, 45], 4313],
};

test('streamed in batches as training goes, the rows are every ⌈n/200⌉-th step (from the first) and every evaluation', () => {
  for (const n of [1, 150, 200, 201, 1000, 4321]) {
    const h = history(n);
    const sampler = new MetricSampler();
    const batches: ReturnType<MetricSampler['take']>[] = [];
    // As the worker drives it: the first step comes before the trainer reports its total steps.
    h.steps.forEach((m, i) => {
      sampler.step(m);
      if (i === 0) sampler.setTotalSteps(n);
      if (i % 37 === 0) batches.push(sampler.take());
      for (const e of h.evals) if (e.step === m.step) sampler.eval(e);
    });
    batches.push(sampler.take());
    const rows = batches.flat();
    const every = Math.ceil(n / 200);
    const sampledSteps = h.steps.map((m) => m.step).filter((s) => (s - 1) % every === 0);
    // By hand: the row count, the first steps and the last (n = 201: every 2nd; 1000: every 5th; 4321: every 22nd, 1 + 22·196 = 4313).
    const loss = rows.filter((r) => r.name === 'loss').map((r) => r.step);
    const [count, first, last] = handCounted[n]!;
    assert.deepEqual([loss.length, loss.slice(0, first.length), loss.at(-1)], [count, first, last], `n = ${n}: the sampled steps by hand`);
    assert.deepEqual(rows.filter((r) => r.name === 'loss').map((r) => r.step), sampledSteps, `n = ${n}: every step ≡ 1 mod ⌈n/200⌉`);
    assert.deepEqual(rows.filter((r) => r.name === 'gradNorm').map((r) => r.value), sampledSteps.map((s) => (s - 1) % 7));
    const evalSteps = h.evals.filter((e) => e.step <= n).map((e) => e.step);
    assert.deepEqual(rows.filter((r) => r.name === 'validation.accuracy').map((r) => r.step), evalSteps);
    assert.equal(rows.filter((r) => r.name === 'test.accuracy').length, 0, 'a null accuracy is not stored');
    assert.equal(new Set(rows.map((r) => `${r.name}@${r.step}`)).size, rows.length, 'no row twice');
  }
});

test('non-finite values (a diverged step) are not stored', () => {
  const sampler = new MetricSampler();
  sampler.step({ step: 1, loss: Number.NaN, gradNorm: Number.POSITIVE_INFINITY, lr: 0.1, batchSize: 32 });
  assert.deepEqual(sampler.take(), [{ step: 1, name: 'lr', value: 0.1 }]);
});

test('an evaluation of some splits (a pruning rung that continues) gives the rows of those splits only; a whole one, all of them in order', () => {
  const sampler = new MetricSampler();
  sampler.eval({ step: 40, epoch: 2, test: { loss: 0.6, accuracy: 0.75, examples: 10 } });
  sampler.eval({ step: 50, epoch: 2.5, validation: { loss: 0.5, accuracy: 0.8, examples: 10 } });
  sampler.eval({ step: 60, epoch: 3, train: { loss: 0.4, accuracy: 0.9, examples: 10 }, validation: { loss: 0.5, accuracy: 0.85, examples: 10 }, test: { loss: 0.55, accuracy: 0.8, examples: 10 } });
  assert.deepEqual(sampler.take(), [
    { step: 40, name: 'test.loss', value: 0.6 }, { step: 40, name: 'test.accuracy', value: 0.75 },
    { step: 50, name: 'validation.accuracy', value: 0.8 },
    { step: 60, name: 'train.loss', value: 0.4 }, { step: 60, name: 'test.loss', value: 0.55 }, { step: 60, name: 'train.accuracy', value: 0.9 },
    { step: 60, name: 'test.accuracy', value: 0.8 }, { step: 60, name: 'validation.accuracy', value: 0.85 },
  ]);
});
