/**
 * The runner's view of a study's progress: the counts of the current grid's trials and the current
 * measurement jobs (trials of dropped grid points and measurements with old options stay stored but
 * are not this study's work), and what finished between two looks at the store, here or on other
 * machines, for the log of a run nobody watches.
 */
import type { Trial } from './trials.js';
import { emptyMeasurementCounts, emptyTrialCounts, jobId, type MeasurementStatus, type StudyStore, type TrialStatus } from './store.js';

/** A trial or measurement that finished, for the log of a run nobody watches. */
export interface FinishedWork {
  key: string;
  /** The measurement's kind; undefined for a trial. */
  measurement?: string;
  status: TrialStatus | MeasurementStatus;
  coordinates: Record<string, unknown>;
  seconds: number | null;
  testAccuracy: number | null;
  error: string | null;
  worker: string | null;
}

/** Where the counts go (the run's summary). */
export interface StatusCounts {
  counts: Record<TrialStatus, number>;
  measurements: Record<MeasurementStatus, number>;
}

const terminal = (status: string) => status === 'completed' || status === 'diverged' || status === 'failed' || status === 'pruned';

export class StatusTracker {
  private readonly coordinatesOf: Map<string, Record<string, unknown>>;
  private currentJobs = new Set<string>();
  /** Statuses at the last refresh, so that what finished in between can be reported (first refresh: the baseline). */
  private lastStatus: Map<string, string> | undefined;
  private readonly finished: { id: string; key: string; measurement?: string; status: TrialStatus | MeasurementStatus }[] = [];

  /** `trials`: the current grid; `into`: where refresh writes the counts. */
  constructor(private readonly store: StudyStore, private readonly study: string, trials: readonly Trial[], private readonly into: StatusCounts) {
    this.coordinatesOf = new Map(trials.map((t) => [t.key, t.coordinates]));
  }

  /** Whether a stored trial is one of the current grid. */
  isCurrent(key: string): boolean {
    return this.coordinatesOf.has(key);
  }

  /** The measurement jobs now queued for the study (counted from here on). */
  trackJobs(ids: Iterable<string>): void {
    this.currentJobs = new Set(ids);
  }

  /** Reads the statuses: the counts into `into`, and what reached an end since the last refresh. */
  async refresh(): Promise<void> {
    const s = await this.store.statuses(this.study);
    const counts = emptyTrialCounts();
    for (const t of s.trials) if (this.isCurrent(t.key)) counts[t.status]++;
    const measurements = emptyMeasurementCounts();
    for (const m of s.measurements) if (this.currentJobs.has(jobId(m))) measurements[m.status]++;
    this.into.counts = counts;
    this.into.measurements = measurements;
    const now = new Map<string, string>();
    for (const t of s.trials) if (this.isCurrent(t.key)) now.set(t.key, t.status);
    for (const m of s.measurements) if (this.currentJobs.has(jobId(m))) now.set(jobId(m), m.status);
    const last = this.lastStatus;
    if (last) {
      for (const t of s.trials) if (now.get(t.key) === t.status && terminal(t.status) && last.get(t.key) !== t.status) this.finished.push({ id: t.key, key: t.key, status: t.status });
      for (const m of s.measurements) if (now.get(jobId(m)) === m.status && terminal(m.status) && last.get(jobId(m)) !== m.status) this.finished.push({ id: jobId(m), key: m.key, measurement: m.kind, status: m.status });
    }
    this.lastStatus = now;
  }

  /** What finished since the last call, with the trial's details (one read of each from the store). */
  async takeFinished(): Promise<FinishedWork[]> {
    const { store, study } = this;
    const out: FinishedWork[] = [];
    for (const f of this.finished.splice(0)) {
      const t = await store.trial(study, f.key);
      const error = f.measurement === undefined ? t?.error : (await store.measurements(study, f.key)).find((m) => jobId(m) === f.id)?.error;
      const result = f.measurement === undefined ? t?.result : null;
      out.push({
        key: f.key, ...(f.measurement !== undefined ? { measurement: f.measurement } : {}), status: f.status, coordinates: this.coordinatesOf.get(f.key) ?? t?.coordinates ?? {},
        seconds: f.measurement === undefined ? t?.seconds ?? null : null, testAccuracy: result?.test?.accuracy ?? null, error: error ?? null, worker: t?.worker ?? null,
      });
    }
    return out;
  }
}
