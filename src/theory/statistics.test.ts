/** The sample statistics against hand arithmetic. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leastSquaresSlope } from './statistics.js';

test('leastSquaresSlope: the slope of points on a line, of a hand-computed scatter, NaN without two distinct x', () => {
  assert.equal(leastSquaresSlope([0, 1, 2, 3].map((x) => ({ x, y: 5 - 2 * x }))), -2);
  // x̄ = 1, ȳ = 2: Σ(x − x̄)(y − ȳ) = (−1)(−1) + 0·1 + 1·0 = 1, Σ(x − x̄)² = 2.
  assert.equal(leastSquaresSlope([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 2 }]), 0.5);
  assert.ok(Number.isNaN(leastSquaresSlope([{ x: 1, y: 1 }, { x: 1, y: 2 }])));
});
