/** Deterministic memory release: tidy, keep, dispose, memory(), and a long loop that must not grow. */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as T from './index.js';

// A real collection before each reading of the resident set (without it, garbage the loop left
// behind and has not yet been collected would hide or fake growth): expose V8's gc to this file.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const live = () => T.memory().numTensors;

test('tidy frees intermediates and hands the result to the caller', () => {
  const before = live();
  const y = T.tidy(() => {
    const x = T.ones([10]);
    return x.mul(2).add(1).sum();
  });
  assert.equal(live(), before + 1);
  assert.equal(y.item(), 30);
  y.dispose();
  assert.equal(live(), before);
});

test('tidy keeps tensors found in returned arrays and objects', () => {
  const before = live();
  const out = T.tidy(() => {
    const a = T.ones([2]);
    const b = T.zeros([3]);
    T.ones([4]); // dropped
    return { pair: [a, b], label: 'x' };
  });
  assert.equal(live(), before + 2);
  T.dispose(out.pair);
  assert.equal(live(), before);
});

test('nested tidy: inner results survive into the outer scope until it closes', () => {
  const before = live();
  T.tidy(() => {
    const inner = T.tidy(() => T.ones([3]).mul(3));
    assert.equal(inner.isDisposed, false);
    assert.equal(inner.sum().item(), 9);
    return undefined;
  });
  assert.equal(live(), before);
});

test('keep() exempts a tensor from every enclosing scope', () => {
  const before = live();
  let kept: T.Tensor | undefined;
  T.tidy(() => {
    T.tidy(() => {
      kept = T.keep(T.ones([5]));
    });
  });
  assert.equal(kept!.isDisposed, false);
  assert.equal(live(), before + 1);
  kept!.dispose();
  assert.equal(live(), before);
});

test('a throwing function still frees what it created', () => {
  const before = live();
  assert.throws(() =>
    T.tidy(() => {
      T.ones([100]);
      throw new Error('boom');
    }),
  /boom/);
  assert.equal(live(), before);
});

test('dispose twice is a no-op; using a disposed tensor fails clearly', () => {
  const t = T.ones([3]);
  t.dispose();
  t.dispose();
  assert.equal(t.isDisposed, true);
  assert.throws(() => t.add(1), /disposed/);
  assert.throws(() => T.ones([3]).add(t), /'other' was disposed/);
});

test('memory() counts distinct storages once: a view adds a tensor but no bytes', () => {
  T.tidy(() => {
    const base = T.memory();
    const x = T.zeros([1000]);
    const afterX = T.memory();
    assert.equal(afterX.numTensors, base.numTensors + 1);
    assert.equal(afterX.numBytes, base.numBytes + 4000);
    x.reshape([10, 100]);
    const afterView = T.memory();
    assert.equal(afterView.numTensors, base.numTensors + 2);
    assert.equal(afterView.numBytes, afterX.numBytes);
  });
});

test('tidy rejects async functions rather than freeing too early', () => {
  assert.throws(() => T.tidy((async () => T.ones([1])) as unknown as () => T.Tensor), /synchronous/);
});

test('20,000 optimizer-like steps keep tensors and resident memory flat', () => {
  const g = new T.Generator(0);
  const w = T.keep(T.randn([256, 64], { generator: g }).requiresGrad_());
  const momentum = T.keep(T.zeros([256, 64]));
  const x = T.keep(T.randn([32, 256], { generator: g }));
  const step = () =>
    T.tidy(() => {
      const loss = x.matmul(w).tanh().square().mean();
      const [grad] = T.gradients([loss], [w]);
      T.noGrad(() => {
        momentum.mul_(0.9).add_(grad!);
        w.sub_(momentum, 1e-3);
      });
    });
  for (let i = 0; i < 2000; i++) step(); // warm up allocator and JIT
  gc();
  const tensorsBefore = live();
  const rssBefore = process.memoryUsage().rss;
  for (let i = 0; i < 20000; i++) step();
  gc();
  const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  assert.equal(live(), tensorsBefore, 'live tensors changed');
  assert.ok(rssGrowthMb < 20, `resident memory grew by ${rssGrowthMb.toFixed(1)} MB over 20,000 steps`);
  T.dispose([w, momentum, x]);
});
