/** Landscapes: filter-normalized directions, slices (exact on a quadratic), interpolation endpoints, and the noise scale. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import * as dataLayer from '../data/index.js';
import { makeDataset } from '../data/index.js';
import { buildModel } from '../nn/index.js';
import { evaluate, parseTrainConfig, train } from '../train/index.js';
import { NoiseScaleTracker, Objective, filterNormalizedDirection, interpolate, landscapeSlice, noiseScaleBNoise, noiseStatistics } from './index.js';

test('filter normalization: each filter of the direction has the norm of the same filter of θ; 1-D parameters get none', () => {
  const model = buildModel({ name: 'lenet5' }, { inputShape: [1, 28, 28], outputs: 10 }, new T.Generator(0));
  const params = model.parameters();
  const d = filterNormalizedDirection(params, new T.Generator(1));
  T.tidy(() => params.forEach((p, i) => {
    if (p.rank < 2) return assert.equal(d[i]!.abs().sum().item(), 0);
    const dims = Array.from({ length: p.rank - 1 }, (_, k) => k + 1);
    const want = p.norm(2, dims).toArray() as number[];
    (d[i]!.norm(2, dims).toArray() as number[]).forEach((v, f) => assert.ok(Math.abs(v - want[f]!) < 1e-5 * Math.max(1, want[f]!), `param ${i} filter ${f}`));
  }));
  T.dispose(d);
  model.dispose();
});

test('on a quadratic the slice is exactly f(θ) + ½α²·dᵀHd, and the parameters are restored', () => {
  const g = new T.Generator(2);
  const x = T.randn([100, 4], { generator: g });
  const data = makeDataset(x, x.matmul(T.tensor([1, 2, -1, 0.5])).unsqueeze(1), undefined);
  const model = buildModel({ name: 'linear-regression' }, { inputShape: [4], outputs: 1 }, g);
  T.noGrad(() => model.parameters()[0]!.copy_(T.tensor([[1, 2, -1, 0.5]])));
  const before = T.tidy(() => model.parameters()[0]!.toArray());
  const points = landscapeSlice(model, { train: data }, 'half-mse', { alphas: [-1, 0, 1, 2], seed: 3 });
  const [m1, zero, one, two] = points.map((p) => p.train.loss) as [number, number, number, number];
  assert.ok(zero < 1e-10);
  assert.ok(Math.abs(m1 - one) < 1e-5 * one, 'symmetric in α');
  assert.ok(Math.abs(two - 4 * one) < 1e-4 * two, 'quadratic in α');
  assert.deepEqual(T.tidy(() => model.parameters()[0]!.toArray()), before);
  model.dispose();
  T.dispose([data.x, data.y]);
});

test('interpolation: α = 0 and α = 1 reproduce the two endpoints', () => {
  const cfg = (seed: number) => parseTrainConfig({ model: { name: 'mlp', widths: [8], batchNorm: true }, data: { name: 'mnist', subset: 500 }, optimizer: { name: 'sgd', lr: 0.1 }, batchSize: 50, budget: { steps: 10 }, seed });
  const a = train(cfg(0));
  const b = train(cfg(1));
  const probe = train(cfg(2)).model;
  const splits = dataLayer.prepareData({ name: 'mnist', subset: 500 });
  const points = interpolate(a.model, b.model, probe, { train: splits.train }, 'cross-entropy', { alphas: [0, 1] });
  assert.ok(Math.abs(points[0]!.train.loss - evaluate(a.model, splits.train, 'cross-entropy').loss) < 1e-5);
  assert.ok(Math.abs(points[1]!.train.loss - evaluate(b.model, splits.train, 'cross-entropy').loss) < 1e-5);
  dataLayer.disposeSplits(splits);
  for (const m of [a.model, b.model, probe]) m.dispose();
});

test('B_noise on linear regression equals tr(HΣ)/(GᵀHG) from the closed-form H and per-example gradients', () => {
  const g = new T.Generator(4);
  const x = T.randn([300, 3], { generator: g }).mul(T.tensor([2, 1, 0.5]));
  const data = makeDataset(x, x.matmul(T.tensor([1, -1, 0.5])).unsqueeze(1).add(T.randn([300, 1], { generator: g })), undefined);
  const model = buildModel({ name: 'linear-regression', init: { scheme: 'normal', std: 0.3 } }, { inputShape: [3], outputs: 1 }, g);
  const objective = new Objective(model, data.x, data.y, 'half-mse');
  const r = noiseScaleBNoise(objective, { samples: 600, seed: 5 });
  T.tidy(() => {
    const w = model.parameters()[0]!.flatten();
    const H = data.x.t().matmul(data.x).div(300);
    const per = data.x.mul(data.x.matmul(w).sub(data.y.squeeze(1)).unsqueeze(1));
    const G = per.mean(0);
    const c = per.sub(G);
    const traceHSigma = c.matmul(H).mul(c).sum(1).mean().item();
    const gHg = G.dot(H.matmul(G)).item();
    assert.ok(Math.abs(r.gHg / gHg - 1) < 1e-4, `GᵀHG ${r.gHg} vs ${gHg}`);
    assert.ok(Math.abs(r.traceHSigma - traceHSigma) < 4 * r.traceHSigmaStandardError, `tr(HΣ) ${r.traceHSigma} ± ${r.traceHSigmaStandardError} vs ${traceHSigma}`);
  });
  model.dispose();
  T.dispose([data.x, data.y]);
});

test('the two-batch tracker, at fixed parameters, converges to the exact |G|² and tr Σ', () => {
  const cfg = parseTrainConfig({
    model: { name: 'mlp', widths: [16] }, data: { name: 'gaussian-classification', gaussianClassification: { dim: 5, classes: 3 }, trainSize: 400, testSize: 50 },
    optimizer: { name: 'sgd', lr: 1e-12 }, batchSize: 10, budget: { steps: 3000 }, eval: { every: 10 ** 9 },
  });
  const tracker = new NoiseScaleTracker({ smallBatch: 4, bigBatch: 64, every: 5, decay: 0.995, seed: 6, loss: 'cross-entropy' });
  const { model } = train(cfg, { hooks: tracker.hooks });
  const splits = dataLayer.prepareData(cfg.data);
  const exact = noiseStatistics(model, splits.train.x, splits.train.y, 'cross-entropy');
  const last = tracker.history.at(-1)!;
  assert.equal(tracker.history.length, 600);
  assert.ok(Math.abs(last.traceSigma / exact.traceSigma - 1) < 0.15, `tr Σ ${last.traceSigma} vs ${exact.traceSigma}`);
  assert.ok(Math.abs(last.gradNormSq / exact.gradNormSq - 1) < 0.5, `|G|² ${last.gradNormSq} vs ${exact.gradNormSq}`);
  dataLayer.disposeSplits(splits);
  model.dispose();
});
