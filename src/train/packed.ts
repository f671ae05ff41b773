/**
 * Packed trials (issue 23): K training runs that share the architecture, the data and the budget and
 * differ in seed, learning rate, momentum, dampening, weight decay or Adam's betas and eps, trained as
 * one computation (src/nn/packed-mlp.ts: stacked weights, one batched product per layer). Member k is the
 * run train(configs[k]) would make: the same initial weights (its model stream), the same minibatch
 * order (its sampling stream), its own batch-norm statistics and optimizer state; its result and model
 * are what train() returns for it, up to float rounding (batched products sum in another order).
 *
 * A member whose loss turns inf, NaN or above its divergenceLoss ends as diverged exactly where train()
 * would end it (after that step's update); its weights are taken out and its slot frozen (learning rate
 * 0, parameters and state cleared to finite zeros), so the others go on undisturbed.
 *
 * Legend: K = members, B = batch size, N = training examples.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../tensor/index.js';
import { disposeSplits, prepareData, size, splitsOnDevice, type DataSplits } from '../data/index.js';
import { modelInfo, saveSafetensors, type LossName, type Module, type ModelIO } from '../nn/index.js';
import { PackedMlp } from '../nn/packed-mlp.js';
import { scaledLearningRate, scheduleFactor } from '../optim/index.js';
import { PackedAdam, PackedSGD, type PackedOptimizer } from '../optim/packed-optimizer.js';
import { distanceFromWeights, saveCheckpoint } from './checkpoint.js';
import { ConfigError, configDevice, type TrainConfig } from './config.js';
import { checkedDevice } from './device.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { evaluatePacked } from './packed-evaluate.js';
import { memberGradientNorms, packedBatchGradient } from './packed-gradient.js';
import { runRecord } from './record.js';
import { RandomReshuffling, WithReplacement, type IndexSampler } from './sampler.js';
import { checkLoss, initialModel, streamSeed, type EvalRecord, type StepMetrics, type TrainResult } from './trainer.js';

/** Models whose zoo builder makes a Sequential of Flatten, Linear, BatchNorm and activations (PackedMlp's layers). */
export const PACKABLE_MODELS = ['mlp', 'keskar-f1', 'logistic-regression', 'linear-regression', 'deep-linear'] as const;

/** The largest activation a pack without batch norm computes at once (see packMicroBatch). */
const ACTIVATION_BYTES = 16 * 2 ** 20;

/** Top-level fields in which the members of a pack may differ; every other field is the pack's. */
const MEMBER_FIELDS = ['seed', 'divergenceLoss', 'logEvery', 'save', 'scaling'] as const;
/** Optimizer fields in which the members may differ (the optimizer's name and Nesterov flag are the pack's). */
const MEMBER_OPTIMIZER_FIELDS = ['lr', 'momentum', 'dampening', 'weightDecay', 'beta1', 'beta2', 'eps'] as const;

/** JSON with sorted keys, so that equal configurations give equal strings. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The configuration less what its members may differ in, field by field. */
function sharedFields(config: TrainConfig): Record<string, string> {
  const shared: Record<string, unknown> = { ...config };
  for (const f of MEMBER_FIELDS) delete shared[f];
  const optimizer: Record<string, unknown> = { ...config.optimizer };
  for (const f of MEMBER_OPTIMIZER_FIELDS) delete optimizer[f];
  shared.optimizer = optimizer;
  return Object.fromEntries(Object.entries(shared).map(([k, v]) => [k, stableJson(v)]));
}

/** Configurations with the same key can be trained as one pack (when packingProblems finds nothing in them). */
export function packKey(config: TrainConfig): string {
  return stableJson(sharedFields(config));
}

/** Why a configuration cannot be a pack member (empty: it can), each naming the field, its value and what is allowed. */
export function packingProblems(config: TrainConfig): string[] {
  const problems: string[] = [];
  const model = config.model;
  if (!(PACKABLE_MODELS as readonly string[]).includes(model.name)) problems.push(`model.name: '${model.name}' cannot be packed; packable models: ${PACKABLE_MODELS.join(', ')}`);
  if (model.dropout) problems.push(`model.dropout: ${model.dropout} cannot be packed (each member would draw its masks from its own model stream); use 0`);
  if (config.optimizer.proximal) problems.push('optimizer.proximal: conservative training cannot be packed');
  if (config.sampling === 'fresh') problems.push("sampling: 'fresh' cannot be packed; use 'reshuffle' or 'replacement'");
  const unsupported: [keyof TrainConfig, string][] = [['batchSchedule', 'a batch schedule'], ['warmStart', 'a warm start'], ['adversarial', 'adversarial training'], ['snapshotEvery', 'snapshots'], ['checkpointAt', 'loss-level checkpoints'], ['stopAt', 'an early stop']];
  for (const [field, what] of unsupported) if (config[field] !== undefined) problems.push(`${field}: ${what} cannot be packed; leave it out`);
  if (config.data.augment) problems.push('data.augment: augmentation cannot be packed; leave it out');
  return problems;
}

function checkPack(configs: readonly TrainConfig[]): void {
  if (configs.length === 0) throw new ConfigError(['members: a pack needs at least one configuration']);
  const problems = configs.flatMap((c, k) => packingProblems(c).map((p) => `member ${k}: ${p}`));
  const first = sharedFields(configs[0]!);
  configs.forEach((c, k) => {
    const own = sharedFields(c);
    const differing = [...new Set([...Object.keys(first), ...Object.keys(own)])].filter((f) => first[f] !== own[f]);
    if (differing.length > 0) {
      problems.push(`member ${k}: differs from member 0 in ${differing.map((f) => `'${f}'`).join(', ')}; members may differ only in ${[...MEMBER_FIELDS, ...MEMBER_OPTIMIZER_FIELDS.map((f) => `optimizer.${f}`)].join(', ')}`);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems, 'pack of training configurations');
}

function makeOptimizer(configs: readonly TrainConfig[], params: T.Tensor[], baseLrs: readonly number[]): PackedOptimizer {
  const name = configs[0]!.optimizer.name;
  if (name === 'sgd') {
    return new PackedSGD(params, configs.map(({ optimizer: o }, k) => ({ lr: baseLrs[k]!, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weightDecay: o.weightDecay })));
  }
  return new PackedAdam(params, configs.map(({ optimizer: o }, k) => ({ lr: baseLrs[k]!, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay, decoupled: name === 'adamw' })));
}

export interface PackedProgress {
  step: number;
  totalSteps: number;
  /** Each member's latest loss (NaN for a member that has diverged). */
  losses: number[];
  samplesPerSecond: number;
}

export interface PackedOptions {
  /** Already prepared data (it stays the caller's); otherwise the pack's data are loaded and freed. */
  data?: DataSplits;
  onProgress?(p: PackedProgress): void;
  /** After each step of a live member, with train()'s step metrics (not on the step it diverges at, as train()'s onStep). */
  onStep?(member: number, metrics: StepMetrics): void;
  /** After every evaluation of a member (in training, and its final one). */
  onEval?(member: number, record: EvalRecord): void;
}

/** What train() returns, one per member: its result (the pack's wall time as its seconds) and its final model (the caller's: dispose it). */
export interface PackedMember {
  result: TrainResult;
  model: Module;
}

/** Trains configs[k] as member k of one pack; see packingProblems and packKey for what a pack may hold. */
export function trainPacked(configs: readonly TrainConfig[], options: PackedOptions = {}): PackedMember[] {
  checkPack(configs);
  const device = checkedDevice(configs[0]!);
  const prepared = options.data ?? prepareData(configs[0]!.data);
  try {
    const data = splitsOnDevice(prepared, device);
    try {
      return runPack(configs, data, options);
    } finally {
      if (data !== prepared) disposeSplits(data);
    }
  } finally {
    if (options.data === undefined) disposeSplits(prepared);
  }
}

interface MemberRun {
  config: TrainConfig;
  baseLr: number;
  sampler: IndexSampler & { dispose(): void };
  history: TrainResult['history'];
  initial?: Map<string, T.Tensor>;
  /** Steps done; the member is live while `end` is undefined. */
  steps: number;
  samples: number;
  end?: { reason: string; seconds: number };
}

/** Member k's run: its learning rate, and the sampling stream train(configs[k]) draws from (trainer.ts streamSeed). */
function memberRuns(configs: readonly TrainConfig[], models: readonly Module[], n: number, batchSize: number): MemberRun[] {
  return configs.map((config, k) => {
    const samplingGen = new T.Generator(streamSeed(config.seed, 2));
    return {
      config,
      baseLr: scaledLearningRate(config.optimizer.lr, batchSize, config.scaling?.rule ?? 'none', config.scaling?.baseBatchSize ?? batchSize),
      sampler: config.sampling === 'replacement' ? new WithReplacement(n, batchSize, samplingGen) : new RandomReshuffling(n, batchSize, config.dropLast, samplingGen),
      history: { steps: [], evals: [] },
      ...(config.save ? { initial: new Map([...models[k]!.stateDict()].map(([name, v]) => [name, T.keep(v.detach().clone())])) } : {}),
      steps: 0,
      samples: 0,
    };
  });
}

/** One step's numbers for every live member: its history, and train()'s divergence rule (after the step's update, as there). */
function recordStep(
  members: MemberRun[], s: { step: number; losses: number[]; norms: number[]; b: number; seconds: number }, pack: PackedMlp, optimizer: PackedOptimizer,
  onStep: PackedOptions['onStep'],
): void {
  members.forEach((m, k) => {
    if (m.end !== undefined) return;
    m.steps = s.step + 1;
    m.samples += s.b;
    const metrics: StepMetrics = { step: s.step, loss: s.losses[k]!, gradNorm: s.norms[k]!, lr: optimizer.lrs[k]!, batchSize: s.b };
    if (s.step % m.config.logEvery === 0) m.history.steps.push(metrics);
    if (!Number.isFinite(metrics.loss) || metrics.loss > m.config.divergenceLoss) {
      m.end = { reason: `the training loss was ${metrics.loss} at step ${s.step} (limit ${m.config.divergenceLoss})`, seconds: s.seconds };
      pack.writeMember(k);
      pack.clearMember(k);
      optimizer.clearMember(k);
    } else {
      onStep?.(k, metrics);
    }
  });
}

function runPack(configs: readonly TrainConfig[], data: DataSplits, options: PackedOptions): PackedMember[] {
  const shared = configs[0]!;
  const record = runRecord(configDevice(shared));
  const loss = shared.loss ?? modelInfo(shared.model.name).defaultLoss;
  checkLoss(loss, data, shared.model.name);
  const io: ModelIO = { inputShape: data.train.inputShape, outputs: data.train.outputs };
  const n = size(data.train);
  const batchSize = shared.batchSize === 'full' ? n : shared.batchSize;
  if (shared.sampling === 'reshuffle' && batchSize > n) throw new ConfigError([`batchSize: ${batchSize} exceeds the ${n} training examples (use 'full' for full-batch gradient descent)`]);
  const microBatch = shared.microBatchSize ?? 2048;
  // Member k's model and sampling streams are those train(configs[k]) draws from (trainer.ts streamSeed).
  const models = configs.map((c) => initialModel(c, io, new T.Generator(streamSeed(c.seed, 1))));
  const members = memberRuns(configs, models, n, batchSize);
  const pack = new PackedMlp(models);
  const optimizer = makeOptimizer(configs, pack.parameters(), members.map((m) => m.baseLr));
  // Without batch norm a micro-batch only bounds memory (the chunks' gradients add up to the batch's, up to
  // rounding), so the pack's may be smaller than train()'s: small enough that the widest activation of all K
  // members, K·b·width float32s, stays under ACTIVATION_BYTES, below the allocator's mmap threshold (32 MB,
  // src/native/addon.cc; each larger allocation would be mapped and page-faulted anew every step). With
  // batch norm a micro-batch is a normalization batch too, so each member's is train()'s.
  const fitting = Math.max(1, Math.floor(ACTIVATION_BYTES / (4 * configs.length * pack.widestFeatures)));
  const packMicroBatch = pack.hasBatchNorm ? microBatch : Math.min(microBatch, fitting);
  const stepsPerEpoch = members[0]!.sampler.stepsPerEpoch;
  const totalSteps = 'steps' in shared.budget ? shared.budget.steps : Math.max(1, Math.round(shared.budget.epochs * stepsPerEpoch));
  const epochAt = (step: number) => step / stepsPerEpoch;
  const evalEvery = shared.eval.every ?? Math.min(stepsPerEpoch, 1000);
  const started = performance.now();
  const live = () => members.filter((m) => m.end === undefined);

  const evaluateLive = (step: number) => {
    const evaluations = {
      train: evaluatePacked(pack, data.train, loss, { batchSize: shared.eval.batchSize, limit: shared.eval.trainSubset }),
      validation: data.validation ? evaluatePacked(pack, data.validation, loss, { batchSize: shared.eval.batchSize }) : undefined,
      test: evaluatePacked(pack, data.test, loss, { batchSize: shared.eval.batchSize }),
    };
    members.forEach((m, k) => {
      if (m.end !== undefined) return;
      const e: EvalRecord = { step, epoch: epochAt(step), train: evaluations.train[k]!, ...(evaluations.validation ? { validation: evaluations.validation[k]! } : {}), test: evaluations.test[k]! };
      m.history.evals.push(e);
      options.onEval?.(k, e);
    });
  };

  try {
    pack.training = true;
    for (let step = 0; step < totalSteps && live().length > 0; step++) {
      const factor = scheduleFactor(shared.schedule, shared.warmup, step, totalSteps);
      optimizer.lrs = members.map((m) => (m.end === undefined ? m.baseLr * factor : 0));
      const { losses, norms, b } = T.tidy(() => {
        // Every member draws its own batch (a frozen member too, as its draws no longer matter).
        const indices = T.stack(members.map((m) => m.sampler.next()), 0);
        const b = indices.shape[1]!;
        const g = packedBatchGradient(pack, loss, data.train, indices, packMicroBatch);
        const norms = memberGradientNorms(g.grads);
        optimizer.step(g.grads);
        return { losses: g.losses, norms, b };
      });
      const seconds = (performance.now() - started) / 1000;
      recordStep(members, { step, losses, norms, b, seconds }, pack, optimizer, options.onStep);
      const stepsDone = step + 1;
      if (stepsDone % evalEvery === 0 && stepsDone < totalSteps && live().length > 0) evaluateLive(stepsDone);
      options.onProgress?.({ step: stepsDone, totalSteps, losses: members.map((m, k) => (m.end === undefined ? losses[k]! : NaN)), samplesPerSecond: (b * members.length * stepsDone) / seconds });
    }
    const seconds = (performance.now() - started) / 1000;
    members.forEach((m, k) => {
      if (m.end === undefined) pack.writeMember(k);
    });
    return members.map((m, k) => finish(m, models[k]!, k, { seconds, epochAt, batchSize, data, loss, io, record, onEval: options.onEval }));
  } catch (error) {
    for (const model of models) model.dispose();
    throw error;
  } finally {
    optimizer.dispose();
    pack.dispose();
    for (const m of members) {
      m.sampler.dispose();
      if (m.initial) T.dispose([...m.initial.values()]);
    }
  }
}

interface FinishContext {
  seconds: number;
  epochAt(step: number): number;
  batchSize: number;
  data: DataSplits;
  loss: LossName;
  io: ModelIO;
  record: TrainResult['record'];
  onEval?: PackedOptions['onEval'];
}

/** A member's final evaluation (train()'s, on its own model), checkpoint and result. */
function finish(m: MemberRun, model: Module, k: number, c: FinishContext): PackedMember {
  const { config } = m;
  const evalOn = (d: NonNullable<DataSplits['validation']>): Evaluation => evaluate(model, d, c.loss, { batchSize: config.eval.batchSize });
  const final: EvalRecord = {
    step: m.steps, epoch: c.epochAt(m.steps), train: evalOn(c.data.train),
    ...(c.data.validation ? { validation: evalOn(c.data.validation) } : {}), test: evalOn(c.data.test),
  };
  m.history.evals.push(final);
  c.onEval?.(k, final);
  const status: TrainResult['status'] = m.end ? 'diverged' : 'completed';
  const seconds = m.end?.seconds ?? c.seconds;
  const result: TrainResult = {
    status,
    ...(m.end ? { reason: m.end.reason } : {}),
    steps: m.steps,
    epochs: c.epochAt(m.steps),
    batchSize: c.batchSize,
    examples: m.samples,
    baseLr: m.baseLr,
    seconds,
    samplesPerSecond: m.samples / seconds,
    train: final.train,
    ...(final.validation ? { validation: final.validation } : {}),
    test: final.test,
    history: m.history,
    ...(m.initial ? { distanceFromInitial: distanceFromWeights(model, m.initial, 'the initial weights') } : {}),
    numParameters: model.numParameters(),
    data: c.data.description,
    config,
    record: c.record,
  };
  if (config.save) {
    mkdirSync(config.save, { recursive: true });
    saveSafetensors(join(config.save, 'initial.safetensors'), m.initial!, { format: 'sgdlab-initial-weights-v1', step: '0' });
    result.checkpoint = saveCheckpoint(config.save, model, {
      format: 'sgdlab-checkpoint-v1', model: config.model, io: c.io, step: m.steps, epoch: c.epochAt(m.steps), config, record: c.record,
      metrics: { status, train: final.train, test: final.test, ...(final.validation ? { validation: final.validation } : {}) },
    });
  }
  return { result, model };
}
