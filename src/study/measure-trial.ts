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
import { BatchNorm, Dropout, buildModel, modelInfo, type LossName, type Module } from '../nn/index.js';
import { configDevice, distanceFromInitial, initialModel, streamSeed, type TrainConfig } from '../train/index.js';
import { linearRegressionGradientVariance, minibatchGradientVariance } from '../theory/index.js';
import { DEFAULT_SHARPNESS_SOLVER, Objective, alphaGrid, objectiveConvention, fitPolynomialInInverseB, sumCosts, gradientVarianceAlongTraining, gradientVarianceAlongTrainingPacked, canPackSequences, selectDegreeByHeldOut, hessianTrace, interpolate, isNonIncreasing, keskarSharpness, noiseStatistics, parameterDistance, topEigenvalues } from '../measure/index.js';
import { MEASUREMENT_KINDS, type MeasureSpec, type MeasurementKind } from './schema.js';

/**
 * Runs one measurement on a model (its parameters are left as they were) and returns the stored result.
 * An interpolation also takes its SB partner (α = 0; `model` is at α = 1) and both checkpoints' paths
 * (for the distances from initialization).
 */
export function measureModel(kind: MeasurementKind, measure: MeasureSpec, model: Module, config: TrainConfig, data: DataSplits, partner?: { model: Module; checkpoint: string; self: string }): Record<string, unknown> {
  const total = data.train.x.shape[0]!;
  const n = Math.min(measure.subset ?? total, total);
  const loss = config.loss ?? modelInfo(config.model.name).defaultLoss;
  const objective = () => new Objective(model, data.train.x, data.train.y, loss, { limit: n, ...measure.objective });
  switch (kind) {
    case 'hessian': {
      const o = objective();
      const eig = topEigenvalues(o, { topK: measure.hessian.topK, method: measure.hessian.method, maxIter: measure.hessian.maxIter, seed: measure.seed });
      const trace = measure.hessian.traceProbes > 0 ? hessianTrace(o, { probes: measure.hessian.traceProbes, seed: measure.seed }) : undefined;
      return {
        eigenvalues: eig.eigenvalues, residuals: eig.residuals, method: eig.method, iterations: eig.iterations, hvps: o.cost.hessianVectorProducts, examples: n, cost: o.cost, objective: o.convention,
        ...(trace ? { trace: trace.trace, traceStandardError: trace.standardError, traceProbes: trace.probes } : {}),
      };
    }
    case 'sharpness': {
      const o = measure.sharpness;
      const solvers = o.solver === undefined ? [DEFAULT_SHARPNESS_SOLVER] : [o.solver].flat();
      const values = o.space.flatMap((space) => o.epsilon.flatMap((epsilon) => solvers.map((solver) => {
        const r = keskarSharpness(objective(), { epsilon, subspace: space === 'full' ? undefined : space, subspaceDistribution: o.subspaceDistribution, maxIter: o.maxIter, randomStarts: o.randomStarts, seed: measure.seed, solver });
        return {
          epsilon, space, solver, subspaceDistribution: r.subspaceDistribution, phi: r.phi, firstOrder: r.firstOrder, loss: r.loss, maxLoss: r.maxLoss, dimension: r.dimension, moved: r.moved, iterations: r.iterations,
          evaluations: r.evaluations, coordinatesAtBound: r.coordinatesAtBound, reason: r.starts[0]!.reason, seconds: r.seconds,
        };
      })));
      return { values, examples: n, objective: objectiveConvention({ ...measure.objective }, loss) };
    }
    case 'interpolate':
      if (!partner) throw new Error('an interpolation needs the SB partner model');
      return interpolationFromPartner(measure, model, partner, config, data, n, loss);
    case 'gradientVariance':
      return gradientVarianceFromInit(measure, config, data, n, loss);
    case 'noise': {
      const x = data.train.x.narrow(0, 0, n);
      const y = data.train.y.narrow(0, 0, n);
      try {
        return { ...noiseStatistics(model, x, y, loss, { monteCarloSamples: measure.noise.monteCarlo, seed: measure.seed }) };
      } finally {
        T.dispose([x, y]);
      }
    }
    default: {
      const unknown: never = kind;
      throw new Error(`unknown measurement kind '${String(unknown)}'; known kinds: ${MEASUREMENT_KINDS.join(', ')}`);
    }
  }
}

/** Keskar et al.'s Fig. 3 for a trial: the linear (and curved) path from its SB partner (α = 0) to it (α = 1), with distances. */
function interpolationFromPartner(measure: MeasureSpec, model: Module, partner: { model: Module; checkpoint: string; self: string }, config: TrainConfig, data: DataSplits, n: number, loss: LossName): Record<string, unknown> {
  const probe = buildModel(config.model, { inputShape: data.train.inputShape, outputs: data.train.outputs }, new T.Generator(0)).to(configDevice(config));
  try {
    const o = measure.interpolate;
    const split = { train: data.train, test: data.test };
    const path = (curved: boolean) => interpolate(partner.model, model, probe, split, loss, {
      alphas: alphaGrid(o.from, o.to, o.points), curved, limit: n,
      // measure.objective's 'batch' convention evaluates every point by batch statistics (no running ones to set).
      ...(measure.objective?.batchNorm === 'batch' ? { batchNorm: 'batch' as const, batchNormBatch: measure.objective.batchNormBatch } : { batchNorm: o.batchNorm.mode, batchNormExamples: o.batchNorm.examples, batchNormBatchSize: o.batchNorm.batchSize }),
      seed: measure.seed,
    });
    const linear = path(false);
    const curved = o.curved ? path(true) : undefined;
    return {
      partner: partner.checkpoint, examples: n,
      points: linear.points,
      ...(curved ? { curved: curved.points } : {}),
      batchNorm: linear.batchNorm,
      cost: sumCosts([linear.cost, ...(curved ? [curved.cost] : [])]),
      distance: parameterDistance(partner.model, model),
      distanceFromInitial: { a: distanceFromInitial(partner.checkpoint, partner.model) ?? null, b: distanceFromInitial(partner.self, model) ?? null },
    };
  } finally {
    probe.dispose();
  }
}

/**
 * Qian & Klabjan's measurement for a trial: from its initialization w₀ (exactly the weights the trainer
 * started from and saved as `initial.safetensors`), the variance of the minibatch gradient after k steps
 * for every b, k and sampling, with minibatch sequences drawn from the measurement seed; a polynomial fit
 * in 1/b, whether it decreases in b, and at k = 0 the closed form from tr Σ₁ at w₀ (measured from
 * per-example gradients, an independent computation). The sequences run in training mode (see
 * measure/along-training.ts); the closed form is reported only for models without batch norm or
 * dropout, the models the theory covers.
 */
function gradientVarianceFromInit(measure: MeasureSpec, config: TrainConfig, data: DataSplits, n: number, loss: LossName): Record<string, unknown> {
  const o = measure.gradientVariance;
  const split: TensorDataset = { ...data.train, x: data.train.x.narrow(0, 0, n), y: data.train.y.narrow(0, 0, n) };
  const w0 = initialModel(config, { inputShape: split.inputShape, outputs: split.outputs });
  try {
    const independentExamples = !w0.modules().some((m) => m instanceof BatchNorm || m instanceof Dropout);
    const atInit = noiseStatistics(w0, split.x, split.y, loss);
    // Each trial seed draws its own sequences (and a different measurement seed others again).
    const sequencesSeed = streamSeed(config.seed, 7) + measure.seed;
    const packed = canPackSequences(w0);
    if (o.degree === 'held-out' && !packed) throw new Error(`measure.gradientVariance.degree: 'held-out' needs the sequences' two halves, which the packed runs give; model '${config.model.name}' cannot run packed (a Sequential of linear, batch-norm and activation layers can): give a number`);
    const exactRecursion = linearRegressionRecursion(config, w0, split, Math.max(...o.steps));
    const curves = o.replacement.flatMap((replacement) => {
      const common = { model: config.model, initial: w0, data: split, batchSizes: o.batchSizes, sequences: sequencesFor(o, config), lr: config.optimizer.lr, replacement, seed: sequencesSeed };
      const runs = packed ? gradientVarianceAlongTrainingPacked({ ...common, steps: o.steps })
        : o.steps.map((step) => ({ step, points: gradientVarianceAlongTraining({ ...common, step }), folds: undefined }));
      return runs.map(({ step, points, folds }) => {
        const heldOut = o.degree === 'held-out' ? selectDegreeByHeldOut(folds!, o.maxDegree) : undefined;
        return {
          replacement, step, points,
          fit: fitPolynomialInInverseB(points, heldOut?.degree ?? Math.min(o.degree as number, points.length - 1)),
          nonIncreasing: isNonIncreasing(points),
          ...(heldOut ? { heldOut } : {}),
          ...(step === 0 && independentExamples ? { exact: points.map((p) => minibatchGradientVariance(atInit.traceSigma, p.b, n, replacement)) } : {}),
          ...(exactRecursion ? { exactRecursion: points.map((p) => exactRecursion(p.b, replacement, step)) } : {}),
        };
      });
    });
    return { examples: n, mode: 'train', packed, sequences: sequencesFor(o, config), traceSigmaAtInit: atInit.traceSigma, gradNormSqAtInit: atInit.gradNormSq, lr: config.optimizer.lr, curves };
  } finally {
    w0.dispose();
    T.dispose([split.x, split.y]);
  }
}

/** The number of batch sequences for this trial's model (measure.gradientVariance.sequencesByModel, else sequences). */
const sequencesFor = (o: MeasureSpec['gradientVariance'], config: TrainConfig): number => o.sequencesByModel?.[config.model.name] ?? o.sequences;

/**
 * For linear regression (one linear layer, no bias, half squared error: the model the recursion is
 * for), Var(g_k | w₀) exactly from the moment recursion (theory/qian-klabjan.ts, Qian & Klabjan §3);
 * undefined for other models, where no such recursion exists.
 */
function linearRegressionRecursion(config: TrainConfig, w0: Module, split: TensorDataset, lastStep: number): ((b: number, replacement: boolean, step: number) => number) | undefined {
  const params = w0.parameters();
  // The sequences run on the model's default loss (along-training.ts): the recursion is for ½ squared error.
  if (config.model.name !== 'linear-regression' || params.length !== 1 || modelInfo(config.model.name).defaultLoss !== 'half-mse') return undefined;
  const rows = { x: split.x.reshape([split.x.shape[0]!, -1]).toArray() as number[][], y: split.y.reshape([-1]).toArray() as number[], w0: params[0]!.flatten().toArray() as number[] };
  // One recursion to the last step per (b, sampling) gives every step's value.
  const curves = new Map<string, number[]>();
  return (b, replacement, step) => {
    const key = `${b} ${replacement}`;
    if (!curves.has(key)) curves.set(key, linearRegressionGradientVariance({ ...rows, lr: config.optimizer.lr, b, replacement }, lastStep));
    return curves.get(key)![step]!;
  };
}
