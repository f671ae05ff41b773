/**
 * Measurements at training-loss levels: a study whose trials save checkpoints at loss levels
 * (training option checkpointAt) and whose `measure.levels` names kinds measures every such checkpoint
 * of its target trials, one job per trial × level × kind, on `measure.levels.subset` examples. The job's
 * spec carries its level, so level measurements never mix with those of the final checkpoints.
 * Needs no addon.
 */
import { byBatchSizeEntry, measureObjectives, measureOptionsFor, measureSchema, objectiveKey, type MeasureObjective, type MeasureSpec } from './schema.js';
import type { LossLevel } from './records.js';
import type { StoredTrial } from './store.js';

/** The loss level a measurement job's spec is for (undefined: the trial's final checkpoint). */
export function levelOf(spec: string): number | undefined {
  const level = (JSON.parse(spec) as { level?: unknown }).level;
  return typeof level === 'number' ? level : undefined;
}

/** The loss-level checkpoints a trial recorded (empty when it saved none). */
export const lossLevelsOf = (trial: StoredTrial): LossLevel[] => (trial.result?.lossLevels ?? []).filter((r) => r.checkpoint !== undefined);

/** The record of a trial's checkpoint at training-loss `level`. */
export function lossLevelRecord(trial: StoredTrial, level: number): LossLevel {
  const record = lossLevelsOf(trial).find((r) => r.level === level);
  if (!record) {
    const saved = lossLevelsOf(trial).map((r) => r.level);
    throw new Error(`trial ${trial.key} has no checkpoint at training-loss level ${level} (${saved.length > 0 ? `it has: ${saved.join(', ')}` : 'it saved none'})`);
  }
  return record;
}

/** The jobs measuring every loss-level checkpoint of the target trials; `spec` is the study's spec maker. */
export function levelJobs(measure: MeasureSpec, trials: readonly StoredTrial[], targets: readonly string[], spec: (options: object, extra: object) => string): { key: string; kind: string; spec: string }[] {
  const levels = measure.levels;
  if (!levels) return [];
  const byKey = new Map(trials.map((t) => [t.key, t]));
  const objectives = measureObjectives(measure);
  return targets.flatMap((key) => {
    const trial = byKey.get(key)!;
    // The trial's batch size's options (measure.byBatchSize): the levels' kinds that its entry measures, and their options.
    const options = measureOptionsFor(measure, trial.config.batchSize);
    const entryKinds = byBatchSizeEntry(measure, trial.config.batchSize)?.what;
    const kinds = entryKinds ? levels.what.filter((kind) => entryKinds.includes(kind)) : levels.what;
    return lossLevelsOf(trial).flatMap((record) => kinds.flatMap((kind) => objectives.map((objective) => ({
      key, kind, spec: spec(options[kind], { level: record.level, subset: levels.subset ?? measure.subset ?? null, ...objectiveKey({ objective }) }),
    }))));
  });
}

/** The objective a measurement job's spec is for (undefined: the default, running statistics and no clipping; objectiveKey wrote it). */
export function objectiveOf(spec: string): MeasureObjective | undefined {
  const objective = (JSON.parse(spec) as { objective?: unknown }).objective;
  return objective === undefined ? undefined : measureSchema.shape.objective.parse(objective);
}

/**
 * What a measurement job measures: the checkpoint (final or at its level) and the options (the level's
 * subset; the job's one objective, of the study's `objectives`, as `objective`).
 */
export function measurementTarget(options: MeasureSpec, trial: StoredTrial, spec: string): { checkpoint: string; measure: MeasureSpec; level?: number } {
  const { objectives: _all, ...rest } = measureOptionsFor(options, trial.config.batchSize);
  const measure: MeasureSpec = { ...rest, objective: objectiveOf(spec) };
  const level = levelOf(spec);
  if (level === undefined) {
    if (!trial.checkpoint) throw new Error(`trial ${trial.key} has no checkpoint to measure`);
    return { checkpoint: trial.checkpoint, measure };
  }
  return { checkpoint: lossLevelRecord(trial, level).checkpoint!, measure: { ...measure, subset: measure.levels?.subset ?? measure.subset }, level };
}
