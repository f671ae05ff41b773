/** toString() against str(tensor) from PyTorch (fixtures/format.json). */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from './index.js';
import { decode, readFixture, type EncodedTensor } from './testing.js';

const fixture = readFixture<{ torch: string; cases: Record<string, { tensor: EncodedTensor; requires_grad: boolean; str: string }> }>(import.meta.url, 'fixtures/format.json');

describe(`toString matches PyTorch ${fixture.torch}`, () => {
  for (const [name, c] of Object.entries(fixture.cases)) {
    test(name, () => {
      T.tidy(() => {
        const t = decode(c.tensor);
        if (c.requires_grad) t.requiresGrad_();
        assert.equal(t.toString(), c.str);
      });
    });
  }
});

test('a result of an op prints its grad_fn', () => {
  T.tidy(() => {
    const w = T.tensor([1, 2]).requiresGrad_();
    assert.equal(w.mul(w).toString(), 'tensor([1., 4.], grad_fn=<MulBackward0>)');
  });
});

test('a disposed tensor prints as such instead of failing', () => {
  const t = T.zeros([2]);
  t.dispose();
  assert.equal(String(t), 'tensor(<disposed>)');
});
