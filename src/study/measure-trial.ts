/**
 * Measuring a trained trial for a study: which trials get which measurements (every completed trial,
 * or the seeds of the best learning rate per batch size and budget), and the measurement itself on the
 * trial's checkpoint — top Hessian eigenvalues (and trace), Keskar et al.'s φ(ε, A) for every ε and
 * space of the study, gradient-noise statistics, the interpolation from its SB partner — on the first
 * `subset` training examples (the interpolation also evaluates the whole test set).
 * Loads libtorch: imported by the worker only.
 */
import * as T from '../tensor/index.js';
import type { DataSplits, TensorDataset } from '../data/index.js';
import { buildModel, modelInfo, type LossName, type Module } from '../nn/index.js';
import { distanceFromInitial, type TrainConfig } from '../train/index.js';
import { minibatchGradientVariance } from '../theory/index.js';
import { DEFAULT_SHARPNESS_SOLVER, Objective, alphaGrid, fitPolynomialInInverseB, gradientVarianceAlongTraining, hessianTrace, interpolate, isNonIncreasing, keskarSharpness, noiseStatistics, parameterDistance, topEigenvalues } from '../measure/index.js';
import type { MeasureSpec, MeasurementKind } from './schema.js';

/**
 * Runs one measurement on a model (its parameters are left as they were) and returns the stored result.
 * An interpolation also takes its SB partner (α = 0; `model` is at α = 1) and both checkpoints' paths
 * (for the distances from initialization).
 */
export function measureModel(kind: MeasurementKind, measure: MeasureSpec, model: Module, config: TrainConfig, data: DataSplits, partner?: { model: Module; checkpoint: string; self: string }): Record<string, unknown> {
  const total = data.train.x.shape[0]!;
  const n = Math.min(measure.subset ?? total, total);
  const loss = config.loss ?? modelInfo(config.model.name).defaultLoss;
  const objective = () => new Objective(model, data.train.x, data.train.y, loss, { limit: n });
  if (kind === 'hessian') {
    const o = objective();
    const eig = topEigenvalues(o, { topK: measure.hessian.topK, method: measure.hessian.method, maxIter: measure.hessian.maxIter, seed: measure.seed });
    const trace = measure.hessian.traceProbes > 0 ? hessianTrace(o, { probes: measure.hessian.traceProbes, seed: measure.seed }) : undefined;
    return {
      eigenvalues: eig.eigenvalues, residuals: eig.residuals, method: eig.method, iterations: eig.iterations, hvps: o.cost.hessianVectorProducts, examples: n,
      ...(trace ? { trace: trace.trace, traceStandardError: trace.standardError, traceProbes: trace.probes } : {}),
    };
  }
  if (kind === 'sharpness') {
    const o = measure.sharpness;
    const solvers = o.solver === undefined ? [DEFAULT_SHARPNESS_SOLVER] : [o.solver].flat();
    const values = o.space.flatMap((space) => o.epsilon.flatMap((epsilon) => solvers.map((solver) => {
      const r = keskarSharpness(objective(), { epsilon, subspace: space === 'full' ? undefined : space, maxIter: o.maxIter, randomStarts: o.randomStarts, seed: measure.seed, solver });
      return {
        epsilon, space, solver, phi: r.phi, firstOrder: r.firstOrder, loss: r.loss, maxLoss: r.maxLoss, dimension: r.dimension, moved: r.moved, iterations: r.iterations,
        evaluations: r.evaluations, coordinatesAtBound: r.coordinatesAtBound, reason: r.starts[0]!.reason, seconds: r.seconds,
      };
    })));
    return { values, examples: n };
  }
  if (kind === 'interpolate') {
    if (!partner) throw new Error('an interpolation needs the SB partner model');
    const probe = buildModel(config.model, { inputShape: data.train.inputShape, outputs: data.train.outputs }, new T.Generator(0));
    try {
      const o = measure.interpolate;
      const alphas = alphaGrid(o.from, o.to, o.points);
      const split = { train: data.train, test: data.test };
      return {
        partner: partner.checkpoint, examples: n,
        points: interpolate(partner.model, model, probe, split, loss, { alphas, limit: n }),
        ...(o.curved ? { curved: interpolate(partner.model, model, probe, split, loss, { alphas, curved: true, limit: n }) } : {}),
        distance: parameterDistance(partner.model, model),
        distanceFromInitial: { a: distanceFromInitial(partner.checkpoint, partner.model) ?? null, b: distanceFromInitial(partner.self, model) ?? null },
      };
    } finally {
      probe.dispose();
    }
  }
  if (kind === 'gradientVariance') return gradientVarianceFromInit(measure, config, data, n, loss);
  const x = data.train.x.narrow(0, 0, n);
  const y = data.train.y.narrow(0, 0, n);
  try {
    const r = noiseStatistics(model, x, y, loss, { monteCarloSamples: measure.noise.monteCarlo, seed: measure.seed });
    return { ...r };
  } finally {
    T.dispose([x, y]);
  }
}

/**
 * Qian & Klabjan's measurement for a trial: from its initialization w₀ (its model spec and seed), the
 * variance of the minibatch gradient after k steps for every b, k and sampling, a polynomial fit in
 * 1/b, whether it decreases in b, and at k = 0 the closed form from tr Σ₁ at w₀ (measured from
 * per-example gradients, an independent computation).
 */
function gradientVarianceFromInit(measure: MeasureSpec, config: TrainConfig, data: DataSplits, n: number, loss: LossName): Record<string, unknown> {
  const o = measure.gradientVariance;
  const split: TensorDataset = { ...data.train, x: data.train.x.narrow(0, 0, n), y: data.train.y.narrow(0, 0, n) };
  try {
    const w0 = buildModel(config.model, { inputShape: split.inputShape, outputs: split.outputs }, new T.Generator(config.seed));
    let atInit: { traceSigma: number; gradNormSq: number };
    try {
      atInit = noiseStatistics(w0, split.x, split.y, loss);
    } finally {
      w0.dispose();
    }
    const curves = o.replacement.flatMap((replacement) => o.steps.map((step) => {
      const points = gradientVarianceAlongTraining({ model: config.model, data: split, batchSizes: o.batchSizes, step, sequences: o.sequences, lr: config.optimizer.lr, replacement, seed: config.seed });
      return {
        replacement, step, points,
        fit: fitPolynomialInInverseB(points, Math.min(o.degree, points.length - 1)),
        nonIncreasing: isNonIncreasing(points),
        ...(step === 0 ? { exact: points.map((p) => minibatchGradientVariance(atInit.traceSigma, p.b, n, replacement)) } : {}),
      };
    }));
    return { examples: n, traceSigmaAtInit: atInit.traceSigma, gradNormSqAtInit: atInit.gradNormSq, lr: config.optimizer.lr, curves };
  } finally {
    T.dispose([split.x, split.y]);
  }
}
