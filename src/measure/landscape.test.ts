/** Landscapes: filter-normalized directions, slices (exact on a quadratic), interpolation endpoints, and the noise scale. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import * as dataLayer from '../data/index.js';
import { makeDataset } from '../data/index.js';
import { batchNormLayers, buildModel, recomputeBatchNormStatistics, type Module } from '../nn/index.js';
import { assertClose, readFixture } from '../tensor/testing.js';
import { sampleStatistics } from '../theory/index.js';
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
  const { points, cost } = landscapeSlice(model, { train: data }, 'half-mse', { alphas: [-1, 0, 1, 2], seed: 3 });
  assert.deepEqual([cost.lossEvaluations, cost.examples], [4, 400]);
  const [m1, zero, one, two] = points.map((p) => p.train.loss) as [number, number, number, number];
  assert.ok(zero < 1e-10);
  assert.ok(Math.abs(m1 - one) < 1e-5 * one, 'symmetric in α');
  assert.ok(Math.abs(two - 4 * one) < 1e-4 * two, 'quadratic in α');
  assert.deepEqual(T.tidy(() => model.parameters()[0]!.toArray()), before);
  model.dispose();
  T.dispose([data.x, data.y]);
});

interface BatchNormFixture {
  x: number[]; xShape: number[]; y: number[]; subset: number; batchSize: number; seed: number;
  a: Record<string, { shape: number[]; data: number[] }>; b: Record<string, { shape: number[]; data: number[] }>;
  paths: Record<'linear' | 'curved', { alpha: number; loss: number; mixedBuffersLoss: number | null; statistics: Record<string, number[]> }[]>;
}
const bnFixture = readFixture<BatchNormFixture>(import.meta.url, 'fixtures/batchnorm-recompute.json');
const bnSpec = { name: 'mlp' as const, widths: [8, 8], batchNorm: true };

/** A model of the fixture's architecture holding one of its state dicts. */
function fixtureModel(state?: BatchNormFixture['a']): Module {
  const m = buildModel(bnSpec, { inputShape: [6], outputs: 3 }, new T.Generator(0));
  if (state) {
    const tensors = new Map(Object.entries(state).map(([k, v]) => [k, T.tensor(v.data, { shape: v.shape, dtype: k.endsWith('num_batches_tracked') ? 'int64' : 'float32' })]));
    m.loadStateDict(tensors);
    T.dispose([...tensors.values()]);
  }
  return m;
}

test('interpolation through batch norm recomputes the statistics at every point exactly as PyTorch\'s update_bn, on both paths, extrapolation included', () => {
  const a = fixtureModel(bnFixture.a);
  const b = fixtureModel(bnFixture.b);
  const probe = fixtureModel();
  const data = makeDataset(T.tensor(bnFixture.x, { shape: bnFixture.xShape }), T.tensor(bnFixture.y, { dtype: 'int64' }), 3);
  for (const path of ['linear', 'curved'] as const) {
    const want = bnFixture.paths[path];
    const r = interpolate(a, b, probe, { train: data }, 'cross-entropy', { alphas: want.map((p) => p.alpha), curved: path === 'curved', batchNormExamples: bnFixture.subset, batchNormBatchSize: bnFixture.batchSize, seed: bnFixture.seed });
    assert.deepEqual(r.batchNorm, { mode: 'recompute', examples: bnFixture.subset, batchSize: bnFixture.batchSize, layers: 2 });
    // The eval-mode loss's conditioning: batch norm divides its inputs' float32 rounding (√8·u·|h|, 8-term
    // sums of O(1) values, ≈ 2e-7) by √(v + eps) ≥ 0.04 (the smallest recomputed variance, 0.0016, at the
    // extrapolated points: 25×), ≈ 5e-6 at worst in the logits and, through cross-entropy (|ΔL| ≤ 2L·‖Δz‖∞,
    // the bound of src/train/pytorch.test.ts), relative to the loss L ≈ 1: rtol 1e-5. The statistics: n ≤ 64
    // examples' sums, √64·u ≈ 5e-7 relative, well within rtol 1e-5 / atol 1e-6. None of these is a sign or a
    // tie: the mixed variances that come out negative (NaN) are ≥ 0.07 from zero (checked below).
    r.points.forEach((p, i) => {
      assert.ok(Math.abs(p.train.loss - want[i]!.loss) < 1e-5 * want[i]!.loss, `${path} α=${p.alpha}: loss ${p.train.loss} vs PyTorch ${want[i]!.loss}`);
    });
    // The statistics themselves, at the last α (the probe holds the last point).
    const state = probe.stateDict();
    for (const [name, values] of Object.entries(want.at(-1)!.statistics)) {
      assertClose(state.get(name)!, T.tensor(values), { rtol: 1e-5, atol: 1e-6 });
    }
    // The old way: the endpoints' buffers mixed like the weights — NaN wherever PyTorch's mixed variance went negative.
    const mixed = interpolate(a, b, probe, { train: data }, 'cross-entropy', { alphas: want.map((p) => p.alpha), curved: path === 'curved', batchNorm: 'interpolate' });
    mixed.points.forEach((p, i) => {
      const ref = want[i]!.mixedBuffersLoss;
      // NaN or not is the sign of the mixed running variances ca·v_a + cb·v_b: determined only away from zero
      // (float64 weights cos/sin, e.g. cos(π/2) = 6e-17 rather than 0, and float32 buffers: ≈ 1e-7).
      const ca = path === 'curved' ? Math.cos((p.alpha * Math.PI) / 2) : 1 - p.alpha;
      const cb = path === 'curved' ? Math.sin((p.alpha * Math.PI) / 2) : p.alpha;
      for (const key of Object.keys(bnFixture.a).filter((k) => k.endsWith('running_var'))) {
        bnFixture.a[key]!.data.forEach((va, j) => {
          const v = ca * va + cb * bnFixture.b[key]!.data[j]!;
          assert.ok(Math.abs(v) > 1e-3, `${path} α=${p.alpha}: mixed ${key}[${j}] = ${v} is too close to 0 for its sign to be determined`);
        });
      }
      if (ref === null) assert.ok(Number.isNaN(p.train.loss), `${path} α=${p.alpha}: mixed buffers should give NaN, got ${p.train.loss}`);
      else assert.ok(Math.abs(p.train.loss - ref) < 1e-5 * ref, `${path} α=${p.alpha}: mixed-buffer loss ${p.train.loss} vs PyTorch ${ref}`);
    });
  }
  for (const m of [a, b, probe]) m.dispose();
  T.dispose([data.x, data.y]);
});

test('the recomputed statistics equal a direct train-mode computation over the same examples (one batch: its mean and unbiased variance)', () => {
  const model = fixtureModel(bnFixture.a);
  const x = T.tensor(bnFixture.x, { shape: bnFixture.xShape });
  const before = T.tidy(() => model.parameters().map((p) => p.toArray()));
  const r = recomputeBatchNormStatistics(model, x, { batchSize: x.shape[0]! });
  assert.deepEqual(r, { layers: 2, examples: 96, batches: 1 });
  assert.equal(model.training, true, 'the mode is restored');
  T.tidy(() => {
    // By hand: Linear → batch statistics → normalize (biased variance) → ReLU → Linear → batch statistics.
    const s = new Map(Object.entries(bnFixture.a).map(([k, v]) => [k, T.tensor(v.data, { shape: v.shape })]));
    const h1 = x.matmul(s.get('1.weight')!.t()).add(s.get('1.bias')!);
    const normalized = h1.sub(h1.mean(0)).div(h1.var(0, { correction: 0 }).add(1e-5).sqrt()).mul(s.get('2.weight')!).add(s.get('2.bias')!).relu();
    const h2 = normalized.matmul(s.get('4.weight')!.t()).add(s.get('4.bias')!);
    const state = model.stateDict();
    assertClose(state.get('2.running_mean')!, h1.mean(0), { rtol: 1e-5, atol: 1e-6 });
    assertClose(state.get('2.running_var')!, h1.var(0), { rtol: 1e-5, atol: 1e-6 });
    assertClose(state.get('5.running_mean')!, h2.mean(0), { rtol: 1e-4, atol: 1e-5 });
    assertClose(state.get('5.running_var')!, h2.var(0), { rtol: 1e-4, atol: 1e-5 });
    assert.equal(state.get('2.num_batches_tracked')!.item(), 1);
  });
  assert.deepEqual(T.tidy(() => model.parameters().map((p) => p.toArray())), before, 'the weights are untouched');
  model.dispose();
  x.dispose();
});

test('F1 (keskar-f1, batch norm) at α = −1 and 2 on both paths: finite losses; with mixed buffers, NaN', () => {
  const io = { inputShape: [1, 28, 28], outputs: 10 };
  const endpoint = (seed: number, variance: number) => {
    const m = buildModel({ name: 'keskar-f1' }, io, new T.Generator(seed));
    // Running variances as after training at two batch sizes: mixing them with α = 2 gives 2·0.25 − 1 < 0.
    T.noGrad(() => batchNormLayers(m).forEach((l) => l.runningVar.fill_(variance)));
    return m;
  };
  const a = endpoint(0, 1);
  const b = endpoint(1, 0.25);
  const probe = buildModel({ name: 'keskar-f1' }, io, new T.Generator(2));
  const splits = dataLayer.prepareData({ name: 'mnist', subset: 600 });
  for (const curved of [false, true]) {
    const r = interpolate(a, b, probe, { train: splits.train, test: splits.test }, 'cross-entropy', { alphas: [-1, 2], curved, batchNormExamples: 512, limit: 500 });
    for (const p of r.points) {
      assert.ok(Number.isFinite(p.train.loss) && Number.isFinite(p.test!.loss), `${curved ? 'curved' : 'linear'} α=${p.alpha}: ${p.train.loss}, ${p.test!.loss}`);
    }
    assert.equal(r.batchNorm!.layers, 5);
    const mixed = interpolate(a, b, probe, { train: splits.train }, 'cross-entropy', { alphas: [curved ? -1 : 2], curved, batchNorm: 'interpolate', limit: 500 });
    assert.ok(Number.isNaN(mixed.points[0]!.train.loss), 'mixing the buffers gives a negative variance here');
  }
  dataLayer.disposeSplits(splits);
  for (const m of [a, b, probe]) m.dispose();
});

test('without batch norm the linear path is the loss of (1 − α)·θ_A + α·θ_B exactly: a quadratic in α for linear regression, extrapolation included', () => {
  const g = new T.Generator(5);
  const x = T.randn([50, 3], { generator: g });
  const y = x.matmul(T.tensor([1, -2, 0.5])).unsqueeze(1);
  const data = makeDataset(x, y, undefined);
  const model = (w: number[]) => {
    const m = buildModel({ name: 'linear-regression' }, { inputShape: [3], outputs: 1 }, g);
    T.noGrad(() => m.parameters()[0]!.copy_(T.tensor([w])));
    return m;
  };
  const wa = [0, 0, 0];
  const wb = [1, -2, 0.5];
  const [a, b, probe] = [model(wa), model(wb), model(wa)];
  const alphas = [-1, 0, 0.5, 1, 2];
  for (const curved of [false, true]) {
    const r = interpolate(a, b, probe, { train: data }, 'half-mse', { alphas, curved });
    assert.equal(r.batchNorm, null);
    assert.equal(r.cost.lossEvaluations, alphas.length);
    r.points.forEach((p) => {
      const cb = curved ? Math.sin((p.alpha * Math.PI) / 2) : p.alpha;
      // w_A = 0 and w_B is the teacher, so the residual is (c_B·w_B − w_B)ᵀx = (c_B − 1)·y.
      const exact = T.tidy(() => y.mul(cb - 1).square().mean().item() / 2);
      assert.ok(Math.abs(p.train.loss - exact) < 1e-5 * Math.max(exact, 1e-6), `${curved ? 'curved' : 'linear'} α=${p.alpha}: ${p.train.loss} vs ${exact}`);
    });
  }
  for (const m of [a, b, probe]) m.dispose();
  T.dispose([x, y]);
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
    optimizer: { name: 'sgd', lr: 1e-12 }, batchSize: 10, budget: { steps: 4000 }, eval: { every: 10 ** 9 },
  });
  const tracker = new NoiseScaleTracker({ smallBatch: 4, bigBatch: 64, every: 1, decay: 0.998, seed: 6, loss: 'cross-entropy' });
  const { model } = train(cfg, { hooks: tracker.hooks });
  const splits = dataLayer.prepareData(cfg.data);
  const exact = noiseStatistics(model, splits.train.x, splits.train.y, 'cross-entropy');
  const last = tracker.history.at(-1)!;
  assert.equal(tracker.history.length, 4000);
  // The standard error of the final estimates, from the raw samples: the moving average weighs sample i
  // by w_i (w_0 = d^{m−1}, w_i = (1 − d)·d^{m−1−i}), so Var = Var(sample)·Σw², and the two norms are independent.
  const m = tracker.history.length;
  const sumW2 = Array.from({ length: m }, (_, i) => (i === 0 ? 0.998 ** (m - 1) : 0.002 * 0.998 ** (m - 1 - i)) ** 2).reduce((a, b) => a + b, 0);
  const varianceOf = (xs: number[]) => sampleStatistics(xs).std ** 2 * sumW2;
  const [vSmall, vBig] = [varianceOf(tracker.history.map((h) => h.smallNormSq)), varianceOf(tracker.history.map((h) => h.bigNormSq))];
  const seGradNormSq = Math.sqrt((64 / 60) ** 2 * vBig + (4 / 60) ** 2 * vSmall);
  const seTraceSigma = Math.sqrt(vSmall + vBig) / (1 / 4 - 1 / 64);
  assert.ok(Math.abs(last.traceSigma - exact.traceSigma) < 4 * seTraceSigma, `tr Σ ${last.traceSigma} ± ${seTraceSigma} vs ${exact.traceSigma}`);
  assert.ok(Math.abs(last.gradNormSq - exact.gradNormSq) < 4 * seGradNormSq, `|G|² ${last.gradNormSq} ± ${seGradNormSq} vs ${exact.gradNormSq}`);
  // … and the error bars are informative: under 6% of tr Σ and 2% of |G|².
  assert.ok(seTraceSigma < 0.06 * exact.traceSigma && seGradNormSq < 0.02 * exact.gradNormSq, `SE ${seTraceSigma} of tr Σ = ${exact.traceSigma}, ${seGradNormSq} of |G|² = ${exact.gradNormSq}`);
  dataLayer.disposeSplits(splits);
  model.dispose();
});

/** The network and data of tools/reference/make_batchnorm_convention_fixtures.py, with PyTorch's 'batch' losses. */
interface ConventionFixture {
  x: number[]; xShape: number[]; y: number[]; chunk: number;
  state: Record<string, { shape: number[]; data: number[] }>;
  batch: { loss: number }; batchChunks: { loss: number }; running: { loss: number };
}
const conventionFixture = readFixture<ConventionFixture>(import.meta.url, 'fixtures/batchnorm-convention.json');

test("interpolation and slices under 'batch': every point evaluated by the statistics of the evaluated examples (PyTorch's train-mode loss), whatever the running statistics", () => {
  const f = conventionFixture;
  const model = () => {
    const m = buildModel(bnSpec, { inputShape: [6], outputs: 3 }, new T.Generator(0));
    const tensors = new Map(Object.entries(f.state).map(([k, v]) => [k, T.tensor(v.data, { shape: v.shape, dtype: k.endsWith('num_batches_tracked') ? 'int64' : 'float32' })]));
    m.loadStateDict(tensors);
    T.dispose([...tensors.values()]);
    return m;
  };
  const [a, b, probe] = [model(), model(), fixtureModel()];
  const data = makeDataset(T.tensor(f.x, { shape: f.xShape }), T.tensor(f.y, { dtype: 'int64' }), 3);
  // A path from the network to itself: every point holds its weights (to float32 rounding of (1 − α)θ + αθ,
  // ≤ 3u|θ| for α ∈ [−1, 2], within the 8e-6 relative tolerance of objective-convention.test.ts).
  const at = (options: { batchNorm: 'batch' | 'recompute'; batchNormBatch?: number }) => interpolate(a, b, probe, { train: data }, 'cross-entropy', { alphas: [-1, 0, 2], ...options });
  for (const [options, want] of [[{ batchNorm: 'batch' as const }, f.batch.loss], [{ batchNorm: 'batch' as const, batchNormBatch: f.chunk }, f.batchChunks.loss]] as const) {
    const r = at(options);
    for (const p of r.points) assert.ok(Math.abs(p.train.loss - want) <= 8e-6 * want, `α ${p.alpha} (${JSON.stringify(options)}): ${p.train.loss} vs PyTorch ${want}`);
    assert.deepEqual(r.batchNorm, { mode: 'batch', examples: 0, batchSize: options.batchNormBatch ?? 'all', layers: 2 });
  }
  // The slice at α = 0 is the network itself.
  const slice = landscapeSlice(a, { train: data }, 'cross-entropy', { alphas: [0], batchNorm: 'batch' });
  assert.ok(Math.abs(slice.points[0]!.train.loss - f.batch.loss) <= 8e-6 * f.batch.loss);
  assert.ok(Math.abs(landscapeSlice(a, { train: data }, 'cross-entropy', { alphas: [0] }).points[0]!.train.loss - f.running.loss) <= 8e-6 * f.running.loss);
  assert.throws(() => at({ batchNorm: 'recompute', batchNormBatch: 10 }), /^RangeError: interpolate: batchNormBatch \(10\) applies to batchNorm 'batch' only, but batchNorm is 'recompute'$/);
  for (const m of [a, b, probe]) m.dispose();
  T.dispose([data.x, data.y]);
});
