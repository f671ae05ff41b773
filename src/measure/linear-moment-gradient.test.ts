/**
 * The moment form of a linear network's minibatch gradient against the direct forward and backward pass
 * (packedBatchGradient) on the same packed weights and batches: a deep linear network with two outputs
 * (the 1/m of half-MSE's mean over outputs), with the batch gathered whole and in micro-batches. Float32
 * both ways, the sums in another order: agreement to 1e-5 relative.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { makeDataset } from '../data/index.js';
import { buildModel } from '../nn/index.js';
import { PackedMlp } from '../nn/packed-mlp.js';
import { packedBatchGradient } from '../train/packed-gradient.js';
import { linearMomentGradient, momentGradientPays } from './linear-moment-gradient.js';

test('linearMomentGradient: the gradients of a packed deep linear network 8-6-5-2 under half-MSE equal the forward and backward pass, whole batches and micro-batches', () => {
  T.tidy(() => {
    const g = new T.Generator(11);
    const x = T.randn([40, 8], { generator: g });
    const y = T.randn([40, 2], { generator: g });
    const data = makeDataset(x, y, undefined);
    const io = { inputShape: [8], outputs: 2 };
    const members = [0, 1, 2, 3, 4].map((seed) => buildModel({ name: 'deep-linear', widths: [6, 5] }, io, new T.Generator(seed)));
    const pack = new PackedMlp(members);
    try {
      const indices = T.randint(0, 40, [5, 7], { generator: g });
      const direct = packedBatchGradient(pack, 'half-mse', data, indices, 7).grads;
      for (const micro of [7, 3]) {
        const moments = linearMomentGradient(pack.parameters(), data, indices, micro);
        assert.equal(moments.length, direct.length);
        moments.forEach((m, i) => {
          assert.deepEqual(m.shape, direct[i]!.shape);
          const scale = direct[i]!.abs().max().item();
          const gap = m.sub(direct[i]!).abs().max().item();
          assert.ok(gap <= 1e-5 * scale, `micro-batch ${micro}, layer ${i}: max |moment − direct| = ${gap} against max |direct| ${scale}`);
        });
      }
    } finally {
      pack.dispose();
      for (const m of members) m.dispose();
    }
  });
});

test('momentGradientPays: deep linear networks under half-MSE (when cheaper than their layers), not plain regression, a bias, an activation or another loss', () => {
  const io = { inputShape: [16], outputs: 1 };
  const g = () => new T.Generator(0);
  // 3·(256 + 256 + 16) = 1,584 multiply-adds per example through the layers, against 16·17 = 272 for the moments.
  assert.equal(momentGradientPays(buildModel({ name: 'deep-linear', widths: [16, 16] }, io, g()), 'half-mse'), true);
  // Linear regression: 3·16 = 48 against 272.
  assert.equal(momentGradientPays(buildModel({ name: 'linear-regression' }, io, g()), 'half-mse'), false);
  assert.equal(momentGradientPays(buildModel({ name: 'deep-linear', widths: [16, 16], bias: true }, io, g()), 'half-mse'), false);
  assert.equal(momentGradientPays(buildModel({ name: 'mlp', widths: [16] }, io, g()), 'half-mse'), false);
  assert.equal(momentGradientPays(buildModel({ name: 'deep-linear', widths: [16, 16] }, io, g()), 'mse'), false);
});
