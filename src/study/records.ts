/**
 * What a study store keeps, as schemas and the types derived from them: a trial's result, each
 * measurement kind's result, metric rows, study summaries. A stored result is checked once, where it
 * leaves the store (sqlite-store.ts, pg-store.ts), and read typed everywhere above it: the runner, the
 * report, the dashboard's server, and its client (type-only imports: this module needs zod alone, and
 * train/issues.ts, which needs zod alone).
 *
 * Versions: every record stored so far is version 1 and says nothing about it. A later release that
 * changes a record's shape stores `recordVersion: 2` in it and adds the migration from 1 to 2 here
 * (`versionedParser`), so that a store written by an earlier release still opens: old records are
 * migrated as they are read, and a record from a newer release is refused with a clear error.
 *
 * The shapes are permissive where stores legitimately differ: fields are optional (earlier releases,
 * recordings a study did not ask for, hand-written stores in tests), objects keep the fields no
 * reader names (nothing stored is lost), and a quantity that may have been non-finite is `number |
 * null`, since JSON writes NaN and ±Infinity as null (a diverged trial's loss).
 */
import { z } from 'zod';
import { describeIssues } from '../train/issues.js';

/** The version of the records this release writes (absent from a record: version 1). */
export const RECORD_VERSION = 1;
/** The field a record of version 2 or later carries its version in. */
export const VERSION_FIELD = 'recordVersion';

/** 'pruned': stopped early by the study's pruning rule (study/pruning.ts), terminal like 'completed'. */
export const TRIAL_STATUSES = ['pending', 'running', 'completed', 'diverged', 'failed', 'pruned'] as const;
export const MEASUREMENT_STATUSES = ['pending', 'running', 'completed', 'failed'] as const;
export type TrialStatus = (typeof TRIAL_STATUSES)[number];
export type MeasurementStatus = (typeof MEASUREMENT_STATUSES)[number];

/** The kinds of measurement a study can ask for (study/schema.ts's `measure.what`). */
export const MEASUREMENT_KINDS = ['hessian', 'sharpness', 'noise', 'interpolate', 'gradientVariance'] as const;
export type MeasurementKind = (typeof MEASUREMENT_KINDS)[number];
export const isMeasurementKind = (kind: string): kind is MeasurementKind => (MEASUREMENT_KINDS as readonly string[]).includes(kind);

/** A number that may have been NaN or ±Infinity when it was stored (JSON keeps those as null). */
const measured = z.number().nullable();
/** Any JSON object: parts no reader takes apart (a cost, a configuration), kept as they are. */
const anyObject = z.looseObject({});

/** An evaluation on a split (train/evaluate.ts's Evaluation). */
const evaluationSchema = z.looseObject({
  loss: measured.optional(),
  /** Fraction correct; null for regression. */
  accuracy: z.number().nullable().optional(),
  examples: z.number().optional(),
});

/** A checkpoint at a training-loss level (train/checkpoint-levels.ts's LossLevelRecord). */
const lossLevelSchema = z.looseObject({
  level: z.number(),
  step: z.number(),
  epoch: z.number(),
  trainLoss: z.number(),
  trainExamples: z.number(),
  testAccuracy: z.number().nullable(),
  distanceFromInitial: z.number(),
  checkpoint: z.string().optional(),
});

/** A loss the plateau rule compared (train/plateau.ts's PlateauCheck). */
const plateauCheckSchema = z.looseObject({ step: z.number(), epoch: z.number(), loss: measured });

/** The plateau rule of stopAt (train/plateau.ts's PlateauRecord): what it monitored, every value it compared, the best and the checks since. */
const plateauSchema = z.looseObject({
  on: z.enum(['epoch', 'eval']),
  checks: z.array(plateauCheckSchema),
  best: plateauCheckSchema.nullable(),
  sinceBest: z.number(),
  epochsDone: z.number().optional(),
  lossSum: z.number().optional(),
  examples: z.number().optional(),
});
export type PlateauRecord = z.output<typeof plateauSchema>;

/** Stationary fluctuations recorded during training (measure/fluctuations.ts); the per-coordinate arrays only for small models. */
const fluctuationsSchema = z.looseObject({
  steps: z.number(),
  weightMean: z.array(measured).optional(),
  weightCovariance: z.array(z.array(measured)).optional(),
  weightVariance: z.array(measured).optional(),
  traceCovariance: measured,
  lossMean: measured,
  lossVariance: measured,
});

/** Fluctuations with their per-coordinate statistics, every value finite: what Ziyin et al.'s comparisons read (small models). */
const fullFluctuationsSchema = z.looseObject({
  steps: z.number(),
  weightMean: z.array(z.number()),
  weightVariance: z.array(z.number()),
  weightCovariance: z.array(z.array(z.number())).optional(),
  traceCovariance: z.number(),
  lossMean: z.number(),
  lossVariance: z.number(),
});
export type FullFluctuations = z.output<typeof fullFluctuationsSchema>;

/**
 * A trial's result: the trainer's summary (train/trainer.ts's TrainResult without its history), the
 * recordings the study asked for, and what the worker adds about the run.
 */
export const trialResultSchema = z.looseObject({
  status: z.enum(['completed', 'diverged']).optional(),
  /** Why a diverged run stopped. */
  reason: z.string().optional(),
  steps: z.number().optional(),
  epochs: z.number().optional(),
  /** The configured batch size (the first of a batch schedule). */
  batchSize: z.number().optional(),
  examples: z.number().optional(),
  batchSchedule: z.looseObject({
    largestBatchSize: z.number().optional(),
    changes: z.array(z.looseObject({ step: z.number(), batchSize: z.number() })).optional(),
  }).optional(),
  baseLr: z.number().optional(),
  seconds: z.number().optional(),
  samplesPerSecond: measured.optional(),
  train: evaluationSchema.optional(),
  validation: evaluationSchema.optional(),
  test: evaluationSchema.optional(),
  checkpoint: z.string().optional(),
  lossLevels: z.array(lossLevelSchema).optional(),
  /** Why the run ended before its budget (config.stopAt). */
  stopped: z.string().optional(),
  /** With config.stopAt, what ended a completed run (absent: no stopAt, or stored before the field). */
  stoppedBy: z.enum(['budget', 'trainLoss', 'plateau']).optional(),
  /** With config.stopAt.plateau: the rule's checks, best loss and checks since it. */
  plateau: plateauSchema.optional(),
  /** ‖θ − θ₀‖ at the end. */
  distanceFromInitial: measured.optional(),
  numParameters: z.number().optional(),
  data: z.string().optional(),
  /** The configuration the trainer ran (the trial's own `config` is the one to read). */
  config: anyObject.optional(),
  /** train/record.ts's RunRecord: versions, machine, device. */
  record: anyObject.optional(),
  fluctuations: fluctuationsSchema.optional(),
  /** Why recording the fluctuations failed (the trial itself completed). */
  fluctuationsError: z.string().optional(),
  /** The worker's peak resident memory so far, MB. */
  workerMaxRssMb: z.number().optional(),
  trainSeconds: z.number().optional(),
  /** The claim's latency, ms. */
  claimMs: z.number().optional(),
  /** The previous trial's finish latency in this worker, ms (a result cannot carry its own). */
  finishMs: z.number().optional(),
  /** A pruned trial: where and why the study's pruning rule stopped it (its evaluations above are at that step). */
  pruned: z.looseObject({
    step: z.number(),
    /** The rung (0: the first) and the metric's value there. */
    rung: z.number(),
    metric: z.string(),
    value: measured,
    /** 'asha' or 'median', the whole rule (canonical JSON), and the reason in words. */
    rule: z.string(),
    spec: z.string().optional(),
    why: z.string().optional(),
  }).optional(),
});
export type TrialResult = z.output<typeof trialResultSchema>;
export type Evaluation = z.output<typeof evaluationSchema>;
export type LossLevel = z.output<typeof lossLevelSchema>;
export type Fluctuations = z.output<typeof fluctuationsSchema>;

/** The objective's convention a measurement was made under (measure/objective.ts, ObjectiveConvention); absent: stored before the option, i.e. running statistics, no clipping. */
const objectiveConventionSchema = z.looseObject({
  batchNorm: z.enum(['running', 'batch']),
  /** Under 'batch': 'all' (the whole evaluated set as one batch) or the chunk size; null under 'running'. */
  batchNormBatch: z.union([z.literal('all'), z.number(), z.null()]).optional(),
  probabilityClip: z.number().nullable().optional(),
});
export type ObjectiveConventionRecord = z.output<typeof objectiveConventionSchema>;

/** Top Hessian eigenvalues (largest first) and, with probes, Hutchinson's trace. */
const hessianSchema = z.looseObject({
  eigenvalues: z.array(measured).optional(),
  residuals: z.array(measured).optional(),
  method: z.string().optional(),
  iterations: z.number().optional(),
  hvps: z.number().optional(),
  examples: z.number().optional(),
  cost: anyObject.optional(),
  trace: measured.optional(),
  traceStandardError: measured.optional(),
  traceProbes: z.number().optional(),
  objective: objectiveConventionSchema.optional(),
  seconds: z.number().optional(),
});

/** Keskar et al.'s φ(ε, A) for each ε, space and inner solver. */
const sharpnessValueSchema = z.looseObject({
  epsilon: z.number(),
  /** 'full' (A = I) or the dimension p of a random subspace. */
  space: z.union([z.literal('full'), z.number()]),
  /** The inner maximizer (absent: stored before there were two). */
  solver: z.string().optional(),
  phi: measured,
  /** φ's first-order part. */
  firstOrder: measured.optional(),
  loss: measured.optional(),
  maxLoss: measured.optional(),
  dimension: z.number().optional(),
  moved: z.boolean().optional(),
  iterations: z.number().optional(),
  evaluations: z.number().optional(),
  coordinatesAtBound: z.number().optional(),
  /** The random subspace's distribution of A (absent: stored before the option, normal). */
  subspaceDistribution: z.string().nullable().optional(),
  reason: z.string().optional(),
  seconds: z.number().optional(),
});
const sharpnessSchema = z.looseObject({
  values: z.array(sharpnessValueSchema).optional(),
  objective: objectiveConventionSchema.optional(),
  examples: z.number().optional(),
  seconds: z.number().optional(),
});

/** Gradient-noise statistics (measure/noise.ts's NoiseStatistics). */
const noiseSchema = z.looseObject({
  examples: z.number().optional(),
  loss: measured.optional(),
  gradNormSq: measured.optional(),
  traceSigma: measured.optional(),
  bSimple: measured.optional(),
  varianceByBatchSize: z.array(z.looseObject({ b: z.number(), withReplacement: measured, withoutReplacement: measured })).optional(),
  monteCarlo: z.array(z.looseObject({ b: z.number(), replacement: z.boolean(), variance: measured, standardError: measured, samples: z.number().optional() })).optional(),
  method: z.string().optional(),
  /** The weights it was measured at (small models only: measure/noise.ts WEIGHTS_RECORDED_UP_TO). */
  weights: z.array(z.number()).optional(),
  cost: anyObject.optional(),
  seconds: z.number().optional(),
});

/** A point of an interpolation path: α and the evaluations there (the loss is null where it overflowed). */
const interpolationPointSchema = z.looseObject({
  alpha: z.number(),
  train: evaluationSchema,
  test: evaluationSchema.optional(),
});
/** Keskar et al.'s Fig. 3: from the SB partner (α = 0) to the trial (α = 1), with distances. */
const interpolateSchema = z.looseObject({
  /** The partner's checkpoint. */
  partner: z.string().optional(),
  examples: z.number().optional(),
  points: z.array(interpolationPointSchema).optional(),
  curved: z.array(interpolationPointSchema).optional(),
  batchNorm: z.unknown().optional(),
  cost: anyObject.optional(),
  /** ‖θ_LB − θ_SB‖. */
  distance: measured.optional(),
  /** ‖θ_SB − θ₀‖ (a) and ‖θ_LB − θ₀‖ (b), null when a checkpoint has no initial weights. */
  distanceFromInitial: z.looseObject({ a: measured, b: measured }).optional(),
  seconds: z.number().optional(),
});
export type InterpolationPoint = z.output<typeof interpolationPointSchema>;

/** One curve of Qian & Klabjan's measurement: the gradient variance vs b after `step` steps, its fit in 1/b. */
const varianceCurve = <N extends z.ZodType<number | null>>(value: N) => z.looseObject({
  replacement: z.boolean(),
  step: z.number(),
  points: z.array(z.looseObject({ b: z.number(), variance: value, standardError: value })),
  fit: z.array(value),
  nonIncreasing: z.boolean(),
  /** The closed form at k = 0 (models without batch norm or dropout). */
  exact: z.array(value).optional(),
  /** Linear regression: the exact variance at this step from the moment recursion (theory/qian-klabjan.ts), per b. */
  exactRecursion: z.array(value).optional(),
  /** With degree 'held-out': the degree chosen and each degree's held-out χ² (index = degree). */
  heldOut: z.looseObject({ degree: z.number(), heldOutChiSquare: z.array(value) }).optional(),
});
const varianceCurveSchema = varianceCurve(measured);
/** A curve whose every value is finite: what the figure and the comparisons read. */
const finiteVarianceCurveSchema = varianceCurve(z.number());
const gradientVarianceSchema = z.looseObject({
  examples: z.number().optional(),
  mode: z.string().optional(),
  traceSigmaAtInit: measured.optional(),
  gradNormSqAtInit: measured.optional(),
  lr: z.number().optional(),
  curves: z.array(varianceCurveSchema).optional(),
  seconds: z.number().optional(),
});
export type GradientVarianceCurve = z.output<typeof finiteVarianceCurveSchema>;

/** A trial's recorded fluctuations if they hold the per-coordinate statistics and every value is finite; otherwise undefined. */
export function fullFluctuations(result: TrialResult | null | undefined): FullFluctuations | undefined {
  const f = fullFluctuationsSchema.safeParse(result?.fluctuations);
  return f.success ? f.data : undefined;
}

/** The curves of a gradient-variance result whose every value is finite (a curve with a value stored as null is left out). */
export function finiteVarianceCurves(result: MeasurementResults['gradientVariance']): GradientVarianceCurve[] {
  return (result.curves ?? []).flatMap((c) => {
    const f = finiteVarianceCurveSchema.safeParse(c);
    return f.success ? [f.data] : [];
  });
}

/** Each measurement kind's result (study/measure-trial.ts), plus the seconds the worker adds. */
export const MEASUREMENT_RESULT_SCHEMAS = {
  hessian: hessianSchema,
  sharpness: sharpnessSchema,
  noise: noiseSchema,
  interpolate: interpolateSchema,
  gradientVariance: gradientVarianceSchema,
} as const satisfies Record<MeasurementKind, z.ZodType>;

export type MeasurementResults = { [K in MeasurementKind]: z.output<(typeof MEASUREMENT_RESULT_SCHEMAS)[K]> };
/** The result of a kind this release does not know (a store written by another): any JSON object. */
export type UnknownMeasurementResult = z.output<typeof anyObject>;
/** The result of a measurement of kind K: its kind's shape, or any JSON object for an unknown kind. */
export type MeasurementResultOf<K extends string> = K extends MeasurementKind ? MeasurementResults[K] : UnknownMeasurementResult;
export type MeasurementResult = MeasurementResults[MeasurementKind] | UnknownMeasurementResult;

/**
 * Whether a measurement is of `kind`, narrowing its result to that kind's shape. Sound because the
 * store parsed the result by its kind (parseMeasurementResult) before handing it out.
 */
export const isMeasurementOf = <K extends MeasurementKind, M extends { kind: string }>(m: M, kind: K): m is M & { kind: K; result: MeasurementResults[K] | null } => m.kind === kind;

export const metricSchema = z.object({ step: z.number(), name: z.string(), value: z.number() });
/** One row of a trial's metrics (sampled losses, evaluations). */
export type Metric = z.output<typeof metricSchema>;

export const studySummarySchema = z.object({
  name: z.string(),
  createdAt: z.string(),
  /** The last time anything of the study changed (a claim, a result, a queued measurement), not heartbeats. */
  updatedAt: z.string(),
  counts: z.object({ pending: z.number(), running: z.number(), completed: z.number(), diverged: z.number(), failed: z.number(), pruned: z.number() }) satisfies z.ZodType<Record<TrialStatus, number>>,
  measurements: z.object({ pending: z.number(), running: z.number(), completed: z.number(), failed: z.number() }) satisfies z.ZodType<Record<MeasurementStatus, number>>,
  /** Late results refused (stale attempts). */
  refused: z.number(),
  /** Workers whose last heartbeat is within their lease. */
  activeWorkers: z.number(),
});
export type StudySummary = z.output<typeof studySummarySchema>;

/** Where a stored record comes from, for errors: its study, trial key, and what it is. */
export interface RecordPlace {
  study: string;
  key: string;
  /** 'result', or e.g. 'hessian measurement {"topK":1}'. */
  what: string;
}

/** A stored record that this release cannot read: names the study, the trial, the field and its value. */
export class RecordError extends Error {
  override readonly name = 'RecordError';
  constructor(readonly place: RecordPlace, readonly problems: string[]) {
    super(`study '${place.study}', trial ${place.key}: the stored ${place.what} cannot be read:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Turns a record of version v into one of version v + 1. */
export type Migration = (record: Record<string, unknown>) => Record<string, unknown>;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A parser of stored records of one shape: `migrations[i]` turns version i + 1 into i + 2, so the
 * current version is migrations.length + 1. A record's version is its VERSION_FIELD (absent: 1);
 * older records are migrated up, newer ones refused. The record returned is the stored object itself
 * when it needed no migration (checked against the schema, field order and unnamed fields kept): the
 * schemas here have no defaults or transforms, so a value the schema accepts is its own output.
 */
export function versionedParser<S extends z.ZodType<Record<string, unknown>>>(schema: S, migrations: readonly Migration[] = []) {
  const current = migrations.length + 1;
  const conforms = (v: unknown): v is z.output<S> => schema.safeParse(v).success;
  return (value: unknown, place: RecordPlace): z.output<S> => {
    if (!isRecord(value)) throw new RecordError(place, [`(top level): expected a JSON object (got ${JSON.stringify(value)})`]);
    const stated = value[VERSION_FIELD];
    const version = stated === undefined ? 1 : stated;
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) throw new RecordError(place, [`${VERSION_FIELD}: expected a whole number from 1 (got ${JSON.stringify(stated)})`]);
    if (version > current) throw new RecordError(place, [`${VERSION_FIELD}: ${version} was written by a newer sgdlab; this one reads versions up to ${current}`]);
    let record = value;
    for (let v = version; v < current; v++) record = { ...migrations[v - 1]!(record), [VERSION_FIELD]: v + 1 };
    if (conforms(record)) return record;
    const parsed = schema.safeParse(record);
    throw new RecordError(place, parsed.success ? ['(top level): does not match its schema'] : describeIssues(parsed.error, record));
  };
}

/** A trial's stored result, checked (and migrated from an older version). */
export const parseTrialResult = versionedParser(trialResultSchema);

const measurementParsers: { [K in MeasurementKind]: (value: unknown, place: RecordPlace) => MeasurementResults[K] } = {
  hessian: versionedParser(hessianSchema),
  sharpness: versionedParser(sharpnessSchema),
  noise: versionedParser(noiseSchema),
  interpolate: versionedParser(interpolateSchema),
  gradientVariance: versionedParser(gradientVarianceSchema),
};
const parseUnknownResult = versionedParser(anyObject);

/** A measurement's stored result, checked by its kind (any JSON object for a kind this release does not know). */
export function parseMeasurementResult(kind: string, value: unknown, place: RecordPlace): MeasurementResult {
  return isMeasurementKind(kind) ? measurementParsers[kind](value, place) : parseUnknownResult(value, place);
}

/** A stored result column: JSON text (or already decoded JSON), null or undefined when there is no result yet. */
function decoded(column: unknown, place: RecordPlace): unknown {
  if (typeof column !== 'string') return column;
  try {
    return JSON.parse(column);
  } catch (error) {
    throw new RecordError(place, [`(top level): not JSON (${(error as Error).message}): ${JSON.stringify(column.slice(0, 80))}`]);
  }
}

/** A trial's result column as its row leaves a store (sql-store.ts: trialFromRow), checked; null when it has none. */
export function readTrialResult(column: unknown, study: string, key: string): TrialResult | null {
  const place = { study, key, what: 'result' };
  const json = decoded(column, place);
  return json === null || json === undefined ? null : parseTrialResult(json, place);
}

/** A measurement's result column as its row leaves a store, checked by its kind; null when it has none. */
export function readMeasurementResult(column: unknown, study: string, key: string, kind: string, spec: string): MeasurementResult | null {
  const place = { study, key, what: `${kind} measurement ${spec}` };
  const json = decoded(column, place);
  return json === null || json === undefined ? null : parseMeasurementResult(kind, json, place);
}

/**
 * A result as the store will keep it, checked before it is stored: through JSON (NaN and ±Infinity
 * become null, as the store writes them) and the schema, so that what is written is what is read.
 */
export const storedTrialResult = (result: object, study: string, key: string): TrialResult => parseTrialResult(JSON.parse(JSON.stringify(result)), { study, key, what: 'result' });

export const storedMeasurementResult = (kind: string, result: object, study: string, key: string, spec: string): MeasurementResult =>
  parseMeasurementResult(kind, JSON.parse(JSON.stringify(result)), { study, key, what: `${kind} measurement ${spec}` });
