/**
 * The training loop: minibatch SGD (or Adam, …) on a model from the zoo and a prepared dataset,
 * for a budget of epochs or steps, with periodic evaluation, divergence detection, hooks for
 * measurements, and a final checkpoint. Same config and seed on the same machine ⇒ the same
 * numbers, bit for bit: every random draw comes from a generator seeded from config.seed.
 */
import * as T from '../tensor/index.js';
import { augment, disposeSplits, prepareData, size, take, type DataSplits } from '../data/index.js';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { buildModel, modelInfo, saveSafetensors, type LossName, type Module, type ModelIO } from '../nn/index.js';
import { Adam, Proximal, SGD, scaledLearningRate, scheduleFactor, type Optimizer } from '../optim/index.js';
import { distanceFromWeights, saveCheckpoint, type CheckpointSidecar } from './checkpoint.js';
import { LossLevelCheckpoints, type LossLevelRecord } from './checkpoint-levels.js';
import { ConfigError, type TrainConfig } from './config.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { batchGradient } from './gradient.js';
import { runRecord, type RunRecord } from './record.js';
import { RandomReshuffling, WithReplacement, type IndexSampler } from './sampler.js';

export interface StepMetrics {
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
}

export interface EvalRecord {
  step: number;
  epoch: number;
  train: Evaluation;
  validation?: Evaluation;
  test: Evaluation;
}

export interface TrainResult {
  status: 'completed' | 'diverged';
  /** Why a diverged run stopped. */
  reason?: string;
  steps: number;
  epochs: number;
  batchSize: number;
  /** Learning rate after the scaling rule, before the schedule. */
  baseLr: number;
  seconds: number;
  samplesPerSecond: number;
  train: Evaluation;
  validation?: Evaluation;
  test: Evaluation;
  history: { steps: StepMetrics[]; evals: EvalRecord[] };
  checkpoint?: string;
  /** The first evaluations below each level of config.checkpointAt (and their checkpoints). */
  lossLevels?: LossLevelRecord[];
  /** Why the run ended before its budget (config.stopAt). */
  stopped?: string;
  /** ‖θ − θ₀‖ at the end (when the initial weights are kept: save or checkpointAt). */
  distanceFromInitial?: number;
  numParameters: number;
  data: string;
  config: TrainConfig;
  record: RunRecord;
}

export interface StepContext {
  step: number;
  epoch: number;
  metrics: StepMetrics;
  model: Module;
  data: DataSplits;
}

export interface TrainHooks {
  /** After every optimizer step (measurements during training). */
  onStep?(ctx: StepContext): void;
  /** After every evaluation. */
  onEval?(record: EvalRecord, model: Module): void;
  /** For progress bars: steps done of the total, latest loss, throughput. */
  onProgress?(p: { step: number; totalSteps: number; loss: number; samplesPerSecond: number }): void;
}

export interface TrainOptions {
  /** Already prepared data (it stays the caller's); otherwise config.data is loaded and freed. */
  data?: DataSplits;
  hooks?: TrainHooks;
}

/** Independent seeded streams: 1 the model (initialization, then dropout), 2 sampling, 4 augmentation, 5 fresh data. */
export function streamSeed(seed: number, stream: number): number {
  return (seed * 1_000_003 + stream * 7_919) % Number.MAX_SAFE_INTEGER;
}

function makeOptimizer(config: TrainConfig, params: T.Tensor[], lr: number): Optimizer {
  const o = config.optimizer;
  const base: Optimizer = o.name === 'sgd'
    ? new SGD(params, { lr, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weightDecay: o.weightDecay })
    : new Adam(params, { lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay, decoupled: o.name === 'adamw' });
  return o.proximal ? new Proximal(base, o.proximal) : base;
}

function checkLoss(loss: LossName, data: DataSplits, model: string): void {
  const classification = data.train.numClasses !== undefined;
  if (loss === 'cross-entropy' && !classification) throw new ConfigError([`loss: cross-entropy needs class labels, but ${data.description} is a regression dataset (use mse or half-mse)`]);
  if (loss !== 'cross-entropy' && classification) throw new ConfigError([`loss: ${loss} needs regression targets, but ${data.description} has class labels (use cross-entropy, or a regression dataset with model ${model})`]);
}

/** Trains one configuration. The returned model belongs to the caller (dispose it). */
export function train(config: TrainConfig, options: TrainOptions = {}): { result: TrainResult; model: Module } {
  const ownData = options.data === undefined;
  const data = options.data ?? prepareData(config.data);
  try {
    return run(config, data, options.hooks ?? {});
  } finally {
    if (ownData) disposeSplits(data);
  }
}

function run(config: TrainConfig, data: DataSplits, hooks: TrainHooks): { result: TrainResult; model: Module } {
  const record = runRecord();
  const info = modelInfo(config.model.name);
  const loss = config.loss ?? info.defaultLoss;
  checkLoss(loss, data, config.model.name);
  const io: ModelIO = { inputShape: data.train.inputShape, outputs: data.train.outputs };
  const model = buildModel(config.model, io, new T.Generator(streamSeed(config.seed, 1)));
  const params = model.parameters();
  // The initial weights, saved next to the checkpoint (distance from initialization, Keskar et al. §4).
  const initial = config.save || config.checkpointAt ? new Map([...model.stateDict()].map(([k, v]) => [k, T.keep(v.detach().clone())])) : undefined;
  const n = size(data.train);
  const batchSize = config.batchSize === 'full' ? n : config.batchSize;
  if (config.sampling === 'fresh' && !data.fresh) throw new ConfigError([`sampling: 'fresh' needs a synthetic dataset that can draw new examples; ${config.data.name} cannot`]);
  if (config.sampling === 'reshuffle' && batchSize > n) throw new ConfigError([`batchSize: ${batchSize} exceeds the ${n} training examples (use 'full' for full-batch gradient descent)`]);
  const microBatch = config.microBatchSize ?? 2048;
  const baseLr = scaledLearningRate(config.optimizer.lr, batchSize, config.scaling?.rule ?? 'none', config.scaling?.baseBatchSize ?? batchSize);
  const optimizer = makeOptimizer(config, params, baseLr);
  const samplingGen = new T.Generator(streamSeed(config.seed, 2));
  const augmentGen = new T.Generator(streamSeed(config.seed, 4));
  const freshGen = new T.Generator(streamSeed(config.seed, 5));
  const makeSampler = (b: number): IndexSampler & { dispose(): void } => config.sampling === 'replacement'
    ? new WithReplacement(n, b, samplingGen)
    : new RandomReshuffling(n, b, config.dropLast, samplingGen);
  const warm = config.warmStart;
  if (warm && config.sampling === 'reshuffle' && warm.batchSize > n) throw new ConfigError([`warmStart.batchSize: ${warm.batchSize} exceeds the ${n} training examples`]);
  // Samplers draw nothing when built, so a warm phase at B_w draws exactly what a plain run at B_w would.
  const warmSampler = warm ? makeSampler(warm.batchSize) : undefined;
  const mainSampler = makeSampler(batchSize);
  const warmSteps = warm && warmSampler ? Math.round(warm.epochs * warmSampler.stepsPerEpoch) : 0;
  const stepsPerEpoch = mainSampler.stepsPerEpoch;
  const mainSteps = 'steps' in config.budget ? config.budget.steps : Math.max(1, Math.round(config.budget.epochs * stepsPerEpoch));
  const totalSteps = warmSteps + mainSteps;
  // Epochs done after `step` steps (the warm phase counts its own epochs).
  const epochAt = (step: number) => (warm && warmSampler ? Math.min(step, warmSteps) / warmSampler.stepsPerEpoch + Math.max(0, step - warmSteps) / stepsPerEpoch : step / stepsPerEpoch);
  let samples = 0;
  const evalEvery = config.eval.every ?? Math.min(stepsPerEpoch, 1000);
  const history: TrainResult['history'] = { steps: [], evals: [] };
  let status: TrainResult['status'] = 'completed';
  let reason: string | undefined;
  let stepsDone = 0;
  let stopped: string | undefined;
  const started = performance.now();
  const sidecarAt = (step: number, epoch: number, metrics: Record<string, unknown>): CheckpointSidecar => ({ format: 'sgdlab-checkpoint-v1', model: config.model, io, step, epoch, config, record, metrics });
  const levels = config.checkpointAt ? new LossLevelCheckpoints(config.checkpointAt.trainLoss, config.save, initial!, sidecarAt) : undefined;

  const evaluateAll = (step: number, trainLimit?: number): EvalRecord => ({
    step,
    epoch: epochAt(step),
    train: evaluate(model, data.train, loss, { batchSize: config.eval.batchSize, limit: trainLimit }),
    ...(data.validation ? { validation: evaluate(model, data.validation, loss, { batchSize: config.eval.batchSize }) } : {}),
    test: evaluate(model, data.test, loss, { batchSize: config.eval.batchSize }),
  });

  try {
    model.train();
    for (let step = 0; step < totalSteps; step++) {
      optimizer.lr = baseLr * scheduleFactor(config.schedule, config.warmup, step, totalSteps);
      let metrics: StepMetrics | undefined;
      T.tidy(() => {
        let x: T.Tensor;
        let y: T.Tensor;
        const inWarmPhase = step < warmSteps;
        const b = inWarmPhase ? warm!.batchSize : batchSize;
        if (config.sampling === 'fresh') ({ x, y } = data.fresh!(b, freshGen));
        else ({ x, y } = take(data.train, (inWarmPhase ? warmSampler! : mainSampler).next()));
        samples += b;
        if (config.data.augment && x.rank === 4) x = augment(x, config.data.augment, augmentGen);
        optimizer.step(() => {
          const g = batchGradient(model, params, loss, x, y, microBatch);
          // The first evaluation in a step is at the pre-step parameters: that is the step's loss.
          metrics ??= { step, loss: g.loss, gradNorm: T.listNorm(g.grads).item(), lr: optimizer.lr };
          return g.grads;
        });
      });
      stepsDone = step + 1;
      const m = metrics!;
      if (step % config.logEvery === 0) history.steps.push(m);
      if (!Number.isFinite(m.loss) || m.loss > config.divergenceLoss) {
        status = 'diverged';
        reason = `the training loss was ${m.loss} at step ${step} (limit ${config.divergenceLoss})`;
        break;
      }
      hooks.onStep?.({ step, epoch: epochAt(stepsDone), metrics: m, model, data });
      if (stepsDone % evalEvery === 0 && stepsDone < totalSteps) {
        const e = evaluateAll(stepsDone, config.eval.trainSubset);
        history.evals.push(e);
        hooks.onEval?.(e, model);
        levels?.observe(e, model);
        if (config.stopAt && e.train.loss < config.stopAt.trainLoss) {
          stopped = `the training loss ${e.train.loss} at step ${stepsDone} (on ${e.train.examples} examples) is below stopAt.trainLoss ${config.stopAt.trainLoss}`;
          break;
        }
      }
      hooks.onProgress?.({ step: stepsDone, totalSteps, loss: m.loss, samplesPerSecond: samples / ((performance.now() - started) / 1000) });
    }
    const seconds = (performance.now() - started) / 1000;
    const final = evaluateAll(stepsDone);
    history.evals.push(final);
    hooks.onEval?.(final, model);
    if (status === 'completed') levels?.observe(final, model);
    const result: TrainResult = {
      status,
      ...(reason ? { reason } : {}),
      steps: stepsDone,
      epochs: epochAt(stepsDone),
      batchSize,
      baseLr,
      seconds,
      samplesPerSecond: samples / seconds,
      train: final.train,
      ...(final.validation ? { validation: final.validation } : {}),
      test: final.test,
      history,
      ...(levels ? { lossLevels: levels.records } : {}),
      ...(initial ? { distanceFromInitial: distanceFromWeights(model, initial, 'the initial weights') } : {}),
      ...(stopped ? { stopped } : {}),
      numParameters: model.numParameters(),
      data: data.description,
      config,
      record,
    };
    if (config.save) {
      mkdirSync(config.save, { recursive: true });
      saveSafetensors(join(config.save, 'initial.safetensors'), initial!, { format: 'sgdlab-initial-weights-v1', step: '0' });
      result.checkpoint = saveCheckpoint(config.save, model, {
        format: 'sgdlab-checkpoint-v1', model: config.model, io, step: stepsDone, epoch: epochAt(stepsDone), config, record,
        metrics: { status, train: final.train, test: final.test, ...(final.validation ? { validation: final.validation } : {}) },
      });
    }
    return { result, model };
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    optimizer.dispose();
    mainSampler.dispose();
    warmSampler?.dispose();
    if (initial) T.dispose([...initial.values()]);
  }
}
