/** Samplers: reshuffling yields permutations, replacement draws uniform indices. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { RandomReshuffling, WithReplacement } from './sampler.js';

test('each epoch of random reshuffling is a permutation, and epochs differ', () => {
  const s = new RandomReshuffling(100, 10, true, new T.Generator(0));
  const epochs: number[][] = [];
  for (let e = 0; e < 3; e++) {
    const seen: number[] = [];
    for (let k = 0; k < s.stepsPerEpoch; k++) T.tidy(() => seen.push(...(s.next().toArray() as number[])));
    epochs.push(seen);
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  }
  assert.notDeepEqual(epochs[0], epochs[1]);
  s.dispose();
});

test('dropLast drops the partial batch; without it the last batch is short', () => {
  const dropping = new RandomReshuffling(25, 10, true, new T.Generator(0));
  const keeping = new RandomReshuffling(25, 10, false, new T.Generator(0));
  assert.equal(dropping.stepsPerEpoch, 2);
  assert.equal(keeping.stepsPerEpoch, 3);
  const sizes = [0, 1, 2].map(() => T.tidy(() => keeping.next().numel));
  assert.deepEqual(sizes, [10, 10, 5]);
  dropping.dispose();
  keeping.dispose();
});

test('sampling with replacement is uniform (chi-square test, p = 0.001)', () => {
  const s = new WithReplacement(10, 100, new T.Generator(1));
  const counts = new Array<number>(10).fill(0);
  for (let k = 0; k < 200; k++) T.tidy(() => (s.next().toArray() as number[]).forEach((i) => counts[i]!++));
  const expected = 2000;
  const chi2 = counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
  assert.ok(chi2 < 27.88, `χ² = ${chi2.toFixed(2)} over 9 degrees of freedom; counts ${counts.join(', ')}`);
  // With replacement, a batch of 100 from 10 items must repeat indices.
  T.tidy(() => assert.ok(new Set(s.next().toArray() as number[]).size < 100));
});
