/**
 * What a report shows, read from the store: the study's current trials, the best learning rate per
 * batch size and budget with its metrics and measurements (mean ± std over seeds), the learning
 * curves of the best trials, and the measurements taken with the study's current options.
 * Needs no addon.
 */
import { bestByBatchSize, currentTrials, jobId, measurementJobs, stat, summarizeMeasurements, type BatchSizeResult, type Stat, type Study, type StoredMeasurement, type StoredTrial, type StudyStore } from '../study/index.js';

export interface ReportRow extends BatchSizeResult {
  trainAccuracy?: Stat;
  /** Training minus test accuracy, per seed, mean ± std (the generalization gap). */
  gap?: Stat;
  measurements: Record<string, Stat>;
}

export interface ReportData {
  study: Study;
  trials: StoredTrial[];
  rows: ReportRow[];
  /** Per-step metrics of the best trials, by trial key. */
  curves: Map<string, { step: number; name: string; value: number }[]>;
  /** Completed measurements with the study's current options. */
  measurements: StoredMeasurement[];
}

type Summary = { train?: { accuracy: number | null; loss: number }; test?: { accuracy: number | null; loss: number } };

export function budgetLabel(budget: unknown): string {
  if (budget && typeof budget === 'object') {
    const b = budget as { epochs?: number; steps?: number };
    if (b.epochs !== undefined) return `${b.epochs} epoch${b.epochs === 1 ? '' : 's'}`;
    if (b.steps !== undefined) return `${b.steps} steps`;
  }
  return JSON.stringify(budget);
}

export async function loadReportData(store: StudyStore, study: Study): Promise<ReportData> {
  const trials = await currentTrials(store, study);
  const byKey = new Map(trials.map((t) => [t.key, t]));
  const all = await store.measurements(study.name);
  const jobs = measurementJobs(study, trials);
  const rows: ReportRow[] = bestByBatchSize(study, trials).map((r) => {
    const best = r.bestTrials.map((k) => byKey.get(k)!.result as Summary);
    const withTrain = best.filter((s) => s.train?.accuracy != null && s.test?.accuracy != null);
    return {
      ...r,
      ...(withTrain.length === best.length && best.length > 0 ? {
        trainAccuracy: stat(withTrain.map((s) => s.train!.accuracy!)),
        gap: stat(withTrain.map((s) => s.train!.accuracy! - s.test!.accuracy!)),
      } : {}),
      measurements: summarizeMeasurements(jobs, r.bestTrials, all),
    };
  });
  const best = rows.flatMap((r) => r.bestTrials);
  const curves = new Map(await Promise.all(best.map(async (k) => [k, await store.metrics(study.name, k)] as const)));
  const wanted = new Set(jobs.map(jobId));
  const measurements = all.filter((m) => m.status === 'completed' && wanted.has(jobId(m)));
  return { study, trials, rows, curves, measurements };
}
