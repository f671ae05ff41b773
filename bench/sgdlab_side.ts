/** The benchmark's workloads written with sgdlab's tensor API, as a user would write them. */
import * as T from '../src/tensor/index.js';
import { appliedNormalization, prepareData, take, type DataSplits } from '../src/data/index.js';
import { adversarialBatch, batchGradient, parseTrainConfig, train, type AttackSpec } from '../src/train/index.js';
import { Adam } from '../src/optim/index.js';
import { Objective, noiseStatistics, topEigenvalues } from '../src/measure/index.js';
import { Activation, Conv2d, Flatten, Linear, MaxPool2d, Sequential, buildModel, type Module } from '../src/nn/index.js';
import { LEARNING_RATE, type Workload } from './workloads.js';
import { medianStepMs, type TimingOptions } from './timing.js';

/** The models as nn.Sequential, like the PyTorch side (bench/pytorch_bench.py). */
function model(isCnn: boolean, g: T.Generator): Module {
  if (!isCnn) return buildModel({ name: 'mlp', widths: [512, 512] }, { inputShape: [784], outputs: 10 }, g);
  return new Sequential([
    new Conv2d(1, 32, 5, { generator: g }), new Activation('relu'), new MaxPool2d(2),
    new Conv2d(32, 64, 5, { generator: g }), new Activation('relu'), new MaxPool2d(2),
    new Flatten(), new Linear(1024, 10, { generator: g }),
  ]);
}

let mnist: DataSplits | undefined;

/** One epoch of keskar-f1 through sgdlab's trainer (its loop time, without data loading or evaluation). */
function f1EpochMs(batch: number): number {
  mnist ??= prepareData({ name: 'mnist' });
  const { result, model } = train(
    parseTrainConfig({
      model: { name: 'keskar-f1' }, data: { name: 'mnist' }, optimizer: { name: 'adam', lr: 0.001 },
      batchSize: batch, microBatchSize: batch, budget: { epochs: 1 }, seed: 0,
    }),
    { data: mnist },
  );
  model.dispose();
  return result.seconds * 1000;
}

/** Power iteration (5 fixed iterations) for the top Hessian eigenvalue of keskar-f1 on n images. */
function f1TopEigenvalueMs(n: number): number {
  mnist ??= prepareData({ name: 'mnist' });
  const model = buildModel({ name: 'keskar-f1' }, { inputShape: [1, 28, 28], outputs: 10 }, new T.Generator(0));
  const started = performance.now();
  topEigenvalues(new Objective(model, mnist.train.x, mnist.train.y, 'cross-entropy', { limit: n, chunkSize: 1000 }), { method: 'power', maxIter: 5, tol: 0 });
  const ms = performance.now() - started;
  model.dispose();
  return ms;
}

/** Per-example noise statistics of keskar-f1 on n images, and one full-data gradient for scale. */
function noiseCostMs(n: number): { noise: number; gradient: number } {
  mnist ??= prepareData({ name: 'mnist' });
  const model = buildModel({ name: 'keskar-f1' }, { inputShape: [1, 28, 28], outputs: 10 }, new T.Generator(0));
  const x = mnist.train.x.narrow(0, 0, n);
  const y = mnist.train.y.narrow(0, 0, n);
  let started = performance.now();
  noiseStatistics(model, x, y, 'cross-entropy', { chunkSize: 1000 });
  const noise = performance.now() - started;
  started = performance.now();
  T.dispose(new Objective(model, x, y, 'cross-entropy', { chunkSize: 1000 }).valueAndGradient().gradient);
  const gradient = performance.now() - started;
  T.dispose([x, y]);
  model.dispose();
  return { noise, gradient };
}

/**
 * One f and ∇f of a fresh keskar-f1 on all of MNIST's training images, batch norm by its running
 * statistics (in chunks of MEASURE_CHUNK_SIZE) or by those of batches of `bnBatch` evaluated examples.
 */
function f1ObjectiveMs(batchNorm: 'running' | 'batch', bnBatch: number): number {
  mnist ??= prepareData({ name: 'mnist' });
  const model = buildModel({ name: 'keskar-f1' }, { inputShape: [1, 28, 28], outputs: 10 }, new T.Generator(0));
  const options = batchNorm === 'batch' ? { batchNorm, batchNormBatch: bnBatch >= mnist.train.x.shape[0]! ? 'all' as const : bnBatch } : {};
  const started = performance.now();
  T.dispose(new Objective(model, mnist.train.x, mnist.train.y, 'cross-entropy', options).valueAndGradient().gradient);
  const ms = performance.now() - started;
  model.dispose();
  return ms;
}

const ATTACKS: Record<string, AttackSpec | undefined> = {
  'adversarial-none': undefined,
  'adversarial-fgsm': { attack: 'fgsm', norm: 'linf', epsilon: 0.1 },
  'adversarial-pgd3': { attack: 'pgd', norm: 'linf', epsilon: 0.1, steps: 3 },
  'adversarial-pgd7': { attack: 'pgd', norm: 'linf', epsilon: 0.1, steps: 7 },
};

/** A step of the trainer with adversarial training: the attack on the batch, then the gradient and Adam's update. */
function adversarialStepMs(w: Workload, timing: TimingOptions): number {
  mnist ??= prepareData({ name: 'mnist' });
  const data = mnist;
  const model = buildModel({ name: 'keskar-f1' }, { inputShape: [1, 28, 28], outputs: 10 }, new T.Generator(0));
  const params = model.parameters();
  const optimizer = new Adam(params, { lr: 1e-3 });
  const { x, y } = T.tidy(() => {
    const b = take(data.train, T.arange(0, w.batch));
    return { x: T.keep(b.x), y: T.keep(b.y) };
  });
  const spec = ATTACKS[w.workload];
  const space = { normalization: appliedNormalization(data), range: data.inputRange };
  const g = new T.Generator(1);
  const ms = medianStepMs(() => T.tidy(() => {
    const input = spec ? adversarialBatch(model, 'cross-entropy', x, y, spec, space, g) : x;
    optimizer.step(() => batchGradient(model, params, 'cross-entropy', input, y, w.batch).grads);
  }), timing);
  optimizer.dispose();
  model.dispose();
  T.dispose([x, y]);
  return ms;
}

/** The last noise-stats measurement's gradient time, reported in the PyTorch column. */
export let lastGradientMs = NaN;

/** Median milliseconds per step of one workload (one run of the long workloads). */
export function runSgdlab(w: Workload, timing: TimingOptions): number {
  if (w.workload === 'f1-epoch') return f1EpochMs(w.batch);
  if (w.workload === 'f1-top-eigenvalue') return f1TopEigenvalueMs(w.batch);
  if (w.workload === 'f1-objective-running') return f1ObjectiveMs('running', w.batch);
  if (w.workload === 'f1-objective-batch') return f1ObjectiveMs('batch', w.batch);
  if (w.workload === 'noise-stats') {
    const r = noiseCostMs(w.batch);
    lastGradientMs = r.gradient;
    return r.noise;
  }
  if (w.workload.startsWith('adversarial-')) return adversarialStepMs(w, timing);
  const g = new T.Generator(0);
  const isCnn = w.workload === 'cnn';
  const net = model(isCnn, g);
  const p = net.parameters();
  const x = T.keep(T.randn(isCnn ? [w.batch, 1, 28, 28] : [w.batch, 784], { generator: g }));
  const y = T.keep(T.randint(0, 10, [w.batch], { generator: g }));
  const loss = () => T.crossEntropy(net.forward(x), y);
  const v = p.map((t) => T.keep(T.randn(t.shape, { generator: g })));
  const sgdStep = () => T.tidy(() => {
    const grads = T.gradients([loss()], p);
    T.noGrad(() => T.listAdd_(p, grads, -LEARNING_RATE));
  });
  const steps: Record<'mlp' | 'cnn' | 'mlp-grad' | 'mlp-hvp', () => void> = {
    mlp: sgdStep,
    cnn: sgdStep,
    'mlp-grad': () => T.tidy(() => { T.gradients([loss()], p); }),
    'mlp-hvp': () => T.tidy(() => {
      const grads = T.gradients([loss()], p, { createGraph: true });
      T.gradients([T.listDot(grads, v)], p);
    }),
  };
  const ms = medianStepMs(steps[w.workload as keyof typeof steps], timing);
  net.dispose();
  T.dispose([...v, x, y]);
  return ms;
}
