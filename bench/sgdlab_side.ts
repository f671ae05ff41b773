/** The benchmark's workloads written with sgdlab's tensor API, as a user would write them. */
import * as T from '../src/tensor/index.js';
import { prepareData, type DataSplits } from '../src/data/index.js';
import { parseTrainConfig, train } from '../src/train/index.js';
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

/** Median milliseconds per step of one workload (per epoch for f1-epoch). */
export function runSgdlab(w: Workload, timing: TimingOptions): number {
  if (w.workload === 'f1-epoch') return f1EpochMs(w.batch);
  const g = new T.Generator(0);
  const isCnn = w.workload === 'cnn';
  const net = model(isCnn, g);
  const p = net.parameters();
  const x = T.keep(T.randn(isCnn ? [w.batch, 1, 28, 28] : [w.batch, 784], { generator: g }));
  const y = T.keep(T.randint(0, 10, [w.batch], { generator: g }));
  const loss = (_: T.Tensor[], xs: T.Tensor, ys: T.Tensor) => T.crossEntropy(net.forward(xs), ys);
  const v = p.map((t) => T.keep(T.randn(t.shape, { generator: g })));
  const sgdStep = () => T.tidy(() => {
    const grads = T.gradients([loss(p, x, y)], p);
    T.noGrad(() => T.listAdd_(p, grads, -LEARNING_RATE));
  });
  const steps: Record<Exclude<Workload['workload'], 'f1-epoch'>, () => void> = {
    mlp: sgdStep,
    cnn: sgdStep,
    'mlp-grad': () => T.tidy(() => { T.gradients([loss(p, x, y)], p); }),
    'mlp-hvp': () => T.tidy(() => {
      const grads = T.gradients([loss(p, x, y)], p, { createGraph: true });
      T.gradients([T.listDot(grads, v)], p);
    }),
  };
  const ms = medianStepMs(steps[w.workload as Exclude<Workload['workload'], 'f1-epoch'>], timing);
  net.dispose();
  T.dispose([...v, x, y]);
  return ms;
}
