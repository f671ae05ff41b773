/**
 * The variance of the stochastic gradient along training (Qian & Klabjan 2020): from one fixed
 * initialization w₀, run SGD with batch size b for k steps along many independent minibatch
 * sequences, and measure Var(g_k | w₀) = E‖g_k − E g_k‖² over the sequences, g_k the minibatch
 * gradient at step k. For linear regression and deep linear networks it is a polynomial in 1/b;
 * fitPolynomialInInverseB fits one by least squares, isNonIncreasing checks the monotonicity.
 */
import * as T from '../tensor/index.js';
import { buildModel, modelInfo, type ModelSpec } from '../nn/index.js';
import { SGD } from '../optim/index.js';
import type { TensorDataset } from '../data/index.js';
import { lossValue } from '../train/loss.js';
import { solve, type Matrix } from '../theory/linalg.js';

export interface AlongTrainingOptions {
  model: ModelSpec;
  data: TensorDataset;
  batchSizes: number[];
  /** The step k at which the gradient's variance is measured (0: at w₀). */
  step: number;
  sequences: number;
  lr: number;
  replacement?: boolean;
  /** Seed of w₀ (shared by all sequences). */
  seed?: number;
}

export interface VarianceAtStep {
  b: number;
  variance: number;
  /** Standard error of the variance estimate over sequences (delta method on ‖g‖² samples). */
  standardError: number;
}

export function gradientVarianceAlongTraining(o: AlongTrainingOptions): VarianceAtStep[] {
  const n = o.data.x.shape[0]!;
  const io = { inputShape: o.data.inputShape, outputs: o.data.outputs };
  const loss = modelInfo(o.model.name).defaultLoss;
  return o.batchSizes.map((b) => {
    const samples: T.Tensor[] = [];
    for (let r = 0; r < o.sequences; r++) {
      const model = buildModel(o.model, io, new T.Generator(o.seed ?? 0));
      const params = model.parameters();
      const sgd = new SGD(params, { lr: o.lr });
      const g = new T.Generator(1_000_003 * (r + 1) + b);
      const batch = () => (o.replacement ?? true) ? T.randint(0, n, [b], { generator: g }) : T.randperm(n, { generator: g }).narrow(0, 0, b);
      const gradient = () => T.tidy(() => {
        const idx = batch();
        return T.gradients([lossValue(loss, model.forward(o.data.x.indexSelect(0, idx)), o.data.y.indexSelect(0, idx))], params);
      });
      for (let k = 0; k < o.step; k++) sgd.step(gradient);
      samples.push(T.keep(T.tidy(() => T.cat(gradient().map((t) => t.flatten()), 0).double())));
      model.dispose();
    }
    const result = T.tidy(() => {
      const G = T.stack(samples, 0);
      const centered = G.sub(G.mean(0));
      const sq = centered.square().sum(1);
      // Unbiased over sequences: Σ‖g_r − ḡ‖² / (R − 1).
      const variance = sq.sum().item() / (o.sequences - 1);
      const standardError = sq.std().item() / Math.sqrt(o.sequences);
      return { b, variance, standardError };
    });
    T.dispose(samples);
    return result;
  });
}

/**
 * Least-squares coefficients c_0..c_d of v(b) ≈ Σ_j c_j b^{−j}, weighted by 1/SE² when every point has a
 * standard error (the Monte Carlo error at b = 1 is orders of magnitude larger than at large b, so an
 * unweighted fit would follow the noisiest points).
 */
export function fitPolynomialInInverseB(points: { b: number; variance: number; standardError?: number }[], degree: number): number[] {
  const weighted = points.every((p) => p.standardError !== undefined && p.standardError > 0);
  const w = points.map((p) => (weighted ? 1 / p.standardError! ** 2 : 1));
  const rows: Matrix = points.map((p) => Array.from({ length: degree + 1 }, (_, j) => p.b ** -j));
  const normal = rows[0]!.map((_, i) => rows[0]!.map((__, j) => rows.reduce((s, r, k) => s + w[k]! * r[i]! * r[j]!, 0)));
  const rhs = rows[0]!.map((_, i) => rows.reduce((s, r, k) => s + w[k]! * r[i]! * points[k]!.variance, 0));
  return solve(normal, rhs);
}

export const isNonIncreasing = (points: { b: number; variance: number }[]): boolean =>
  [...points].sort((p, q) => p.b - q.b).every((p, i, all) => i === 0 || p.variance <= all[i - 1]!.variance);
