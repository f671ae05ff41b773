/**
 * A training run's configuration: one serializable object that fixes the run (with the seed),
 * validated by a zod schema whose errors name the field, the value and what is allowed.
 *
 *   batchSize: 256            // examples per SGD step
 *   optimizer: { name: adam, lr: 0.001 }   // lr per step at batchSize (scaled by `scaling` if set)
 */
import { z } from 'zod';
// Names only: reading a configuration must not load the libtorch addon (the results CLI reads them).
import { DATASET_NAMES, type DatasetName } from '../data/names.js';
import { ACTIVATIONS, INIT_NAMES, MODEL_NAMES, type ActivationName, type InitName, type ModelName } from '../nn/names.js';

/** zod's enum from a readonly list of names, keeping the literal type. */
const oneOf = <N extends string>(names: readonly N[]) => z.enum(names as unknown as [N, ...N[]]);

const positiveInt = z.number().int().positive();
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
  augment: z.strictObject({ cropPadding: z.number().int().nonnegative().optional(), horizontalFlip: z.boolean().optional() }).optional(),
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
  /** Directory to save the final checkpoint in (model.safetensors + model.json). */
  save: z.string().optional(),
  /**
   * Save the model the first time the training loss at an evaluation falls below each level (in
   * save/loss-LEVEL/): minima of different runs compared at equal loss (Keskar et al. 2017, Fig. 6).
   */
  checkpointAt: z.strictObject({ trainLoss: z.array(z.number().positive()).min(1) }).optional(),
  /** End the run at the first evaluation whose training loss is below this; the budget is then a limit. */
  stopAt: z.strictObject({ trainLoss: z.number().positive() }).optional(),
});

export type TrainConfigInput = z.input<typeof trainConfigSchema>;
export type TrainConfig = z.output<typeof trainConfigSchema>;

/** A configuration error that names each bad field with its value and what is allowed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[], source = 'configuration') {
    super(`invalid ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** Formats zod's issues as 'field: message (got value)'. */
export function describeIssues(error: z.ZodError, input: unknown): string[] {
  return error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
    const got = valueAt(input, issue.path);
    const shown = got === undefined ? 'nothing' : JSON.stringify(got);
    if (issue.code === 'unrecognized_keys') return `${field}: unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    if (issue.code === 'invalid_type' && got === undefined) return `${field}: missing (expected ${issue.expected})`;
    return `${field}: ${issue.message} (got ${shown})`;
  });
}

export function parseTrainConfig(input: unknown, source = 'training configuration'): TrainConfig {
  const result = trainConfigSchema.safeParse(input);
  if (!result.success) throw new ConfigError(describeIssues(result.error, input), source);
  return result.data;
}
