/**
 * Study files: a base training configuration, a grid over any of its fields, budgets, the rule that
 * picks the best learning rate per batch size, and which measurements to run on which trials.
 *
 *   name: smith-fmnist
 *   base:                                   # every trial starts from this (a training configuration)
 *     model: { name: mlp, widths: [512] }
 *     data: { name: fashion-mnist, validation: 5000 }
 *     optimizer: { name: sgd, lr: 0.1, momentum: 0.9, weightDecay: 5.0e-4 }
 *   grid:
 *     batchSize: { from: 16, to: 4096, factor: 2 }    # log-spaced: 16, 32, …, 4096
 *     optimizer.lr: { from: 0.001, to: 1.024, factor: 2 }
 *     seed: [0, 1, 2]
 *   budgets: [{ epochs: 10 }, { steps: 2000 }]       # constant epochs and/or constant steps (Smith et al.)
 *   select: validationAccuracy                      # best learning rate per batch size
 *   measure: { trials: best, what: [hessian, sharpness] }
 *   prune: { rule: asha, gracePeriod: 1 }           # stop hopeless learning rates early (pruning.ts)
 */
import { z } from 'zod';
import { describeIssues, ConfigError, deviceSchema } from '../train/config.js';
import { SHARPNESS_SOLVERS, type SharpnessSolver } from '../measure/sharpness-solver.js';
import { MEASUREMENT_KINDS } from './records.js';
import { pruneSchema } from './pruning.js';

const solverName = z.enum(SHARPNESS_SOLVERS as unknown as [SharpnessSolver, ...SharpnessSolver[]]);

const logRange = z.strictObject({
  from: z.number().positive(),
  to: z.number().positive(),
  /** Multiply by this factor from `from` up to `to` (inclusive, within rounding): factors of 2 as in Smith et al. */
  factor: z.number().gt(1),
}).refine((r) => r.to >= r.from, { message: '`to` must be at least `from`' });

const axis = z.union([z.array(z.unknown()).min(1, { message: 'a grid axis needs at least one value' }), logRange]);

/**
 * Measurements of trained trials, run after every trial of the grid is done: on every completed trial,
 * or on the seeds of the best learning rate per batch size and budget. Each is computed from the trial's
 * checkpoint on the first `subset` examples of its training split; a changed option measures again.
 */
// The kinds of measurement a study can ask for: records.ts, beside the shape of each one's result.
export { MEASUREMENT_KINDS, isMeasurementKind, type MeasurementKind } from './records.js';

/** One objective (measure.objective, or an entry of measure.objectives): see measureSchema. */
const objectiveSchema = z.strictObject({
  batchNorm: z.enum(['running', 'batch']).default('running'),
  batchNormBatch: z.union([z.literal('all'), z.number().int().positive()]).optional(),
  probabilityClip: z.number().positive().lt(0.5).optional(),
}).refine((o) => o.batchNormBatch === undefined || o.batchNorm === 'batch', { message: '`batchNormBatch` applies to `batchNorm: batch` only' });

export type MeasureObjective = z.output<typeof objectiveSchema>;

/** The fewest batch sequences a held-out choice of degree splits in two (4 a half). */
const HELD_OUT_MIN_SEQUENCES = 8;

/** The Hessian measurement's options (measure.hessian, and a measure.byBatchSize entry's). */
const hessianOptionsSchema = z.strictObject({
  topK: z.number().int().positive().default(1),
  method: z.enum(['lanczos', 'power']).default('lanczos'),
  /** Hutchinson probes for the trace (0: no trace). */
  traceProbes: z.number().int().nonnegative().default(0),
  /** Lanczos steps (or power iterations); default max(2·topK + 20, 30) for Lanczos, 100 for power. */
  maxIter: z.number().int().positive().optional(),
});

/** The sharpness measurement's options (measure.sharpness, and a measure.byBatchSize entry's). */
const sharpnessOptionsSchema = z.strictObject({
  /** Box sizes ε (Keskar et al. report 1e-3 and 5e-4). */
  epsilon: z.array(z.number().positive()).min(1).default([1e-3, 5e-4]),
  /** 'full' (A = I) and/or the dimension p of a random subspace (the paper uses 100). */
  space: z.array(z.union([z.literal('full'), z.number().int().positive()])).min(1).default(['full', 100]),
  maxIter: z.number().int().positive().default(10),
  randomStarts: z.number().int().nonnegative().default(2),
  /**
   * The inner maximizer(s): lbfgsb (the paper's L-BFGS-B, scipy's defaults) and/or projected (sgdlab's);
   * default DEFAULT_SHARPNESS_SOLVER. Values by L-BFGS-B are named 'phi(…) L-BFGS-B' in results.
   */
  solver: z.union([solverName, z.array(solverName).min(1)]).optional(),
  /**
   * How the random subspace's A is drawn: entries standard normal (default) or uniform in [0, 1) (as the
   * one public re-implementation of Keskar et al. draws them; the paper does not say).
   */
  subspaceDistribution: z.enum(['normal', 'uniform']).optional(),
});

/**
 * A schema's fields, each optional and without its default: a measure.byBatchSize entry's options,
 * which override only the fields they give (the rest are the study's, defaults included).
 */
function fieldOverrides<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>): z.ZodType<Partial<z.output<z.ZodObject<Shape>>>> {
  const fields = Object.entries(schema.shape).map(([name, field]) => [name, ((field instanceof z.ZodDefault ? field.unwrap() : field) as z.ZodType).optional()] as const);
  return z.strictObject(Object.fromEntries(fields)) as unknown as z.ZodType<Partial<z.output<z.ZodObject<Shape>>>>;
}

/**
 * What to measure on the trials of some batch sizes instead (measure.byBatchSize): a sweep's interior
 * points may need one number each (Keskar et al.'s Fig. 4: φ at ε = 1e-3 in the full space) while its
 * ends fill tables (Tables 3 and 4: two ε, two spaces, λ_max).
 */
const byBatchSizeSchema = z.strictObject({
  /** Batch sizes as the trials' configs give them (a number, or 'full' for full-batch training). */
  batchSize: z.array(z.union([z.number().int().positive(), z.literal('full')])).min(1),
  /** The kinds measured on these trials (their final minima and loss levels), of the study's `what`; default the study's. */
  what: z.array(z.enum(MEASUREMENT_KINDS)).min(1).optional(),
  /** Options that override the study's measure.hessian, field by field. */
  hessian: fieldOverrides(hessianOptionsSchema).optional(),
  /** Options that override the study's measure.sharpness, field by field. */
  sharpness: fieldOverrides(sharpnessOptionsSchema).optional(),
});

export const measureSchema = z.strictObject({
  trials: z.enum(['all', 'best']).default('best'),
  what: z.array(z.enum(MEASUREMENT_KINDS)).min(1),
  /** The first n training examples (default: all of them). */
  subset: z.number().int().positive().optional(),
  seed: z.number().int().nonnegative().default(0),
  /**
   * The function the Hessian, sharpness and interpolation measurements evaluate at moved weights (measure/objective.ts):
   * batch norm by its running statistics (`batchNorm: running`, evaluation mode, the default) or by the
   * statistics of the evaluated examples (`batch`, Keskar et al. 2017's convention: `batchNormBatch: all`,
   * the measured examples as one batch, default; or N, chunks of N examples, as Keras's
   * evaluate(batch_size=N)); `probabilityClip: 1e-7` clips the predicted probability of the true class to
   * [1e-7, 1 − 1e-7] as Keras 1's categorical_crossentropy did (default: none). `batch` also evaluates
   * every point of an interpolation by batch statistics (interpolate.batchNorm then does not apply);
   * clipping applies to hessian and sharpness only. Omitted, or the defaults, keep the measurements' keys
   * of studies written before the option.
   */
  objective: objectiveSchema.optional(),
  /**
   * Several objectives instead of one (not with `objective`): hessian and sharpness (and their loss-level
   * measurements) are measured under each, one job per objective, its values named by the objective
   * (results.ts, measurementValues); an interpolation under the first only (one path per trial keeps
   * Fig. 3 one figure: list a `batch` objective first to interpolate by batch statistics). A list whose
   * first objective is the default measures that one under the same key as `objective` omitted.
   */
  objectives: z.array(objectiveSchema).min(1).optional(),
  hessian: hessianOptionsSchema.prefault({}),
  sharpness: sharpnessOptionsSchema.prefault({}),
  /**
   * Also measure every loss-level checkpoint (training option checkpointAt) of the target trials, on
   * the first `subset` examples (default: the measurements' subset): sharpness at equal training loss.
   */
  levels: z.strictObject({
    what: z.array(z.enum(['hessian', 'sharpness'])).min(1),
    subset: z.number().int().positive().optional(),
  }).optional(),
  /**
   * Other options for the trials of some batch sizes (the batch size a trial trains at; a warm start's
   * is its second phase's): each entry's `what` and option fields replace the study's on those trials'
   * measurements (final minima and loss levels). A batch size in no entry gets the study's.
   */
  byBatchSize: z.array(byBatchSizeSchema).min(1).optional(),
  /**
   * Keskar et al.'s Fig. 3: the loss and accuracy along α·θ_LB + (1 − α)·θ_SB, from the best trial at the
   * smallest batch size (SB, α = 0) to each larger batch size's best trial of the same seed and budget (α = 1).
   */
  interpolate: z.strictObject({
    from: z.number().default(-1),
    to: z.number().default(2),
    points: z.number().int().min(2).default(25),
    /** Also the curved path sin(απ/2)·θ_LB + cos(απ/2)·θ_SB. */
    curved: z.boolean().default(true),
    /**
     * Batch-norm statistics at each point: recomputed by a train-mode pass over `examples` training
     * examples (a fixed subset drawn with the measurement seed) in batches of `batchSize`; or
     * `mode: interpolate`, the endpoints' buffers mixed like the weights (for comparison only: the
     * variance turns negative outside [0, 1]).
     */
    batchNorm: z.strictObject({
      mode: z.enum(['recompute', 'interpolate']).default('recompute'),
      examples: z.number().int().min(2).default(4096),
      batchSize: z.number().int().min(2).default(256),
    }).prefault({}),
  }).refine((o) => o.to > o.from, { message: '`to` must be greater than `from`' }).prefault({}),
  /**
   * Qian & Klabjan 2020: Var(g_k | w₀) of the minibatch gradient after k SGD steps from the trial's
   * initialization (its model, data, learning rate and seed), by Monte Carlo over independent batch
   * sequences, for each b, k and sampling; at k = 0 against the closed form; a polynomial fit in 1/b.
   */
  gradientVariance: z.strictObject({
    batchSizes: z.array(z.number().int().positive()).min(2).default([1, 2, 4, 8, 16, 32]),
    steps: z.array(z.number().int().nonnegative()).min(1).default([0, 4, 16]),
    sequences: z.number().int().min(2).default(200),
    /**
     * Sequences for the trials of a named model instead (e.g. { mlp: 2000 }): a network on MNIST costs
     * hundreds of times a linear model's step, so a study of both gives each its own count.
     */
    sequencesByModel: z.record(z.string(), z.number().int().min(2)).optional(),
    replacement: z.array(z.boolean()).min(1).default([true, false]),
    /**
     * Degree of the least-squares polynomial in 1/b, or 'held-out': the degree (≤ maxDegree) whose fit to
     * one half of the sequences best predicts the other half (measure/along-training.ts selectDegreeByHeldOut).
     */
    degree: z.union([z.number().int().positive(), z.literal('held-out')]).default(3),
    /** With degree 'held-out': the highest degree tried. */
    maxDegree: z.number().int().positive().default(6),
  }).superRefine((g, ctx) => {
    // Each half needs a few sequences for its own variance and standard error.
    const fewest = Math.min(g.sequences, ...Object.values(g.sequencesByModel ?? {}));
    if (g.degree === 'held-out' && fewest < HELD_OUT_MIN_SEQUENCES) ctx.addIssue({ code: 'custom', path: ['degree'], message: `'held-out' splits the sequences into two halves and needs at least ${HELD_OUT_MIN_SEQUENCES} of them, but a trial would get ${fewest}` });
  }).prefault({}),
  noise: z.strictObject({
    /** Sampled minibatches per batch size to check the closed-form variance (0: none). */
    monteCarlo: z.number().int().nonnegative().default(0),
  }).prefault({}),
})
  .refine((m) => m.objective === undefined || m.objectives === undefined, { message: 'give `objective` (one) or `objectives` (a list), not both' })
  .superRefine((m, ctx) => {
    // Two entries with one key would be one job measured twice under two names.
    const keys = (m.objectives ?? []).map((objective) => JSON.stringify(objectiveKey({ objective })));
    const twice = keys.findIndex((k, i) => keys.indexOf(k) !== i);
    if (twice >= 0) ctx.addIssue({ code: 'custom', path: ['objectives', twice], message: `the objective ${JSON.stringify(m.objectives![twice])} is the same as an earlier entry (${keys[twice] === '{}' ? 'the default: running statistics, no clipping' : keys[twice]})` });
    checkByBatchSize(m, ctx);
  });

/** A byBatchSize entry measures a part of the study's kinds, and a batch size has one entry at most. */
function checkByBatchSize(m: { what: readonly string[]; byBatchSize?: readonly { batchSize: readonly (number | 'full')[]; what?: readonly string[] | undefined }[] | undefined }, ctx: z.RefinementCtx): void {
  const seen = new Map<number | 'full', number>();
  m.byBatchSize?.forEach((entry, i) => {
    const extra = (entry.what ?? []).filter((kind) => !m.what.includes(kind));
    if (extra.length > 0) ctx.addIssue({ code: 'custom', path: ['byBatchSize', i, 'what'], message: `${extra.map((k) => `'${k}'`).join(', ')} ${extra.length === 1 ? 'is' : 'are'} not in the study's measure.what (${m.what.join(', ')}): an entry measures a part of what the study measures` });
    entry.batchSize.forEach((b, j) => {
      const earlier = seen.get(b);
      if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: ['byBatchSize', i, 'batchSize', j], message: `batch size ${b} is already in byBatchSize entry ${earlier}: a batch size takes one entry's options` });
      else seen.set(b, i);
    });
  });
}

export type MeasureSpec = z.output<typeof measureSchema>;

/**
 * The measure options of a trial that trains at `batchSize`: the study's, with the `what` and option
 * fields of the byBatchSize entry that lists it (the entry itself removed, so the result measures one
 * batch size's way everywhere it goes).
 */
export function measureOptionsFor(measure: MeasureSpec, batchSize: number | 'full'): MeasureSpec {
  const { byBatchSize: _entries, ...rest } = measure;
  const entry = byBatchSizeEntry(measure, batchSize);
  if (!entry) return rest;
  return {
    ...rest,
    what: entry.what ?? rest.what,
    hessian: { ...rest.hessian, ...definedFields(entry.hessian) },
    sharpness: { ...rest.sharpness, ...definedFields(entry.sharpness) },
  };
}

/** The measure.byBatchSize entry that lists `batchSize`, if one does. */
export const byBatchSizeEntry = (measure: Pick<MeasureSpec, 'byBatchSize'>, batchSize: number | 'full') => measure.byBatchSize?.find((e) => e.batchSize.includes(batchSize));

/** An object's fields whose value is not undefined (an absent override keeps the study's value). */
const definedFields = <T extends object>(o: T | undefined): Partial<T> => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The objectives a study measures hessian and sharpness under: `objectives`, or the one `objective` (undefined: the default). */
export const measureObjectives = (measure: Pick<MeasureSpec, 'objective' | 'objectives'>): (MeasureObjective | undefined)[] => measure.objectives ?? [measure.objective];

/**
 * The objective's options as they enter a measurement's key: nothing for the default (running statistics,
 * no clipping), so that studies written before the option keep their measurements.
 */
export function objectiveKey(measure: { objective?: MeasureObjective | undefined }): { objective?: { batchNorm: 'running' | 'batch'; batchNormBatch?: 'all' | number; probabilityClip?: number } } {
  const o = measure.objective;
  if (o === undefined || (o.batchNorm === 'running' && o.probabilityClip === undefined)) return {};
  return { objective: { batchNorm: o.batchNorm, ...(o.batchNorm === 'batch' ? { batchNormBatch: o.batchNormBatch ?? 'all' } : {}), ...(o.probabilityClip === undefined ? {} : { probabilityClip: o.probabilityClip }) } };
}

/**
 * Packed trials (issue 23): a worker that claims a packable trial also claims up to `maxMembers` − 1
 * pending trials of the same pack (src/train/packed.ts packKey) and trains them as one computation.
 * `when: faster` (the default once `pack` is given) times a few steps packed against one member alone on
 * the real data and batch size, once per pack and worker, and packs only if a member's step costs less
 * packed (by more than timing noise, packing.ts PACK_MARGIN); `always` packs without measuring (tests), `never` turns it off. Without `pack` nothing is
 * packed: on a CPU packing is often no faster (docs/BENCHMARKS.md), and a study's trials then run as before.
 */
export const packSchema = z.strictObject({
  maxMembers: z.number().int().min(2).max(64).default(8),
  when: z.enum(['faster', 'always', 'never']).default('faster'),
});

export type PackSpec = z.output<typeof packSchema>;

export const studySchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, { message: 'a study name uses letters, digits, ".", "_" and "-", starting with a letter or digit' }),
  description: z.string().optional(),
  /** The training configuration every trial starts from (fields not on the grid). */
  base: z.record(z.string(), z.unknown()),
  /**
   * Dotted paths into the configuration (batchSize, optimizer.lr, model.widths, seed, …) → values; or a
   * list of such grids, whose trials are the union of their products (e.g. a learning rate coupled to
   * a width: one grid per width).
   */
  grid: z.union([z.record(z.string(), axis), z.array(z.record(z.string(), axis)).min(1, { message: 'a list of grids needs at least one grid' })]).default({}),
  /** What to record during training: stationary fluctuations of the weights and the loss (Ziyin et al. 2022). */
  record: z.strictObject({
    fluctuations: z.strictObject({
      /** Steps before recording starts: a number of steps, or a fraction (< 1) of the run. */
      burnIn: z.number().positive(),
      /** Keep the full weight covariance for models of at most this many parameters. */
      maxFullDimension: z.number().int().positive().default(64),
    }).optional(),
  }).optional(),
  budgets: z.array(z.union([z.strictObject({ epochs: z.number().positive() }), z.strictObject({ steps: z.number().int().positive() })])).min(1).optional(),
  select: z.enum(['validationAccuracy', 'testAccuracy', 'trainLoss']).default('validationAccuracy'),
  measure: measureSchema.optional(),
  /** Stop hopeless trials early: ASHA or the median stopping rule, per group of competing trials (pruning.ts). */
  prune: pruneSchema.optional(),
  /** Train trials that differ only in seed, learning rate, momentum, weight decay or Adam's betas as one batched computation (packing.ts). */
  pack: packSchema.optional(),
  /**
   * Where every trial trains and is measured: 'cpu' (default), 'cuda' or 'cuda:K'. It becomes each
   * trial's `device` (so it is part of the trial's configuration and key: numbers from a GPU are not
   * the CPU's to the last bit). With `sgdlab run --gpus` each worker sees one GPU, as 'cuda'.
   */
  device: deviceSchema.optional(),
});

export type StudyInput = z.input<typeof studySchema>;
export type Study = z.output<typeof studySchema>;

export function parseStudy(input: unknown, source = 'study file'): Study {
  const result = studySchema.safeParse(input);
  if (!result.success) throw new ConfigError(describeIssues(result.error, input), source);
  return result.data;
}

/** The values of a grid axis: a list, or a log-spaced range from·factor^k ≤ to (rounded to 12 significant digits). */
export function axisValues(a: unknown[] | { from: number; to: number; factor: number }): unknown[] {
  if (Array.isArray(a)) return a;
  const out: number[] = [];
  for (let v = a.from; v <= a.to * (1 + 1e-9); v *= a.factor) out.push(Number(v.toPrecision(12)));
  return out;
}
