/**
 * Noise statistics: the fast per-example norms against the per-example loop, the statistics of
 * linear regression against its closed-form per-example gradients g_i = x_i(x_iᵀw − y_i), and the
 * closed-form minibatch variance against Monte Carlo over real minibatch gradients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { assertClose } from '../tensor/testing.js';
import { Activation, Conv2d, Flatten, Linear, MaxPool2d, Sequential, buildModel } from '../nn/index.js';
import { noiseStatistics, perExampleGradients, perExampleSquaredNorms } from './index.js';

test('per-example squared norms by taps equal the per-example loop (Linear, BatchNorm, Conv2d)', () => {
  const g = new T.Generator(1);
  const mlp = buildModel({ name: 'mlp', widths: [7, 5], batchNorm: true }, { inputShape: [6], outputs: 3 }, g);
  // Give batch norm non-trivial running statistics, as after training.
  T.tidy(() => { mlp.forward(T.randn([32, 6], { generator: g }).mul(2).add(1)); });
  const cnn = new Sequential([new Conv2d(2, 3, 3, { generator: g, padding: 1 }), new Activation('relu'), new MaxPool2d(2), new Conv2d(3, 4, 3, { generator: g, stride: 2 }), new Flatten(), new Linear(4, 3, { generator: g })]);
  for (const [model, shape] of [[mlp, [6]], [cnn, [2, 8, 8]]] as const) {
    T.tidy(() => {
      const x = T.randn([9, ...shape], { generator: g });
      const y = T.randint(0, 3, [9], { generator: g });
      const fast = perExampleSquaredNorms(model, x, y, 'cross-entropy', { chunkSize: 4 });
      assert.equal(fast.method, 'taps');
      const reference = perExampleGradients(model, x, y, 'cross-entropy').square().sum(1);
      assertClose(fast.normsSq, reference, { rtol: 1e-4, atol: 1e-7 });
    });
  }
  mlp.dispose();
  cnn.dispose();
});

test('linear regression: ‖G‖², tr Σ and B_simple equal the closed-form per-example gradients', () => {
  const g = new T.Generator(2);
  const model = buildModel({ name: 'linear-regression' }, { inputShape: [4], outputs: 1 }, g);
  T.tidy(() => {
    T.noGrad(() => model.parameters()[0]!.copy_(T.tensor([[0.5, -1, 0.2, 0.1]])));
    const x = T.randn([300, 4], { generator: g });
    const y = x.matmul(T.tensor([1, -0.5, 0, 0.3])).unsqueeze(1).add(T.randn([300, 1], { generator: g }).mul(0.5));
    const w = T.tensor([0.5, -1, 0.2, 0.1]);
    // ℓ_i = ½(x_iᵀw − y_i)² ⇒ g_i = x_i (x_iᵀw − y_i)
    const perExample = x.mul(x.matmul(w).sub(y.squeeze(1)).unsqueeze(1));
    const G = perExample.mean(0);
    const gradNormSq = G.square().sum().item();
    const traceSigma = perExample.sub(G).square().sum(1).mean().item();
    const meanLoss = x.matmul(w).sub(y.squeeze(1)).square().mean().item() / 2;
    const s = noiseStatistics(model, x, y, 'half-mse', { chunkSize: 64 });
    assert.ok(Math.abs(s.gradNormSq / gradNormSq - 1) < 1e-4, `‖G‖² ${s.gradNormSq} vs ${gradNormSq}`);
    assert.ok(Math.abs(s.loss / meanLoss - 1) < 1e-5, `L ${s.loss} vs ${meanLoss}`);
    assert.ok(Math.abs(s.traceSigma / traceSigma - 1) < 1e-4, `tr Σ ${s.traceSigma} vs ${traceSigma}`);
    assert.ok(Math.abs(s.bSimple - traceSigma / gradNormSq) < 1e-3 * s.bSimple);
    // A 4-parameter model: the weights it was measured at come with the statistics (float32's rounding of them).
    assert.deepEqual(s.weights!.map((v) => Math.fround(v)), [0.5, -1, 0.2, 0.1].map((v) => Math.fround(v)));
    const b8 = s.varianceByBatchSize.find((r) => r.b === 8)!;
    assert.ok(Math.abs(b8.withReplacement - traceSigma / 8) < 1e-4 * b8.withReplacement);
    assert.ok(Math.abs(b8.withoutReplacement - (traceSigma * 292) / (8 * 299)) < 1e-4 * b8.withoutReplacement);
  });
  model.dispose();
});

test('the closed-form minibatch variance agrees with Monte Carlo over sampled minibatches, both samplings', () => {
  const g = new T.Generator(3);
  const model = buildModel({ name: 'mlp', widths: [16], activation: 'tanh' }, { inputShape: [5], outputs: 3 }, g);
  T.tidy(() => {
    const x = T.randn([120, 5], { generator: g });
    const y = T.randint(0, 3, [120], { generator: g });
    const s = noiseStatistics(model, x, y, 'cross-entropy', { monteCarloSamples: 600, monteCarloBatchSizes: [2, 16, 100], seed: 4 });
    assert.equal(s.weights, undefined, '147 parameters: more than are recorded');
    for (const mc of s.monteCarlo!) {
      const row = s.varianceByBatchSize.find((r) => r.b === mc.b) ?? { withReplacement: s.traceSigma / mc.b, withoutReplacement: (s.traceSigma * (120 - mc.b)) / (mc.b * 119) };
      const exact = mc.replacement ? row.withReplacement : row.withoutReplacement;
      assert.ok(Math.abs(mc.variance - exact) < 4 * mc.standardError, `b=${mc.b}, replacement=${mc.replacement}: Monte Carlo ${mc.variance} ± ${mc.standardError} vs ${exact}`);
    }
    // Without replacement the variance vanishes as b → N; with replacement it does not.
    const at100 = s.monteCarlo!.filter((m) => m.b === 100);
    assert.ok(at100.find((m) => !m.replacement)!.variance < 0.3 * at100.find((m) => m.replacement)!.variance);
  });
  model.dispose();
});
