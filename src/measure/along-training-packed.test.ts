/**
 * The packed Monte Carlo of Qian & Klabjan's Var(g_k | w₀): equal to the serial one (along-training.ts)
 * on the same sequences, for linear regression and a deep linear network, with and without replacement,
 * in one pack and in several; every k read off one set of runs; its halves (folds) and the whole
 * against the exact moment recursion (theory/qian-klabjan.ts) for linear regression.
 *
 * Tolerances: both sides compute float32 gradients of the same batches from the same weights; the packed
 * products sum in another order, so each gradient differs by a few float32 ulps (~1e-7 relative) and the
 * sequences drift apart by that much per step over at most 6 steps; the variance, a mean of squared
 * deviations, then agrees to ~1e-5 relative. The standard error is the serial one when the sequences fit
 * one pack; over several packs it differs by the cross term 2e_r·δ (see along-training-packed.ts), which
 * the exact-recursion test covers (its error bars hold at 4 standard errors).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { buildModel, type ModelSpec } from '../nn/index.js';
import { linearRegressionGradientVariance } from '../theory/index.js';
import { gradientVarianceAlongTraining, gradientVarianceAlongTrainingPacked, selectDegreeByHeldOut } from './index.js';
import { regressionData } from './testing.js';

const io = { inputShape: [3], outputs: 1 };
const linear: ModelSpec = { name: 'linear-regression', init: { scheme: 'normal', std: 0.5 } };
const deep: ModelSpec = { name: 'deep-linear', widths: [4, 4] };

for (const [name, spec] of [['linear regression', linear], ['a deep linear network 3-4-4-1', deep]] as const) {
  test(`${name}: the packed runs give the serial runs' variance at every b and k, with and without replacement, in one pack or in packs of 7`, () => {
    const d = regressionData();
    const w0 = buildModel(spec, io, new T.Generator(0));
    const steps = [0, 2, 5];
    for (const replacement of [true, false]) {
      for (const packSize of [undefined, 7]) {
        const packed = gradientVarianceAlongTrainingPacked({ model: spec, initial: w0, data: d, batchSizes: [1, 4, 16], steps, sequences: 40, lr: 0.05, replacement, seed: 3, packSize });
        assert.deepEqual(packed.map((p) => p.step), steps);
        for (const [i, step] of steps.entries()) {
          const serial = gradientVarianceAlongTraining({ model: spec, initial: w0, data: d, batchSizes: [1, 4, 16], step, sequences: 40, lr: 0.05, replacement, seed: 3 });
          serial.forEach((s, j) => {
            const p = packed[i]!.points[j]!;
            const where = `${replacement ? 'with' : 'without'} replacement, pack ${packSize ?? 'all'}, k=${step}, b=${s.b}`;
            assert.equal(p.b, s.b);
            assert.ok(Math.abs(p.variance - s.variance) <= 1e-5 * s.variance, `${where}: ${p.variance} vs serial ${s.variance}`);
            // One pack: the shift is the mean itself and the standard error is the serial one (the cross term vanishes).
            if (packSize === undefined) assert.ok(Math.abs(p.standardError - s.standardError) <= 1e-5 * s.standardError, `${where}: SE ${p.standardError} vs serial ${s.standardError}`);
          });
        }
      }
    }
    w0.dispose();
    T.dispose([d.x, d.y]);
  });
}

test('linear regression: the whole and each half of the sequences agree with the exact moment recursion at k = 0, 3 and 8', () => {
  const d = regressionData();
  const w0 = buildModel(linear, io, new T.Generator(0));
  const rows = { x: d.x.toArray() as number[][], y: (d.y.squeeze(1).toArray() as number[]), w0: (w0.parameters()[0]!.flatten().toArray() as number[]) };
  const steps = [0, 3, 8];
  for (const replacement of [true, false]) {
    const packed = gradientVarianceAlongTrainingPacked({ model: linear, initial: w0, data: d, batchSizes: [1, 2, 8, 32], steps, sequences: 2000, lr: 0.05, replacement, seed: 0 });
    for (const { step, points, folds } of packed) {
      for (const [which, curve] of [['all', points], ['even', folds[0]], ['odd', folds[1]]] as const) {
        for (const p of curve) {
          const exact = linearRegressionGradientVariance({ ...rows, lr: 0.05, b: p.b, replacement }, step)[step]!;
          assert.ok(Math.abs(p.variance - exact) < 4 * p.standardError, `${which}, ${replacement ? 'with' : 'without'} replacement, k=${step}, b=${p.b}: ${p.variance} ± ${p.standardError} vs exact ${exact}`);
        }
      }
      // Each half has half the sequences: its standard error is about √2 the whole's.
      for (const [j, p] of points.entries()) assert.ok(Math.abs(folds[0][j]!.standardError / p.standardError - Math.SQRT2) < 0.3, `k=${step}, b=${p.b}`);
    }
  }
  w0.dispose();
  T.dispose([d.x, d.y]);
});

test('the held-out degree: two noisy halves of a known quadratic in 1/b choose degree 2 — not a lower degree that misses the curve, rarely a higher one that follows the noise', () => {
  const bs = [1, 2, 4, 8, 16, 32, 64, 128];
  const truth = (b: number) => 2 + 5 / b + 3 / b ** 2;
  const chosen: number[] = [];
  for (let seed = 0; seed < 20; seed++) {
    const g = new T.Generator(seed);
    const half = () => {
      const noise = T.randn([bs.length], { generator: g }).toArray() as number[];
      // Each point's standard error 2% of its value, the noise drawn with it.
      return bs.map((b, i) => ({ b, variance: truth(b) * (1 + 0.02 * noise[i]!), standardError: 0.02 * truth(b) }));
    };
    const { degree, heldOutChiSquare } = selectDegreeByHeldOut([half(), half()], 6);
    assert.equal(heldOutChiSquare.length, 7);
    // Degrees 0 and 1 miss the 3/b² term by far more than the noise: their χ² is in the thousands against ~2·8 points.
    assert.ok(heldOutChiSquare[0]! > 100 * heldOutChiSquare[2]! && heldOutChiSquare[1]! > 3 * heldOutChiSquare[2]!, JSON.stringify(heldOutChiSquare));
    chosen.push(degree);
  }
  assert.ok(chosen.every((d) => d >= 2), chosen.join());
  assert.ok(chosen.filter((d) => d === 2).length >= 18, `degree 2 in nearly every draw: ${chosen.join()}`);
  // Never above the number of batch sizes less one.
  assert.equal(selectDegreeByHeldOut([[{ b: 1, variance: 1, standardError: 0.1 }, { b: 2, variance: 0.5, standardError: 0.1 }], [{ b: 1, variance: 1, standardError: 0.1 }, { b: 2, variance: 0.5, standardError: 0.1 }]], 6).heldOutChiSquare.length, 2);
});
