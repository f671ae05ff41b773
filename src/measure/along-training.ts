/**
 * The variance of the stochastic gradient along training (Qian & Klabjan 2020): from one fixed
 * initialization w₀, run SGD with batch size b for k steps along many independent minibatch
 * sequences, and measure Var(g_k | w₀) = E‖g_k − E g_k‖² over the sequences, g_k the minibatch
 * gradient at step k. For linear regression and deep linear networks it is a polynomial in 1/b;
 * fitPolynomialInInverseB fits one by least squares, isNonIncreasing checks the monotonicity.
 *
 * Mode: the sequences run in training mode, as the trainer does — the quantity is the gradient SGD
 * itself uses at step k. On models with batch norm (or dropout) that gradient is not a mean of
 * independent per-example gradients (the batch's statistics enter every example's gradient), so the
 * closed forms in 1/b, which assume it is, do not apply; the theory is for linear models without either.
 */
import * as T from '../tensor/index.js';
import { buildModel, modelInfo, type Module, type ModelSpec } from '../nn/index.js';
import { SGD } from '../optim/index.js';
import type { TensorDataset } from '../data/index.js';
import { lossValue } from '../train/loss.js';
import { solve, type Matrix } from '../theory/linalg.js';
import { sampleStatistics } from '../theory/statistics.js';

export interface AlongTrainingOptions {
  model: ModelSpec;
  /** w₀, shared by every sequence (its weights are copied, never changed). */
  initial: Module;
  data: TensorDataset;
  batchSizes: number[];
  /** The step k at which the gradient's variance is measured (0: at w₀). */
  step: number;
  sequences: number;
  lr: number;
  replacement?: boolean;
  /** Seed of the minibatch sequences: each (b, sequence) draws from its own generator derived from it. */
  seed?: number;
}

export interface VarianceAtStep {
  b: number;
  variance: number;
  /** Standard error of the variance estimate over sequences (of the mean of ‖g_r − ḡ‖²). */
  standardError: number;
}

/** The seed of sequence r at batch size b: distinct for every (b, r) of a run, different for every seed. */
export const sequenceSeed = (seed: number, b: number, r: number): number => (seed * 1_000_003 + b * 7_919 + (r + 1) * 104_729) % Number.MAX_SAFE_INTEGER;

export function gradientVarianceAlongTraining(o: AlongTrainingOptions): VarianceAtStep[] {
  const n = o.data.x.shape[0]!;
  const io = { inputShape: o.data.inputShape, outputs: o.data.outputs };
  const loss = modelInfo(o.model.name).defaultLoss;
  const w0 = o.initial.stateDict();
  // The sequences run where the data are; indices are drawn on the CPU's seeded generator and moved.
  const device = T.deviceOf(o.data.x);
  return o.batchSizes.map((b) => {
    const samples: T.Tensor[] = [];
    for (let r = 0; r < o.sequences; r++) {
      const init = new T.Generator(0);
      const model = buildModel(o.model, io, init).to(device);
      init.dispose();
      model.loadStateDict(w0);
      const params = model.parameters();
      const sgd = new SGD(params, { lr: o.lr });
      const g = new T.Generator(sequenceSeed(o.seed ?? 0, b, r));
      const batch = () => (o.replacement ?? true) ? T.randint(0, n, [b], { generator: g, device }) : T.randperm(n, { generator: g, device }).narrow(0, 0, b);
      const gradient = () => T.tidy(() => {
        const idx = batch();
        return T.gradients([lossValue(loss, model.forward(o.data.x.indexSelect(0, idx)), o.data.y.indexSelect(0, idx))], params);
      });
      for (let k = 0; k < o.step; k++) sgd.step(gradient);
      samples.push(T.keep(T.tidy(() => T.cat(gradient().map((t) => t.flatten()), 0).double())));
      model.dispose();
      g.dispose();
    }
    const deviations = T.tidy(() => {
      const G = T.stack(samples, 0);
      return G.sub(G.mean(0)).square().sum(1).toArray() as number[];
    });
    T.dispose(samples);
    // Unbiased over sequences: Σ‖g_r − ḡ‖² / (R − 1) = mean · R/(R − 1).
    const { mean, standardError } = sampleStatistics(deviations);
    const unbias = o.sequences / (o.sequences - 1);
    return { b, variance: mean * unbias, standardError: standardError * unbias };
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

/** The degree a curve's data support, and each candidate degree's held-out χ² (index = degree). */
export interface HeldOutDegree {
  degree: number;
  heldOutChiSquare: number[];
}

/**
 * The degree of v(b) ≈ Σ_j c_j b^{−j} that two independent halves of the sequences support (the issue's
 * "chosen by held-out error, not fixed"): for each degree d ≤ maxDegree (and below the number of batch
 * sizes), fit one half (weighted by its standard errors, fitPolynomialInInverseB) and score the fit by the
 * other half's points, χ² = Σ_b (v_other(b) − fit(b))² / SE_other(b)², both ways round, summed. A degree
 * too low misses the curve in both halves; one too high follows the first half's noise, which the other
 * half does not share. Past the right degree the held-out χ² is flat within its noise, so the rule is the
 * "one standard error" rule of cross-validation (Hastie, Tibshirani & Friedman, ESL §7.10): the lowest
 * degree whose χ² is within one standard deviation of the least one, √(2m) for a χ² over m held-out points.
 */
export function selectDegreeByHeldOut(folds: readonly [readonly VarianceAtStep[], readonly VarianceAtStep[]], maxDegree: number): HeldOutDegree {
  const top = Math.min(maxDegree, folds[0].length - 1, folds[1].length - 1);
  const heldOutChiSquare = Array.from({ length: top + 1 }, (_, d) => ([[0, 1], [1, 0]] as const).reduce((sum, [fit, check]) => {
    const c = fitPolynomialInInverseB([...folds[fit]], d);
    return sum + folds[check].reduce((s, p) => s + (p.variance - c.reduce((v, cj, j) => v + cj * p.b ** -j, 0)) ** 2 / p.standardError ** 2, 0);
  }, 0));
  const least = Math.min(...heldOutChiSquare);
  const heldOutPoints = folds[0].length + folds[1].length;
  const degree = heldOutChiSquare.findIndex((chi) => chi <= least + Math.sqrt(2 * heldOutPoints));
  return { degree, heldOutChiSquare };
}
