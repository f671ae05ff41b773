/**
 * A training run's configuration: one serializable object that fixes the run (with the seed),
 * validated by a zod schema whose errors name the field, the value and what is allowed.
 *
 *   batchSize: 256            // examples per SGD step
 *   optimizer: { name: adam, lr: 0.001 }   // lr per step at batchSize (scaled by `scaling` if set)
 */
import { z } from 'zod';
import { describeIssues } from './issues.js';
// Names only: reading a configuration must not load the libtorch addon (the results CLI reads them).
import { DATASET_NAMES, type DatasetName } from '../data/names.js';
import { ACTIVATIONS, INIT_NAMES, MODEL_NAMES, type ActivationName, type InitName, type ModelName } from '../nn/names.js';
import type { Device } from '../tensor/tensor.js';

/** zod's enum from a readonly list of names, keeping the literal type. */
const oneOf = <N extends string>(names: readonly N[]) => z.enum(names as unknown as [N, ...N[]]);

const positiveInt = z.number().int().positive();

/** The device names, checked here without the addon; whether this machine has the device is checkDevice's question (device.ts). */
const DEVICE_NAME = /^(cpu|cuda(:(0|[1-9]\d*))?)$/;
export const deviceSchema = z.custom<Device>((v) => typeof v === 'string' && DEVICE_NAME.test(v), { message: "expected 'cpu', 'cuda' or 'cuda:K' (K a GPU index)" });
const nonNegative = z.number().nonnegative();

export const modelSchema = z.strictObject({
  name: oneOf<ModelName>(MODEL_NAMES),
  widths: z.array(positiveInt).optional(),
  activation: oneOf<ActivationName>(ACTIVATIONS).optional(),
  batchNorm: z.boolean().optional(),
  ghostBatchSize: z.number().int().min(2).optional(),
  dropout: z.number().min(0).lt(1).optional(),
  bias: z.boolean().optional(),
  depth: positiveInt.optional(),
  widen: positiveInt.optional(),
  init: z.strictObject({ scheme: oneOf<InitName>(INIT_NAMES), std: z.number().positive().optional(), gain: z.number().positive().optional() }).optional(),
});

export const dataSchema = z.strictObject({
  name: oneOf<DatasetName>(DATASET_NAMES),
  dir: z.string().optional(),
  subset: positiveInt.optional(),
  validation: z.number().positive().optional(),
  normalize: z.boolean().optional(),
  seed: z.number().int().nonnegative().optional(),
  trainSize: positiveInt.optional(),
  testSize: positiveInt.optional(),
  linearRegression: z.strictObject({
    dim: positiveInt,
    covariance: z.union([z.array(nonNegative), z.array(z.array(z.number()))]).optional(),
    teacher: z.array(z.number()).optional(),
    labelNoise: nonNegative.optional(),
    inputNoise: nonNegative.optional(),
  }).optional(),
  gaussianClassification: z.strictObject({ dim: positiveInt, classes: z.number().int().min(2), separation: z.number().positive().optional() }).optional(),
  augment: z.strictObject({
    cropPadding: z.number().int().nonnegative().optional(),
    horizontalFlip: z.boolean().optional(),
    /** Largest random rotation, degrees (Keskar et al.: 10). */
    rotation: z.number().min(0).max(180).optional(),
    /** Largest random shift as a fraction of the image size (Keskar et al.: 0.2). */
    translation: z.number().min(0).lt(1).optional(),
  }).optional(),
});

export const optimizerSchema = z.strictObject({
  name: z.enum(['sgd', 'adam', 'adamw']),
  /** Learning rate at batchSize (or at scaling.baseBatchSize when a scaling rule is set). */
  lr: z.number().positive(),
  momentum: z.number().min(0).lt(1).optional(),
  dampening: z.number().min(0).max(1).optional(),
  nesterov: z.boolean().optional(),
  weightDecay: z.number().optional(),
  beta1: z.number().min(0).lt(1).optional(),
  beta2: z.number().min(0).lt(1).optional(),
  eps: z.number().positive().optional(),
  /** Keskar et al.'s conservative training: a proximal step solved by innerSteps inner steps. */
  proximal: z.strictObject({ lambda: nonNegative, innerSteps: positiveInt }).optional(),
});

export const scheduleSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant') }),
  z.strictObject({ kind: z.literal('step'), milestones: z.array(z.number().gt(0).lt(1)).min(1), gamma: z.number().positive().optional() }),
  z.strictObject({ kind: z.literal('cosine'), minFactor: z.number().min(0).max(1).optional() }),
]);

/** How the learning rate follows a growing batch: 'none' keeps it (Smith et al. 2018: growing B replaces decaying ε), or scales it with B/B₀. */
const batchCoupling = z.enum(['none', 'linear', 'sqrt']).default('none');
/** The largest batch a schedule may reach (default: the training set size). */
const batchCap = positiveInt.optional();

/**
 * Dynamic sampling: the batch size as a schedule over the budget (batch-schedule.ts). Progress is the
 * fraction of the budget spent: steps for a step budget, examples for an epoch budget.
 */
export const batchScheduleSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('step'),
    /** Fractions of the budget (increasing, in (0, 1)) at which the batch grows. */
    milestones: z.array(z.number().gt(0).lt(1)).min(1),
    /** Multiply the batch by this at each milestone (Smith et al. 2018 use 5)… */
    factor: z.number().gt(1).optional(),
    /** …or give the batch size after each milestone. */
    batchSizes: z.array(positiveInt).min(1).optional(),
    max: batchCap,
    couple: batchCoupling,
  }),
  z.strictObject({
    kind: z.literal('geometric'),
    /** Grow from batchSize to this over the budget: B = B₀·(to/B₀)^progress… */
    to: positiveInt.optional(),
    /** …or multiply by `factor` every `every` steps (Friedlander & Schmidt 2012). */
    factor: z.number().gt(1).optional(),
    every: positiveInt.optional(),
    max: batchCap,
    couple: batchCoupling,
  }),
  z.strictObject({
    kind: z.literal('adaptive'),
    /** Byrd et al. 2012's norm test: grow when ‖Var‖₁/|B| > θ²‖ĝ‖² (they use θ around 0.5–0.9). */
    theta: z.number().positive(),
    /** Groups the batch is split into to estimate the variance (B of them: the per-example variance). */
    groups: z.number().int().min(2).default(8),
    /** Run the test every this many steps. */
    every: positiveInt.default(1),
    max: batchCap,
    couple: batchCoupling,
  }),
]).superRefine((s, ctx) => {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (s.kind === 'step') {
    if ((s.factor === undefined) === (s.batchSizes === undefined)) issue('factor', 'give exactly one of factor and batchSizes');
    if (s.batchSizes && s.batchSizes.length !== s.milestones.length) issue('batchSizes', `needs one batch size per milestone (${s.milestones.length})`);
    if (s.milestones.some((m, i) => i > 0 && m <= s.milestones[i - 1]!)) issue('milestones', 'must increase');
  }
  if (s.kind === 'geometric') {
    if ((s.factor === undefined) === (s.to === undefined)) issue('factor', 'give exactly one of to (growth over the budget) and factor (growth every `every` steps)');
    if (s.every !== undefined && s.factor === undefined) issue('every', 'goes with factor');
  }
});

/** Adversarial (robust) training on inputs (adversarial.ts); ε in raw input units (pixels in [0, 1]). */
export const adversarialSchema = z.strictObject({
  attack: z.enum(['fgsm', 'pgd']),
  norm: z.enum(['linf', 'l2']).default('linf'),
  epsilon: z.number().positive(),
  /** PGD iterations (default 10). */
  steps: positiveInt.optional(),
  /** Step size α (default ε for FGSM, 2.5·ε/steps for PGD). */
  stepSize: z.number().positive().optional(),
  /** Start at a uniform point of the ball (default: PGD yes, FGSM no). */
  randomStart: z.boolean().optional(),
  /** Fraction of each minibatch replaced by adversarial examples. */
  fraction: z.number().gt(0).max(1).default(1),
  /** The model's mode during the attack: eval (running batch-norm statistics, no dropout) or train. */
  mode: z.enum(['eval', 'train']).default('eval'),
}).superRefine((a, ctx) => {
  if (a.attack === 'fgsm' && a.steps !== undefined && a.steps !== 1) ctx.addIssue({ code: 'custom', path: ['steps'], message: 'fgsm takes one step; use attack: pgd for several' });
});

/**
 * "Until the loss ceased to improve" (Keskar et al. 2017) as Keras's EarlyStopping(monitor='loss'): stop
 * after `patience` checks without an improvement of more than minDelta on the best training loss (plateau.ts).
 */
export const plateauSchema = z.strictObject({
  /** Checks (epochs, or evaluations with on: eval) without improvement before the run stops. */
  patience: positiveInt,
  /** An improvement is a loss below best − minDelta (mode abs, Keras's min_delta) or below best·(1 − minDelta) (mode rel). */
  minDelta: z.number().nonnegative().default(0),
  mode: z.enum(['abs', 'rel']).default('abs'),
  /** epoch: the epoch's mean minibatch loss (Keras's `loss`); eval: the training-set loss at each periodic evaluation. */
  on: z.enum(['epoch', 'eval']).default('epoch'),
}).superRefine((p, ctx) => {
  if (p.mode === 'rel' && p.minDelta >= 1) ctx.addIssue({ code: 'custom', path: ['minDelta'], message: 'with mode rel an improvement is a loss below best·(1 − minDelta), so minDelta must be below 1' });
});
export type PlateauConfig = z.output<typeof plateauSchema>;

export const trainConfigSchema = z.strictObject({
  model: modelSchema,
  data: dataSchema,
  loss: z.enum(['cross-entropy', 'mse', 'half-mse']).optional(),
  optimizer: optimizerSchema,
  schedule: scheduleSchema.default({ kind: 'constant' }),
  warmup: z.strictObject({ fraction: z.number().min(0).max(1).optional(), steps: z.number().int().nonnegative().optional() }).optional(),
  scaling: z.strictObject({ rule: z.enum(['none', 'linear', 'sqrt']), baseBatchSize: positiveInt }).optional(),
  /** Examples per SGD step; 'full' for full-batch gradient descent. */
  batchSize: z.union([positiveInt, z.literal('full')]),
  /** Largest batch pushed through the model at once; larger batches are accumulated (default 2048). */
  microBatchSize: positiveInt.optional(),
  /** reshuffle: a new permutation every epoch; replacement: i.i.d. indices; fresh: new synthetic samples every step. */
  sampling: z.enum(['reshuffle', 'replacement', 'fresh']).default('reshuffle'),
  /** With reshuffling, drop the last partial batch of an epoch so every step has batchSize examples. */
  dropLast: z.boolean().default(true),
  budget: z.union([z.strictObject({ epochs: z.number().positive() }), z.strictObject({ steps: positiveInt })]),
  /**
   * Keskar et al.'s warm start ("piggybacking", §4.2): first train this many epochs at this batch size
   * (same optimizer and its state), then the budget at batchSize.
   */
  warmStart: z.strictObject({ batchSize: positiveInt, epochs: z.number().nonnegative() }).optional(),
  /** Dynamic sampling: the batch grows during training, from batchSize (Byrd et al. 2012; Smith et al. 2018). */
  batchSchedule: batchScheduleSchema.optional(),
  /** Adversarial training (Goodfellow et al. 2015; Madry et al. 2018). */
  adversarial: adversarialSchema.optional(),
  /** Save a resumable snapshot of the whole training state into `save` every this many steps (train(…, { resume: true }) continues from it). */
  snapshotEvery: positiveInt.optional(),
  eval: z.strictObject({
    /** Evaluate every this many steps (default: once per epoch, at least every 1,000 steps). */
    every: positiveInt.optional(),
    /** Training examples used for the periodic training-set evaluation (the final one uses all). */
    trainSubset: positiveInt.default(10000),
    batchSize: positiveInt.default(2000),
  }).prefault({}),
  /** A loss above this (or NaN/Inf) ends the run as diverged. */
  divergenceLoss: z.number().positive().default(1e5),
  /** Record per-step metrics every this many steps. */
  logEvery: positiveInt.default(1),
  seed: z.number().int().nonnegative().default(0),
  /**
   * Where the data, the model, the optimizer state and the measurements live: 'cpu' (the default),
   * 'cuda' or 'cuda:K'. Random draws stay on the CPU's seeded generators and are moved, so a seed
   * gives the same draws on any device (the arithmetic after them differs in rounding).
   */
  device: deviceSchema.optional(),
  /** Directory to save the final checkpoint in (model.safetensors + model.json). */
  save: z.string().optional(),
  /**
   * Save the model the first time the training loss at an evaluation falls below each level (in
   * save/loss-LEVEL/): minima of different runs compared at equal loss (Keskar et al. 2017, Fig. 6).
   */
  checkpointAt: z.strictObject({ trainLoss: z.array(z.number().positive()).min(1) }).optional(),
  /**
   * End the run before its budget (then a limit): at the first evaluation whose training loss is below
   * trainLoss, or when the training loss ceased to improve (plateau); whichever comes first.
   */
  stopAt: z.strictObject({ trainLoss: z.number().positive().optional(), plateau: plateauSchema.optional() })
    .refine((s) => s.trainLoss !== undefined || s.plateau !== undefined, { message: 'give trainLoss, plateau or both' })
    .optional(),
});

export { describeIssues };

export type TrainConfigInput = z.input<typeof trainConfigSchema>;
export type TrainConfig = z.output<typeof trainConfigSchema>;

/** A configuration error that names each bad field with its value and what is allowed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[], source = 'configuration') {
    super(`invalid ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export function parseTrainConfig(input: unknown, source = 'training configuration'): TrainConfig {
  const result = trainConfigSchema.safeParse(input);
  if (!result.success) throw new ConfigError(describeIssues(result.error, input), source);
  // 'cpu' is the default, and a default is left out of the resolved configuration: the same run then
  // has one configuration, and one trial key (the keys of studies stored before devices existed stay valid).
  if (result.data.device === 'cpu') delete result.data.device;
  return result.data;
}

/** The configured device ('cpu' when none is set). */
export const configDevice = (config: { device?: Device }): Device => config.device ?? 'cpu';
