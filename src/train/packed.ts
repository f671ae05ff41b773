/**
 * Packed trials (issue 23): K training runs that share the architecture, the data and the budget and
 * differ in seed, learning rate, momentum, dampening, weight decay or Adam's betas and eps, trained as
 * one computation (src/nn/packed-mlp.ts: stacked weights, one batched product per layer). Member k is the
 * run train(configs[k]) would make: the same initial weights (its model stream), the same minibatch
 * order (its sampling stream), its own batch-norm statistics and optimizer state; its result and model
 * are what train() returns for it, up to float rounding (batched products sum in another order).
 *
 * A member whose loss turns inf, NaN or above its divergenceLoss ends as diverged exactly where train()
 * would end it (after that step's update); its weights are taken out and it leaves the pack (its rows of
 * every stacked tensor removed), so the others go on undisturbed and it costs nothing more. A caller
 * that stops the pack at rungs (PackedRun: a study that prunes) ends members there the same way.
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
  /** Each member's latest loss (NaN for a member that has ended: diverged, or ended at a rung). */
  losses: number[];
  samplesPerSecond: number;
}

export interface PackedOptions {
  /** Already prepared data (it stays the caller's); otherwise the pack's data are loaded and freed. */
  data?: DataSplits;
  onProgress?(p: PackedProgress): void;
  /** After each step of a live member, with train()'s step metrics (not on the step it diverges at, as train()'s onStep). */
  onStep?(member: number, metrics: StepMetrics): void;
  /** After every evaluation of a member (in training, at a rung, and its final one). */
  onEval?(member: number, record: EvalRecord): void;
}

export interface PackedRunOptions extends PackedOptions {
  /**
   * After a step (and its progress), as train()'s pauseAfter: true makes the step a rung, where advance()
   * returns with every live member's evaluation there (train()'s evaluation at a pause: its final one, on
   * the whole training set), and the caller may end members there (endAtRung). Not asked after the last step.
   */
  pauseAfter?(p: { step: number; epoch: number; totalSteps: number }): boolean;
}

/** A rung (PackedRunOptions.pauseAfter): the live members, by index among the configurations, with their evaluations at its step. */
export interface PackRung {
  step: number;
  epoch: number;
  totalSteps: number;
  members: { index: number; evaluation: EvalRecord }[];
}

/** What train() returns, one per member: its result (the pack's wall time as its seconds) and its final model (the caller's: dispose it). */
export interface PackedMember {
  result: TrainResult;
  model: Module;
}

/** A member's end as PackedRun hands it out: which configuration it trained, its result and its model. */
export interface EndedMember extends PackedMember {
  index: number;
}

/** Trains configs[k] as member k of one pack; see packingProblems and packKey for what a pack may hold. */
export function trainPacked(configs: readonly TrainConfig[], options: PackedOptions = {}): PackedMember[] {
  const run = new PackedRun(configs, options);
  try {
    // Without pauseAfter there is no rung: the first advance() trains to the end.
    while (run.advance() !== undefined) continue;
    return run.finish().map(({ result, model }) => ({ result, model }));
  } finally {
    run.dispose();
  }
}

interface MemberRun {
  /** Its configuration's index. */
  index: number;
  config: TrainConfig;
  baseLr: number;
  sampler: IndexSampler & { dispose(): void };
  history: TrainResult['history'];
  initial?: Map<string, T.Tensor>;
  /** Steps done; the member is live while `end` is undefined. */
  steps: number;
  samples: number;
  /** Its slot in the pack (PackedMlp's member dimension) while it is live. */
  slot: number | undefined;
  /** Diverged (with why) or ended at a rung (`stopped`). */
  end?: { reason?: string; stopped?: string; seconds: number };
  /** Its result and model were handed to the caller. */
  handedOut: boolean;
}

/** Member k's run: its learning rate, and the sampling stream train(configs[k]) draws from (trainer.ts streamSeed). */
function memberRuns(configs: readonly TrainConfig[], models: readonly Module[], n: number, batchSize: number): MemberRun[] {
  return configs.map((config, k) => {
    const samplingGen = new T.Generator(streamSeed(config.seed, 2));
    return {
      index: k,
      config,
      baseLr: scaledLearningRate(config.optimizer.lr, batchSize, config.scaling?.rule ?? 'none', config.scaling?.baseBatchSize ?? batchSize),
      sampler: config.sampling === 'replacement' ? new WithReplacement(n, batchSize, samplingGen) : new RandomReshuffling(n, batchSize, config.dropLast, samplingGen),
      history: { steps: [], evals: [] },
      ...(config.save ? { initial: new Map([...models[k]!.stateDict()].map(([name, v]) => [name, T.keep(v.detach().clone())])) } : {}),
      steps: 0,
      samples: 0,
      slot: k,
      handedOut: false,
    };
  });
}

/** What a pack is built of before its first step, and how far it has come. */
interface PackState {
  shared: TrainConfig;
  data: DataSplits;
  record: TrainResult['record'];
  loss: LossName;
  io: ModelIO;
  batchSize: number;
  packMicroBatch: number;
  stepsPerEpoch: number;
  totalSteps: number;
  evalEvery: number;
  models: Module[];
  members: MemberRun[];
  pack: PackedMlp;
  optimizer: PackedOptimizer;
  /** Steps done. */
  step: number;
  started: number;
  /** The live members' evaluations at the rung the pack stands at (between advance() and the next one). */
  rung: Map<MemberRun, EvalRecord> | undefined;
}

function preparePack(configs: readonly TrainConfig[], data: DataSplits): PackState {
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
  let members: MemberRun[] | undefined;
  let pack: PackedMlp | undefined;
  try {
    members = memberRuns(configs, models, n, batchSize);
    pack = new PackedMlp(models);
    const optimizer = makeOptimizer(configs, pack.parameters(), members.map((m) => m.baseLr));
    // Without batch norm a micro-batch only bounds memory (the chunks' gradients add up to the batch's, up to
    // rounding), so the pack's may be smaller than train()'s: small enough that the widest activation of all K
    // members, K·b·width float32s, stays under ACTIVATION_BYTES, below the allocator's mmap threshold (32 MB,
    // src/native/addon.cc; each larger allocation would be mapped and page-faulted anew every step). With
    // batch norm a micro-batch is a normalization batch too, so each member's is train()'s. Kept when members
    // leave the pack, so that the others go on exactly as they were.
    const fitting = Math.max(1, Math.floor(ACTIVATION_BYTES / (4 * configs.length * pack.widestFeatures)));
    const stepsPerEpoch = members[0]!.sampler.stepsPerEpoch;
    return {
      shared, data, record, loss, io, batchSize, packMicroBatch: pack.hasBatchNorm ? microBatch : Math.min(microBatch, fitting), stepsPerEpoch,
      totalSteps: 'steps' in shared.budget ? shared.budget.steps : Math.max(1, Math.round(shared.budget.epochs * stepsPerEpoch)),
      evalEvery: shared.eval.every ?? Math.min(stepsPerEpoch, 1000),
      models, members, pack, optimizer, step: 0, started: performance.now(), rung: undefined,
    };
  } catch (error) {
    pack?.dispose();
    for (const m of members ?? []) disposeMember(m);
    for (const model of models) model.dispose();
    throw error;
  }
}

function disposeMember(m: MemberRun): void {
  m.sampler.dispose();
  if (m.initial) T.dispose([...m.initial.values()]);
}

/**
 * A pack in training that its caller drives: advance() trains to the next rung (PackedRunOptions.pauseAfter)
 * or to the end; at a rung the caller may end members there (endAtRung: how a study prunes packed trials,
 * src/study/worker.ts); finish() ends the others. A member that ends (at a rung, or diverged) leaves the
 * pack: its rows of every stacked parameter, buffer and optimizer state are removed (PackedMlp.keepMembers),
 * so it costs no more arithmetic, and the others go on with their own batches and state exactly as before.
 * dispose() frees everything not handed out.
 */
export class PackedRun {
  readonly #options: PackedRunOptions;
  readonly #ownData: DataSplits[] = [];
  #state: PackState | undefined;

  constructor(configs: readonly TrainConfig[], options: PackedRunOptions = {}) {
    checkPack(configs);
    this.#options = options;
    const device = checkedDevice(configs[0]!);
    const prepared = options.data ?? prepareData(configs[0]!.data);
    if (options.data === undefined) this.#ownData.push(prepared);
    try {
      const data = splitsOnDevice(prepared, device);
      if (data !== prepared) this.#ownData.push(data);
      this.#state = preparePack(configs, data);
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  #s(): PackState {
    if (this.#state === undefined) throw new Error('PackedRun: used after dispose()');
    return this.#state;
  }

  /** The live members in slot order. */
  #inPack(): MemberRun[] {
    return this.#s().members.filter((m) => m.slot !== undefined).sort((a, b) => a.slot! - b.slot!);
  }

  /** The pack's stacked parameters [K, …], K the members still training (the pack's own tensors: read, do not keep). */
  get parameters(): readonly T.Tensor[] {
    return this.#s().pack.parameters();
  }

  /**
   * Trains to the next rung and returns it (every live member evaluated there), or to the end of the
   * budget (or until no member is live) and returns undefined; finish() then ends the members.
   */
  advance(): PackRung | undefined {
    const s = this.#s();
    const { shared, optimizer, pack } = s;
    const options = this.#options;
    s.rung = undefined;
    const epochAt = (step: number) => step / s.stepsPerEpoch;
    while (s.step < s.totalSteps && this.#inPack().length > 0) {
      const step = s.step++;
      const inPack = this.#inPack();
      const factor = scheduleFactor(shared.schedule, shared.warmup, step, s.totalSteps);
      optimizer.lrs = inPack.map((m) => m.baseLr * factor);
      const { losses, norms, b } = T.tidy(() => {
        // Every live member draws its own batch from its own sampling stream.
        const indices = T.stack(inPack.map((m) => m.sampler.next()), 0);
        const b = indices.shape[1]!;
        const g = packedBatchGradient(pack, s.loss, s.data.train, indices, s.packMicroBatch);
        const norms = memberGradientNorms(g.grads);
        optimizer.step(g.grads);
        return { losses: g.losses, norms, b };
      });
      const seconds = (performance.now() - s.started) / 1000;
      this.#recordStep(inPack, { step, losses, norms, b, seconds });
      const stepsDone = step + 1;
      const more = stepsDone < s.totalSteps && this.#inPack().length > 0;
      if (stepsDone % s.evalEvery === 0 && more) {
        for (const [m, e] of this.#evaluate(stepsDone, shared.eval.trainSubset)) {
          m.history.evals.push(e);
          options.onEval?.(m.index, e);
        }
      }
      const lossOf = new Map(inPack.map((m, i) => [m, losses[i]!]));
      const examples = s.members.reduce((a, m) => a + m.samples, 0);
      options.onProgress?.({ step: stepsDone, totalSteps: s.totalSteps, losses: s.members.map((m) => (m.end === undefined ? lossOf.get(m)! : NaN)), samplesPerSecond: examples / seconds });
      if (more && options.pauseAfter?.({ step: stepsDone, epoch: epochAt(stepsDone), totalSteps: s.totalSteps })) {
        // As train() at a pause: the final evaluation at this step, on the whole training set (a rung's value).
        s.rung = this.#evaluate(stepsDone, undefined);
        for (const [m, e] of s.rung) options.onEval?.(m.index, e);
        return { step: stepsDone, epoch: epochAt(stepsDone), totalSteps: s.totalSteps, members: [...s.rung].map(([m, e]) => ({ index: m.index, evaluation: e })) };
      }
    }
    return undefined;
  }

  /**
   * Ends members `indices` (live at the rung advance() just returned) there, as train() of their
   * configuration with its budget cut at the rung's step would end: their evaluation at the rung is
   * their final one, their model has their weights there. They leave the pack. Returns them (the
   * models are the caller's).
   */
  endAtRung(indices: readonly number[]): EndedMember[] {
    const s = this.#s();
    const rung = s.rung;
    if (rung === undefined) throw new Error('PackedRun.endAtRung: the pack is not at a rung (call it after advance() returned one)');
    const live = new Map([...rung.keys()].map((m) => [m.index, m]));
    const leaving = [...new Set(indices)].map((i) => {
      const m = live.get(i);
      if (m === undefined) throw new Error(`PackedRun.endAtRung: member ${i} is not live at this rung; live: ${[...live.keys()].join(', ')}`);
      return m;
    });
    const seconds = (performance.now() - s.started) / 1000;
    for (const m of leaving) {
      s.pack.writeMember(m.slot!);
      m.end = { stopped: `ended at the rung after step ${m.steps}`, seconds };
    }
    this.#leave(leaving);
    const ended = leaving.map((m) => {
      const e = rung.get(m)!;
      rung.delete(m);
      m.history.evals.push(e);
      return { index: m.index, ...memberResult(m, s.models[m.index]!, e, s) };
    });
    for (const m of leaving) m.handedOut = true;
    return ended;
  }

  /** After advance() returned undefined: the members not ended at a rung, each with its final evaluation (train()'s, on its own model), result and model (the caller's). */
  finish(): EndedMember[] {
    const s = this.#s();
    if (s.step < s.totalSteps && this.#inPack().length > 0) throw new Error(`PackedRun.finish: training is not over (step ${s.step} of ${s.totalSteps}); advance() until it returns undefined`);
    const seconds = (performance.now() - s.started) / 1000;
    for (const m of this.#inPack()) s.pack.writeMember(m.slot!);
    const remaining = s.members.filter((m) => !m.handedOut);
    const ended = remaining.map((m) => {
      const model = s.models[m.index]!;
      const evalOn = (d: NonNullable<DataSplits['validation']>): Evaluation => evaluate(model, d, s.loss, { batchSize: m.config.eval.batchSize });
      const final: EvalRecord = {
        step: m.steps, epoch: m.steps / s.stepsPerEpoch, train: evalOn(s.data.train),
        ...(s.data.validation ? { validation: evalOn(s.data.validation) } : {}), test: evalOn(s.data.test),
      };
      m.history.evals.push(final);
      this.#options.onEval?.(m.index, final);
      m.end ??= { seconds };
      return { index: m.index, ...memberResult(m, model, final, s) };
    });
    for (const m of remaining) m.handedOut = true;
    return ended;
  }

  /** Frees the pack, its optimizer, its samplers, its own data and the models not handed out (a second call does nothing). */
  dispose(): void {
    const s = this.#state;
    this.#state = undefined;
    if (s) {
      s.optimizer.dispose();
      s.pack.dispose();
      for (const m of s.members) {
        disposeMember(m);
        if (!m.handedOut) s.models[m.index]!.dispose();
      }
    }
    for (const d of this.#ownData.splice(0)) disposeSplits(d);
  }

  /** One step's numbers for every live member: its history, and train()'s divergence rule (after the step's update, as there). */
  #recordStep(inPack: readonly MemberRun[], s: { step: number; losses: number[]; norms: number[]; b: number; seconds: number }): void {
    const { pack, optimizer } = this.#s();
    const diverged: MemberRun[] = [];
    inPack.forEach((m, i) => {
      m.steps = s.step + 1;
      m.samples += s.b;
      const metrics: StepMetrics = { step: s.step, loss: s.losses[i]!, gradNorm: s.norms[i]!, lr: optimizer.lrs[i]!, batchSize: s.b };
      if (s.step % m.config.logEvery === 0) m.history.steps.push(metrics);
      if (!Number.isFinite(metrics.loss) || metrics.loss > m.config.divergenceLoss) {
        m.end = { reason: `the training loss was ${metrics.loss} at step ${s.step} (limit ${m.config.divergenceLoss})`, seconds: s.seconds };
        pack.writeMember(m.slot!);
        diverged.push(m);
      } else {
        this.#options.onStep?.(m.index, metrics);
      }
    });
    this.#leave(diverged);
  }

  /** Members whose weights are written into their models leave the pack: the others keep their rows of every stacked tensor. */
  #leave(leaving: readonly MemberRun[]): void {
    if (leaving.length === 0) return;
    const { pack, optimizer } = this.#s();
    const stay = this.#inPack().filter((m) => !leaving.includes(m));
    for (const m of leaving) m.slot = undefined;
    // None left: nothing more is computed, and the pack is disposed as it is.
    if (stay.length === 0) return;
    const slots = stay.map((m) => m.slot!);
    pack.keepMembers(slots);
    optimizer.keepMembers(slots, pack.parameters());
    stay.forEach((m, i) => (m.slot = i));
  }

  /** Every live member's evaluation at `step` (training set: its first `trainLimit` examples), one pass of the pack per split. */
  #evaluate(step: number, trainLimit: number | undefined): Map<MemberRun, EvalRecord> {
    const { pack, data, loss, shared, stepsPerEpoch } = this.#s();
    const evaluations = {
      train: evaluatePacked(pack, data.train, loss, { batchSize: shared.eval.batchSize, limit: trainLimit }),
      validation: data.validation ? evaluatePacked(pack, data.validation, loss, { batchSize: shared.eval.batchSize }) : undefined,
      test: evaluatePacked(pack, data.test, loss, { batchSize: shared.eval.batchSize }),
    };
    return new Map(this.#inPack().map((m) => {
      const k = m.slot!;
      return [m, { step, epoch: step / stepsPerEpoch, train: evaluations.train[k]!, ...(evaluations.validation ? { validation: evaluations.validation[k]! } : {}), test: evaluations.test[k]! }];
    }));
  }
}

/** A member's result with `final` as its final evaluation, and its checkpoint when it saves. */
function memberResult(m: MemberRun, model: Module, final: EvalRecord, c: PackState): PackedMember {
  const { config } = m;
  const status: TrainResult['status'] = m.end?.reason !== undefined ? 'diverged' : 'completed';
  const seconds = m.end!.seconds;
  const epochs = m.steps / c.stepsPerEpoch;
  const result: TrainResult = {
    status,
    ...(m.end?.reason !== undefined ? { reason: m.end.reason } : {}),
    steps: m.steps,
    epochs,
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
    ...(m.end?.stopped !== undefined ? { stopped: m.end.stopped } : {}),
    numParameters: model.numParameters(),
    data: c.data.description,
    config,
    record: c.record,
  };
  if (config.save) {
    mkdirSync(config.save, { recursive: true });
    saveSafetensors(join(config.save, 'initial.safetensors'), m.initial!, { format: 'sgdlab-initial-weights-v1', step: '0' });
    result.checkpoint = saveCheckpoint(config.save, model, {
      format: 'sgdlab-checkpoint-v1', model: config.model, io: c.io, step: m.steps, epoch: epochs, config, record: c.record,
      metrics: { status, train: final.train, test: final.test, ...(final.validation ? { validation: final.validation } : {}) },
    });
  }
  return { result, model };
}
