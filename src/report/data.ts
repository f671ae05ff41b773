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
  /** What went wrong, with the stored reason: failed trials, failed measurements, and recordings that failed inside completed trials. */
  problems: Problem[];
}

export interface Problem {
  key: string;
  coordinates: Record<string, unknown>;
  /** 'trial', a measurement kind, or 'fluctuations' (a recording of a completed trial). */
  what: string;
  error: string;
}

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
    const best = r.bestTrials.map((k) => byKey.get(k)!.result ?? {});
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
  return { study, trials, rows, curves, measurements, problems: problemsOf(trials, all.filter((m) => wanted.has(jobId(m)))) };
}

/** Failed trials and measurements, and a recording's error stored inside a completed trial, each with its reason. */
export function problemsOf(trials: readonly StoredTrial[], measurements: readonly StoredMeasurement[]): Problem[] {
  const byKey = new Map(trials.map((t) => [t.key, t]));
  const at = (key: string) => byKey.get(key)?.coordinates ?? {};
  return [
    ...trials.filter((t) => t.status === 'failed').map((t) => ({ key: t.key, coordinates: t.coordinates, what: 'trial', error: t.error ?? 'failed (no reason stored)' })),
    ...trials.flatMap((t) => (t.result?.fluctuationsError !== undefined ? [{ key: t.key, coordinates: t.coordinates, what: 'fluctuations', error: t.result.fluctuationsError }] : [])),
    ...measurements.filter((m) => m.status === 'failed' && byKey.has(m.key)).map((m) => ({ key: m.key, coordinates: at(m.key), what: m.kind, error: m.error ?? 'failed (no reason stored)' })),
  ];
}
