/** The benchmark's workloads written with sgdlab's tensor API, as a user would write them. */
import * as T from '../src/tensor/index.js';
import { prepareData, type DataSplits } from '../src/data/index.js';
import { parseTrainConfig, train } from '../src/train/index.js';
import { CNN_SHAPES, LEARNING_RATE, MLP_SHAPES, type Workload } from './workloads.js';
import { medianStepMs, type TimingOptions } from './timing.js';

function params(shapes: readonly (readonly number[])[], g: T.Generator): T.Tensor[] {
  return shapes.map((s) => T.keep(T.randn(s, { generator: g }).mul_(0.05).requiresGrad_()));
}

function mlpLoss(p: T.Tensor[], x: T.Tensor, y: T.Tensor): T.Tensor {
  const h1 = T.linear(x, p[0]!, p[1]).relu();
  const h2 = T.linear(h1, p[2]!, p[3]).relu();
  return T.crossEntropy(T.linear(h2, p[4]!, p[5]), y);
}

function cnnLoss(p: T.Tensor[], x: T.Tensor, y: T.Tensor): T.Tensor {
  const c1 = T.maxPool2d(T.conv2d(x, p[0]!, p[1]).relu(), 2);
  const c2 = T.maxPool2d(T.conv2d(c1, p[2]!, p[3]).relu(), 2);
  return T.crossEntropy(T.linear(c2.flatten(1), p[4]!, p[5]), y);
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
  const p = params(isCnn ? CNN_SHAPES : MLP_SHAPES, g);
  const x = T.keep(T.randn(isCnn ? [w.batch, 1, 28, 28] : [w.batch, 784], { generator: g }));
  const y = T.keep(T.randint(0, 10, [w.batch], { generator: g }));
  const loss = isCnn ? cnnLoss : mlpLoss;
  const v = p.map((t) => T.keep(T.randn(t.shape, { generator: g })));
  const steps: Record<Exclude<Workload['workload'], 'f1-epoch'>, () => void> = {
    mlp: () => T.tidy(() => {
      const grads = T.gradients([loss(p, x, y)], p);
      T.noGrad(() => T.listAdd_(p, grads, -LEARNING_RATE));
    }),
    cnn: () => T.tidy(() => {
      const grads = T.gradients([loss(p, x, y)], p);
      T.noGrad(() => T.listAdd_(p, grads, -LEARNING_RATE));
    }),
    'mlp-grad': () => T.tidy(() => { T.gradients([loss(p, x, y)], p); }),
    'mlp-hvp': () => T.tidy(() => {
      const grads = T.gradients([loss(p, x, y)], p, { createGraph: true });
      T.gradients([T.listDot(grads, v)], p);
    }),
  };
  const ms = medianStepMs(steps[w.workload as Exclude<Workload['workload'], 'f1-epoch'>], timing);
  T.dispose([...p, ...v, x, y]);
  return ms;
}
