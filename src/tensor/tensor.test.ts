/** Creation from JavaScript data, export back, queries, and dtype handling. */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from './index.js';

test('nested arrays give the shape; numbers default to float32, booleans to bool', () => {
  T.tidy(() => {
    const t = T.tensor([[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(t.shape, [2, 3]);
    assert.equal(t.dtype, 'float32');
    assert.equal(t.device, 'cpu');
    assert.equal(t.numel, 6);
    assert.deepEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]]);
    assert.equal(T.tensor([true, false]).dtype, 'bool');
    assert.deepEqual(T.tensor([true, false]).toArray(), [true, false]);
    assert.deepEqual(T.tensor(3.5).shape, []);
    assert.equal(T.tensor(3.5).item(), 3.5);
  });
});

test('every dtype round-trips through its TypedArray', () => {
  T.tidy(() => {
    const values = [0, 1, 2, 250];
    for (const dtype of T.DTYPES) {
      const t = T.tensor(values, { dtype });
      assert.equal(t.dtype, dtype);
      const expected = dtype === 'bool' ? [false, true, true, true] : values;
      assert.deepEqual(t.toArray(), expected, dtype);
    }
    assert.ok(T.tensor([1], { dtype: 'int64' }).data() instanceof BigInt64Array);
    assert.ok(T.tensor(new Int32Array([1, 2])).dtype === 'int32');
    const f64 = T.tensor(new Float64Array([0.1, 0.2, 0.3, 0.4]), { shape: [2, 2] });
    assert.deepEqual(f64.toArray(), [[0.1, 0.2], [0.3, 0.4]]);
    assert.throws(() => T.tensor([1.5], { dtype: 'int64' }), /not an integer/);
  });
});

test('data() copies; dataView() shares memory with the tensor', () => {
  T.tidy(() => {
    const t = T.zeros([3]);
    const copy = t.data() as Float32Array;
    copy[0] = 5;
    assert.equal(t.sum().item(), 0);
    const view = t.dataView() as Float32Array;
    view[1] = 7;
    assert.equal(t.sum().item(), 7);
    t.add_(1);
    assert.deepEqual(Array.from(view), [1, 8, 1]);
    assert.throws(() => t.expand([2, 3]).dataView(), /only a contiguous CPU tensor/);
  });
});

test('views share storage; clone does not', () => {
  T.tidy(() => {
    const t = T.zeros([2, 2]);
    const v = t.view([4]);
    const c = t.clone();
    T.noGrad(() => v.fill_(3));
    assert.equal(t.sum().item(), 12);
    assert.equal(c.sum().item(), 0);
  });
});

test('integral JavaScript numbers promote as Python ints, fractional as floats', () => {
  T.tidy(() => {
    const i = T.tensor([1, 2], { dtype: 'int64' });
    assert.equal(i.mul(2).dtype, 'int64');
    assert.equal(i.mul(0.5).dtype, 'float32');
    assert.equal(i.div(2).dtype, 'float32'); // true division, as torch.div
  });
});

test('ranges and constants', () => {
  T.tidy(() => {
    assert.deepEqual(T.arange(4).toArray(), [0, 1, 2, 3]);
    assert.equal(T.arange(4).dtype, 'int64');
    assert.deepEqual(T.full([2], 7).toArray(), [7, 7]);
    assert.deepEqual(T.onesLike(T.zeros([2], { dtype: 'float64' })).dtype, 'float64');
    assert.deepEqual(T.eye(2).toArray(), [[1, 0], [0, 1]]);
    assert.equal(T.randn([3], { requiresGrad: true }).requiresGrad, true);
  });
});

test('to() converts dtype; a no-op conversion keeps the values', () => {
  T.tidy(() => {
    const t = T.tensor([1.7, -1.2]);
    assert.deepEqual(t.to('int32').toArray(), [1, -1]);
    assert.equal(t.double().dtype, 'float64');
    assert.deepEqual(t.to({ device: 'cpu' }).toArray(), t.toArray());
  });
});

test('threads default to one per process and can be changed', () => {
  assert.equal(T.getNumThreads(), Number(process.env.SGDLAB_NUM_THREADS ?? 1));
  T.setNumThreads(2);
  assert.equal(T.getNumThreads(), 2);
  T.setNumThreads(1);
  assert.throws(() => T.setNumThreads(0), /positive integer/);
  assert.match(T.libtorchVersion(), /^\d+\.\d+\.\d+/);
});

test('a number operand is never mistaken for a live tensor handle', () => {
  T.tidy(() => {
    // Handles are small integers; make sure ids 0..20 are live tensors holding 100.
    const decoys = Array.from({ length: 20 }, () => T.full([3], 100));
    const x = T.ones([3]);
    assert.deepEqual(x.add(1).toArray(), [2, 2, 2]);
    assert.deepEqual(x.mul(2).toArray(), [2, 2, 2]);
    assert.deepEqual(T.where(x.gt(0), 5, 6).toArray(), [5, 5, 5]);
    assert.deepEqual(x.clone().add_(3).toArray(), [4, 4, 4]);
    assert.equal(decoys.length, 20);
  });
});
