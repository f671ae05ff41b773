/**
 * The training loop: minibatch SGD (or Adam, …) on a model from the zoo and a prepared dataset,
 * for a budget of epochs or steps, with periodic evaluation, divergence detection, hooks for
 * measurements, and a final checkpoint. Same config and seed on the same machine ⇒ the same
 * numbers, bit for bit: every random draw comes from a generator seeded from config.seed.
 */
import * as T from '../tensor/index.js';
import { appliedNormalization, augment, disposeSplits, normalizedValue, prepareData, size, splitsOnDevice, take, type DataSplits } from '../data/index.js';
import { mkdirSync } from 'node:fs';
import { buildModel, modelInfo, type LossName, type Module, type ModelIO } from '../nn/index.js';
import { Adam, Proximal, SGD, scaledLearningRate, scheduleFactor, scheduleFactorAtProgress, type Optimizer } from '../optim/index.js';
import { adversarialBatch, type InputSpace } from './adversarial.js';
import { DynamicBatch, groupedBatchGradient, type NormTest } from './batch-schedule.js';
import { distanceFromWeights, type CheckpointSidecar } from './checkpoint.js';
import { LossLevelCheckpoints, type LossLevelRecord } from './checkpoint-levels.js';
import { ConfigError, configDevice, type TrainConfig } from './config.js';
import { checkedDevice } from './device.js';
import { evaluate } from './evaluate.js';
import { batchGradient } from './gradient.js';
import { PlateauRule, type PlateauRecord } from './plateau.js';
import { runRecord, type RunRecord } from './record.js';
import { RandomReshuffling, ReshufflingStream, WithReplacement, type IndexSampler } from './sampler.js';
import { restoreTrainingSnapshot, saveInitialWeights, saveTrainingSnapshot, type TrainingParts } from './snapshot.js';
import { assembleResult, evaluateSplits, saveFinalCheckpoint, saveInitial, type CheckpointDescription, type PausedRun, type ResultHead, type ResultTail, type Split } from './paused-run.js';

export type { EvalRecord, StepContext, StepMetrics, StoppedBy, TrainHooks, TrainResult } from './run-types.js';
import type { EvalRecord, StepMetrics, StoppedBy, TrainHooks, TrainResult } from './run-types.js';

export interface TrainOptions {
  /** Already prepared data (it stays the caller's); otherwise config.data is loaded and freed. */
  data?: DataSplits;
  hooks?: TrainHooks;
  /** Continue from the snapshot in config.save, if there is one (snapshots: config.snapshotEvery). */
  resume?: boolean;
}

/** Independent seeded streams: 1 the model (initialization, then dropout), 2 sampling, 4 augmentation, 5 fresh data, 6 adversarial starts (7: a measurement's minibatch sequences, study/measure-trial.ts). */
export function streamSeed(seed: number, stream: number): number {
  return (seed * 1_000_003 + stream * 7_919) % Number.MAX_SAFE_INTEGER;
}

/**
 * The run's initial model w₀: built from its model spec and the model stream of its seed (what
 * `initial.safetensors` holds), on the configured device. The trainer passes that stream's generator,
 * which the model's dropout layers keep drawing from. The weights are drawn on the CPU (libtorch's CPU
 * generators cannot fill CUDA tensors) and then moved, so w₀ is the same on every device.
 */
export function initialModel(config: TrainConfig, io: ModelIO, generator = new T.Generator(streamSeed(config.seed, 1))): Module {
  return buildModel(config.model, io, generator).to(configDevice(config));
}

function makeOptimizer(config: TrainConfig, params: T.Tensor[], lr: number): Optimizer {
  const o = config.optimizer;
  const base: Optimizer = o.name === 'sgd'
    ? new SGD(params, { lr, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weightDecay: o.weightDecay })
    : new Adam(params, { lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay, decoupled: o.name === 'adamw' });
  return o.proximal ? new Proximal(base, o.proximal) : base;
}

/** The loss fits the data: cross-entropy needs class labels, the regression losses need targets. */
export function checkLoss(loss: LossName, data: DataSplits, model: string): void {
  const classification = data.train.numClasses !== undefined;
  if (loss === 'cross-entropy' && !classification) throw new ConfigError([`loss: cross-entropy needs class labels, but ${data.description} is a regression dataset (use mse or half-mse)`]);
  if (loss !== 'cross-entropy' && classification) throw new ConfigError([`loss: ${loss} needs regression targets, but ${data.description} has class labels (use cross-entropy, or a regression dataset with model ${model})`]);
}

/** Trains one configuration. The returned model belongs to the caller (dispose it). */
export function train(config: TrainConfig, options: TrainOptions = {}): { result: TrainResult; model: Module } {
  return withRunData(config, options, (data) => run(config, data, options.hooks ?? {}, options.resume ?? false, (r) => ({ result: finish(r), model: r.model })));
}

/** How a run that may pause (trainPausable) ended: at its end (budget, divergence, stopAt), or at a pause. */
export type PausableEnd = { kind: 'ended'; result: TrainResult; model: Module } | { kind: 'paused'; paused: PausedRun };

/**
 * Trains as train() does, except that a pause (hooks.pauseAfter) evaluates only the splits in
 * `pauseEvaluates` (and train and test when the run keeps loss-level checkpoints: they read both) and
 * ends with a PausedRun; hooks.onEval is not told of that partial evaluation. completePause
 * (paused-run.ts) gives the TrainResult of train()'s full-evaluation pause from it, checkpoint included;
 * a paused run writes no checkpoint until then. The snapshot to resume from is written as by train().
 * The model of either end belongs to the caller (dispose it).
 */
export function trainPausable(config: TrainConfig, options: TrainOptions & { pauseEvaluates: readonly Split[] }): PausableEnd {
  return withRunData(config, options, (data) => run(config, data, options.hooks ?? {}, options.resume ?? false, (r): PausableEnd => (
    r.paused ? { kind: 'paused', paused: pausedRun(r, options.pauseEvaluates) } : { kind: 'ended', result: finish(r), model: r.model })));
}

/** Runs `f` on the run's data on its device: the caller's (options.data) or config.data loaded, and freed after. */
function withRunData<R>(config: TrainConfig, options: TrainOptions, f: (data: DataSplits) => R): R {
  // Before any work: a device this machine does not have is a configuration error.
  const device = checkedDevice(config);
  const ownData = options.data === undefined;
  const prepared = options.data ?? prepareData(config.data);
  try {
    // The data live where the model does (the same object when they are there already, e.g. on the CPU).
    const data = splitsOnDevice(prepared, device);
    try {
      return f(data);
    } finally {
      if (data !== prepared) disposeSplits(data);
    }
  } finally {
    if (ownData) disposeSplits(prepared);
  }
}

/** Combinations the schema cannot see: they need the data or the whole configuration. */
function checkRemedies(config: TrainConfig, n: number): void {
  const problems: string[] = [];
  if (config.batchSchedule && config.warmStart) problems.push('batchSchedule: a batch schedule and warmStart cannot be combined (a warm start is a two-step batch schedule: use kind: step)');
  if (config.batchSchedule && config.batchSize === 'full') problems.push("batchSchedule: needs a numeric batchSize to grow from, not 'full'");
  const schedule = config.batchSchedule;
  if (schedule?.max !== undefined && config.sampling === 'reshuffle' && schedule.max > n) problems.push(`batchSchedule.max: ${schedule.max} exceeds the ${n} training examples`);
  if (schedule && typeof config.batchSize === 'number' && config.batchSize > (schedule.max ?? n)) problems.push(`batchSchedule.max: ${schedule.max ?? n} is below the initial batch size ${config.batchSize}`);
  if (schedule?.kind === 'adaptive' && config.batchSize === 1) problems.push('batchSize: the adaptive schedule estimates a variance from the batch, so it needs at least 2 examples');
  if (config.snapshotEvery !== undefined && !config.save) problems.push('snapshotEvery: snapshots are written into the save directory; set save');
  if (problems.length > 0) throw new ConfigError(problems);
}

/** What a snapshot keeps of the run so far: the history, the loss levels already crossed (their checkpoints are written), and the plateau rule's state. */
type SnapshotHistory = TrainResult['history'] & { lossLevels?: LossLevelRecord[]; plateau?: PlateauRecord };

/** The generators of a run's seeded streams (streamSeed), in the order its snapshots keep them. */
function runGenerators(seed: number): Record<'model' | 'sampling' | 'augment' | 'fresh' | 'adversarial', T.Generator> {
  const at = (stream: number) => new T.Generator(streamSeed(seed, stream));
  return { model: at(1), sampling: at(2), augment: at(4), fresh: at(5), adversarial: at(6) };
}

/** Batch sizes the training set cannot serve, and fresh sampling from data that cannot draw. */
function checkBatchSizes(config: TrainConfig, data: DataSplits, n: number, batchSize: number): void {
  if (config.sampling === 'fresh' && !data.fresh) throw new ConfigError([`sampling: 'fresh' needs a synthetic dataset that can draw new examples; ${config.data.name} cannot`]);
  if (config.sampling === 'reshuffle' && batchSize > n) throw new ConfigError([`batchSize: ${batchSize} exceeds the ${n} training examples (use 'full' for full-batch gradient descent)`]);
  const warm = config.warmStart;
  if (warm && config.sampling === 'reshuffle' && warm.batchSize > n) throw new ConfigError([`warmStart.batchSize: ${warm.batchSize} exceeds the ${n} training examples`]);
}

/** How a run draws its batches: its samplers, its batch schedule, and the steps they make. */
interface RunSampling {
  warmSampler: (IndexSampler & { dispose(): void }) | undefined;
  mainSampler: IndexSampler & { dispose(): void };
  /** A batch schedule, and its sampler of batches of changing size (none with fresh sampling). */
  dynamic: DynamicBatch | undefined;
  dynamicSampler: WithReplacement | ReshufflingStream | undefined;
  warmSteps: number;
  stepsPerEpoch: number;
  totalSteps: number;
}

function runSampling(config: TrainConfig, n: number, batchSize: number, samplingGen: T.Generator): RunSampling {
  const makeSampler = (b: number): IndexSampler & { dispose(): void } => config.sampling === 'replacement'
    ? new WithReplacement(n, b, samplingGen)
    : new RandomReshuffling(n, b, config.dropLast, samplingGen);
  const warm = config.warmStart;
  // Samplers draw nothing when built, so a warm phase at B_w draws exactly what a plain run at B_w would.
  const warmSampler = warm ? makeSampler(warm.batchSize) : undefined;
  const mainSampler = makeSampler(batchSize);
  // A batch schedule draws batches of changing size: from one stream of permutations, or i.i.d. indices.
  const dynamic = config.batchSchedule ? new DynamicBatch(config.batchSchedule, batchSize, config.budget, n) : undefined;
  const dynamicSampler = dynamic && config.sampling !== 'fresh' ? (config.sampling === 'replacement' ? new WithReplacement(n, batchSize, samplingGen) : new ReshufflingStream(n, samplingGen)) : undefined;
  const warmSteps = warm && warmSampler ? Math.round(warm.epochs * warmSampler.stepsPerEpoch) : 0;
  const stepsPerEpoch = mainSampler.stepsPerEpoch;
  const mainSteps = 'steps' in config.budget ? config.budget.steps : Math.max(1, Math.round(config.budget.epochs * stepsPerEpoch));
  const totalSteps = dynamic ? dynamic.estimatedTotalSteps() : warmSteps + mainSteps;
  return { warmSampler, mainSampler, dynamic, dynamicSampler, warmSteps, stepsPerEpoch, totalSteps };
}

/** A run in progress: what it built before its first step, and how far it has come. */
interface Run extends RunSampling {
  config: TrainConfig;
  data: DataSplits;
  hooks: TrainHooks;
  record: RunRecord;
  loss: LossName;
  io: ModelIO;
  model: Module;
  params: T.Tensor[];
  /** The initial weights, kept when the run saves or checkpoints at loss levels. */
  initial: Map<string, T.Tensor> | undefined;
  batchSize: number;
  microBatch: number;
  /** Learning rate after the scaling rule, before the schedule. */
  baseLr: number;
  optimizer: Optimizer;
  generators: ReturnType<typeof runGenerators>;
  /** Outside the image after a rotation or shift: black, as normalized. */
  fill: number[];
  inputSpace: InputSpace;
  evalEvery: number;
  levels: LossLevelCheckpoints | undefined;
  plateau: PlateauRule | undefined;
  /** Snapshots (resume) save and restore these. */
  parts: TrainingParts;
  history: TrainResult['history'];
  status: TrainResult['status'];
  reason: string | undefined;
  stopped: string | undefined;
  stoppedBy: StoppedBy | undefined;
  /** It ended at a pause (hooks.pauseAfter). */
  paused: boolean;
  stepsDone: number;
  /** Training examples drawn so far. */
  samples: number;
  /** performance.now() at the start (moved back by the seconds a resumed run had already trained). */
  started: number;
}

/** Checks the configuration against the data and builds the model, the optimizer, the samplers and the generators. */
function prepareRun(config: TrainConfig, data: DataSplits, hooks: TrainHooks): Run {
  const record = runRecord(configDevice(config));
  const loss = config.loss ?? modelInfo(config.model.name).defaultLoss;
  checkLoss(loss, data, config.model.name);
  checkRemedies(config, size(data.train));
  const io: ModelIO = { inputShape: data.train.inputShape, outputs: data.train.outputs };
  const generators = runGenerators(config.seed);
  const model = initialModel(config, io, generators.model);
  const params = model.parameters();
  // The initial weights, saved next to the checkpoint (distance from initialization, Keskar et al. §4).
  const initial = config.save || config.checkpointAt ? new Map([...model.stateDict()].map(([k, v]) => [k, T.keep(v.detach().clone())])) : undefined;
  const n = size(data.train);
  const batchSize = config.batchSize === 'full' ? n : config.batchSize;
  checkBatchSizes(config, data, n, batchSize);
  const baseLr = scaledLearningRate(config.optimizer.lr, batchSize, config.scaling?.rule ?? 'none', config.scaling?.baseBatchSize ?? batchSize);
  const optimizer = makeOptimizer(config, params, baseLr);
  const sampling = runSampling(config, n, batchSize, generators.sampling);
  const sidecarAt = (step: number, epoch: number, metrics: Record<string, unknown>): CheckpointSidecar => ({ format: 'sgdlab-checkpoint-v1', model: config.model, io, step, epoch, config, record, metrics });
  return {
    config, data, hooks, record, loss, io, model, params, initial, batchSize, microBatch: config.microBatchSize ?? 2048, baseLr, optimizer, generators, ...sampling,
    fill: normalizedValue(data, 0),
    inputSpace: { normalization: appliedNormalization(data), range: data.inputRange },
    evalEvery: config.eval.every ?? Math.min(sampling.stepsPerEpoch, 1000),
    levels: config.checkpointAt ? new LossLevelCheckpoints(config.checkpointAt.trainLoss, config.save, initial!, sidecarAt) : undefined,
    plateau: config.stopAt?.plateau ? new PlateauRule(config.stopAt.plateau) : undefined,
    parts: {
      model, optimizer, initial, schedule: sampling.dynamic, generators,
      samplers: { warm: sampling.warmSampler, main: sampling.mainSampler, dynamic: sampling.dynamicSampler },
    },
    history: { steps: [], evals: [] }, status: 'completed', reason: undefined, stopped: undefined, stoppedBy: undefined, paused: false, stepsDone: 0, samples: 0, started: performance.now(),
  };
}

/** Epochs done after `step` steps (the warm phase counts its own epochs; a batch schedule counts examples). */
function epochAt(r: Run, step: number): number {
  if (r.dynamic) return r.dynamic.epochs;
  if (r.config.warmStart && r.warmSampler) return Math.min(step, r.warmSteps) / r.warmSampler.stepsPerEpoch + Math.max(0, step - r.warmSteps) / r.stepsPerEpoch;
  return step / r.stepsPerEpoch;
}

function evaluateAll(r: Run, step: number, trainLimit?: number): EvalRecord {
  const { model, data, loss, config } = r;
  return {
    step,
    epoch: epochAt(r, step),
    train: evaluate(model, data.train, loss, { batchSize: config.eval.batchSize, limit: trainLimit }),
    ...(data.validation ? { validation: evaluate(model, data.validation, loss, { batchSize: config.eval.batchSize }) } : {}),
    test: evaluate(model, data.test, loss, { batchSize: config.eval.batchSize }),
  };
}

/** Continues from the snapshot in config.save when resuming and there is one; otherwise keeps the initial weights for later snapshots. */
function restoreOrStart(r: Run, resume: boolean): void {
  const { config } = r;
  const restored = resume && config.save ? restoreTrainingSnapshot<SnapshotHistory>(config.save, config, r.parts) : undefined;
  if (config.snapshotEvery !== undefined && !restored) saveInitialWeights(config.save!, r.initial!);
  if (!restored) return;
  ({ step: r.stepsDone, examples: r.samples } = restored);
  r.history.steps.push(...restored.history.steps);
  r.history.evals.push(...restored.history.evals);
  r.levels?.restore(restored.history.lossLevels ?? []);
  if (restored.history.plateau) r.plateau?.restore(restored.history.plateau);
  r.started -= restored.seconds * 1000;
  if (r.dynamic) r.totalSteps = r.dynamic.estimatedTotalSteps();
}

/** The step's batch of b examples: drawn (or freshly sampled), augmented, and partly adversarial. */
function drawBatch(r: Run, step: number, b: number): { x: T.Tensor; y: T.Tensor } {
  const { config, data, generators } = r;
  let x: T.Tensor;
  let y: T.Tensor;
  if (config.sampling === 'fresh') ({ x, y } = data.fresh!(b, generators.fresh));
  else ({ x, y } = take(data.train, r.dynamicSampler ? r.dynamicSampler.next(b) : (step < r.warmSteps ? r.warmSampler! : r.mainSampler).next()));
  r.samples += x.shape[0]!;
  if (config.data.augment && x.rank === 4) x = augment(x, config.data.augment, generators.augment, r.fill);
  if (config.adversarial) x = adversarialBatch(r.model, r.loss, x, y, config.adversarial, r.inputSpace, generators.adversarial);
  return { x, y };
}

/** One optimizer step at the scheduled learning rate and batch size; the batch schedule moves on. Returns the step's metrics. */
function trainStep(r: Run, step: number): StepMetrics {
  const { config, dynamic, optimizer, model, params, loss } = r;
  const b = dynamic ? dynamic.batchSize : step < r.warmSteps ? config.warmStart!.batchSize : r.batchSize;
  optimizer.lr = dynamic
    ? dynamic.learningRate(r.baseLr) * scheduleFactorAtProgress(config.schedule, config.warmup, step, dynamic.progress, dynamic.progressAfter(b))
    : r.baseLr * scheduleFactor(config.schedule, config.warmup, step, r.totalSteps);
  let metrics: StepMetrics | undefined;
  let test: NormTest | undefined;
  const testsNow = dynamic?.testsNow ?? false;
  T.tidy(() => {
    const { x, y } = drawBatch(r, step, b);
    optimizer.step(() => {
      let g: ReturnType<typeof batchGradient>;
      if (testsNow && config.batchSchedule?.kind === 'adaptive') {
        const grouped = groupedBatchGradient(model, params, loss, x, y, config.batchSchedule.groups, r.microBatch);
        test ??= grouped.test;
        g = grouped;
      } else g = batchGradient(model, params, loss, x, y, r.microBatch);
      // The first evaluation in a step is at the pre-step parameters: that is the step's loss.
      metrics ??= { step, loss: g.loss, gradNorm: T.listNorm(g.grads).item(), lr: optimizer.lr, batchSize: x.shape[0]!, ...(test ? { normTest: test.ratio } : {}) };
      return g.grads;
    });
  });
  if (dynamic) {
    dynamic.advance(b, test);
    r.totalSteps = dynamic.estimatedTotalSteps();
  }
  r.stepsDone = step + 1;
  return metrics!;
}

/** Ends the run by a stopAt rule: why, in words. */
function stopBy(r: Run, by: Exclude<StoppedBy, 'budget'>, why: string): false {
  r.stoppedBy = by;
  r.stopped = why;
  return false;
}

/** After a step: its record, divergence, hooks, the periodic evaluation (and stopAt), snapshots. False when the run ends here. */
function afterStep(r: Run, step: number, m: StepMetrics): boolean {
  const { config, hooks, history, stepsDone, model } = r;
  if (step % config.logEvery === 0) history.steps.push(m);
  if (!Number.isFinite(m.loss) || m.loss > config.divergenceLoss) {
    r.status = 'diverged';
    r.reason = `the training loss was ${m.loss} at step ${step} (limit ${config.divergenceLoss})`;
    return false;
  }
  hooks.onStep?.({ step, epoch: epochAt(r, stepsDone), metrics: m, model, data: r.data });
  const more = r.dynamic ? !r.dynamic.finished : stepsDone < r.totalSteps;
  if (stepsDone % r.evalEvery === 0 && more) {
    const e = evaluateAll(r, stepsDone, config.eval.trainSubset);
    history.evals.push(e);
    hooks.onEval?.(e, model);
    r.levels?.observe(e, model);
    const target = config.stopAt?.trainLoss;
    if (target !== undefined && e.train.loss < target) {
      return stopBy(r, 'trainLoss', `the training loss ${e.train.loss} at step ${stepsDone} (on ${e.train.examples} examples) is below stopAt.trainLoss ${target}`);
    }
    if (r.plateau?.on === 'eval' && r.plateau.afterEvaluation(e.train.loss, stepsDone, e.epoch)) return stopBy(r, 'plateau', r.plateau.describe());
  }
  // Every step's loss counts, logged or not; at an epoch's end (the budget's last one too) the rule checks the epoch's mean.
  if (r.plateau?.on === 'epoch' && r.plateau.afterStep(m.loss, m.batchSize, stepsDone, epochAt(r, stepsDone))) return stopBy(r, 'plateau', r.plateau.describe());
  if (config.snapshotEvery !== undefined && stepsDone % config.snapshotEvery === 0 && more) {
    saveTrainingSnapshot<SnapshotHistory>(config.save!, config, r.parts, { step: stepsDone, examples: r.samples, seconds: (performance.now() - r.started) / 1000, history: { ...history, ...(r.levels ? { lossLevels: r.levels.records } : {}), ...(r.plateau ? { plateau: r.plateau.record() } : {}) } });
  }
  hooks.onProgress?.({ step: stepsDone, totalSteps: r.totalSteps, loss: m.loss, samplesPerSecond: r.samples / ((performance.now() - r.started) / 1000) });
  if (more && hooks.pauseAfter?.({ step: stepsDone, epoch: epochAt(r, stepsDone), totalSteps: r.totalSteps })) return pause(r);
  return true;
}

/** Ends the run at a pause (hooks.pauseAfter) with a snapshot to resume from, unless the periodic one was just written. */
function pause(r: Run): false {
  const { config, history, stepsDone } = r;
  if (!config.save) throw new Error('pausing a run (hooks.pauseAfter) needs config.save: its snapshot is written there');
  if (config.snapshotEvery === undefined || stepsDone % config.snapshotEvery !== 0) {
    mkdirSync(config.save, { recursive: true });
    saveTrainingSnapshot<SnapshotHistory>(config.save, config, r.parts, { step: stepsDone, examples: r.samples, seconds: (performance.now() - r.started) / 1000, history: { ...history, ...(r.levels ? { lossLevels: r.levels.records } : {}) } });
  }
  r.stopped = `paused after step ${stepsDone}`;
  r.paused = true;
  return false;
}

/** The result's fields that do not depend on the final evaluation: those before it and those after the history (assembleResult). */
function resultParts(r: Run, seconds: number): { head: ResultHead; tail: ResultTail } {
  const { config, model, initial, dynamic, stepsDone, status, levels, samples } = r;
  return {
    head: {
      status,
      ...(r.reason ? { reason: r.reason } : {}),
      steps: stepsDone,
      epochs: epochAt(r, stepsDone),
      batchSize: r.batchSize,
      examples: samples,
      ...(dynamic ? { batchSchedule: { largestBatchSize: dynamic.largest, changes: [...dynamic.changes] } } : {}),
      baseLr: r.baseLr,
      seconds,
      samplesPerSecond: samples / seconds,
    },
    tail: {
      ...(levels ? { lossLevels: levels.records } : {}),
      ...(initial ? { distanceFromInitial: distanceFromWeights(model, initial, 'the initial weights') } : {}),
      ...(r.stopped ? { stopped: r.stopped } : {}),
      ...(config.stopAt && status === 'completed' ? { stoppedBy: r.stoppedBy ?? 'budget' } : {}),
      ...(r.plateau ? { plateau: r.plateau.record() } : {}),
      numParameters: model.numParameters(),
      data: r.data.description,
      config,
      record: r.record,
    },
  };
}

/** The run's checkpoint at its last step but the metrics (saveFinalCheckpoint adds them). */
function checkpointDescription(r: Run): CheckpointDescription {
  const { config, dynamic, stepsDone } = r;
  return {
    format: 'sgdlab-checkpoint-v1', model: config.model, io: r.io, step: stepsDone, epoch: epochAt(r, stepsDone), config, record: r.record,
    ...(dynamic ? { batchSchedule: dynamic.state() } : {}),
  };
}

/** The final evaluation (on the whole training set), the result, and the checkpoint when the run saves. */
function finish(r: Run): TrainResult {
  const { config, model, initial, stepsDone, status, levels } = r;
  const seconds = (performance.now() - r.started) / 1000;
  const final = evaluateAll(r, stepsDone);
  r.history.evals.push(final);
  r.hooks.onEval?.(final, model);
  if (status === 'completed') levels?.observe(final, model);
  const { head, tail } = resultParts(r, seconds);
  const result = assembleResult(head, final, r.history, tail);
  if (config.save) {
    mkdirSync(config.save, { recursive: true });
    if (config.snapshotEvery === undefined) saveInitial(config.save, initial!);
    result.checkpoint = saveFinalCheckpoint(config.save, model, checkpointDescription(r), status, final);
  }
  return result;
}

/**
 * A run ended at a pause with the splits in `splits` evaluated (and train and test with loss-level
 * checkpoints, whose observation reads both): finish's work but the other splits and the checkpoint,
 * which completePause does. The initial weights are written now, as finish writes them: the snapshot's
 * resumption reads them back.
 */
function pausedRun(r: Run, splits: readonly Split[]): PausedRun {
  const { config, model, initial, stepsDone, levels } = r;
  const seconds = (performance.now() - r.started) / 1000;
  const setup = { model, data: r.data, loss: r.loss, batchSize: config.eval.batchSize };
  const evaluation = evaluateSplits(setup, levels ? [...splits, 'train', 'test'] : splits, { step: stepsDone, epoch: epochAt(r, stepsDone) });
  const { train, test } = evaluation;
  if (levels && train && test) levels.observe({ ...evaluation, train, test }, model);
  const { head, tail } = resultParts(r, seconds);
  if (config.save) {
    mkdirSync(config.save, { recursive: true });
    if (config.snapshotEvery === undefined) saveInitial(config.save, initial!);
  }
  return { head, tail, history: r.history, evaluation, model, loss: r.loss, checkpoint: config.save ? checkpointDescription(r) : undefined };
}

/** Prepares the run, trains until it ends or pauses, and ends it with `end` (before its optimizer, samplers and initial weights are freed). */
function run<R>(config: TrainConfig, data: DataSplits, hooks: TrainHooks, resume: boolean, end: (r: Run) => R): R {
  const r = prepareRun(config, data, hooks);
  try {
    restoreOrStart(r, resume);
    r.model.train();
    for (let step = r.stepsDone; r.dynamic ? !r.dynamic.finished : step < r.totalSteps; step++) {
      if (!afterStep(r, step, trainStep(r, step))) break;
    }
    return end(r);
  } catch (error) {
    r.model.dispose();
    throw error;
  } finally {
    r.optimizer.dispose();
    r.mainSampler.dispose();
    r.warmSampler?.dispose();
    r.dynamicSampler?.dispose();
    if (r.initial) T.dispose([...r.initial.values()]);
  }
}
