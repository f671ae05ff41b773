/**
 * Where studies and trials live. The runner and the CLI use this interface only, so that a
 * PostgreSQL implementation (for many machines, with pg-boss as the queue) can stand beside the
 * SQLite one without touching them. Every method is a transaction: a trial's result is stored
 * completely or not at all.
 */
import type { TrainConfig } from '../train/config.js';
import type { Study } from './schema.js';
import type { Trial } from './trials.js';

export type TrialStatus = 'pending' | 'running' | 'completed' | 'diverged' | 'failed';

export interface StoredTrial {
  study: string;
  key: string;
  coordinates: Record<string, unknown>;
  config: TrainConfig;
  status: TrialStatus;
  worker: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  seconds: number | null;
  /** The training result (JSON) for completed and diverged trials. */
  result: Record<string, unknown> | null;
  error: string | null;
  checkpoint: string | null;
}

export type MeasurementStatus = 'pending' | 'running' | 'completed' | 'failed';

export interface StoredMeasurement {
  key: string;
  kind: string;
  /** The options it was measured with (canonical JSON): a changed option is another measurement. */
  spec: string;
  status: MeasurementStatus;
  worker: string | null;
  seconds: number | null;
  result: Record<string, unknown> | null;
  error: string | null;
}

export interface StudyStore {
  /** Records the study and adds its trials that are not stored yet (existing ones are untouched). Returns how many were added. */
  upsertStudy(study: Study, trials: readonly Trial[]): number;
  getStudy(name: string): { study: Study; createdAt: string } | undefined;
  listStudies(): { name: string; createdAt: string; counts: Record<TrialStatus, number>; measurements: Record<MeasurementStatus, number> }[];
  /** Atomically takes one pending trial (or one left 'running' by a worker that is gone) and marks it running. */
  claim(study: string, worker: string, isWorkerAlive?: (worker: string) => boolean): StoredTrial | undefined;
  finish(study: string, key: string, outcome: { status: 'completed' | 'diverged'; result: Record<string, unknown>; seconds: number; checkpoint?: string }): void;
  fail(study: string, key: string, error: string, seconds: number): void;
  /** Appends a time series of metrics for a trial. */
  addMetrics(study: string, key: string, rows: readonly { step: number; name: string; value: number }[]): void;
  metrics(study: string, key: string): { step: number; name: string; value: number }[];
  /** Queues measurements of trials (existing ones, whatever their status, are untouched). Returns how many were added. */
  addMeasurementJobs(study: string, jobs: readonly { key: string; kind: string; spec: string }[]): number;
  /**
   * Withdraws queued measurements that are no longer asked for (options or targets changed): pending
   * ones, and running ones whose worker is gone. Completed and failed ones stay. Returns how many.
   */
  withdrawMeasurements(study: string, keep: readonly { key: string; kind: string; spec: string }[], isWorkerAlive?: (worker: string) => boolean): number;
  /** Atomically takes one pending measurement (or one left 'running' by a worker that is gone). */
  claimMeasurement(study: string, worker: string, isWorkerAlive?: (worker: string) => boolean): StoredMeasurement | undefined;
  finishMeasurement(study: string, job: { key: string; kind: string; spec: string }, result: Record<string, unknown>, seconds: number): void;
  failMeasurement(study: string, job: { key: string; kind: string; spec: string }, error: string, seconds: number): void;
  /** The measurements of a study (of one trial with `key`), in the order they were queued. */
  measurements(study: string, key?: string): StoredMeasurement[];
  /**
   * Marks what a worker holds (its running trial and measurements) failed with `error`: the runner
   * calls it when it kills a worker over its memory limit or a worker crashes, so the study goes on
   * and the trial is recorded as such. `workerPrefix` is "host:pid:". Returns how many were marked.
   */
  failHeldBy(study: string, workerPrefix: string, error: string): number;
  trials(study: string): StoredTrial[];
  /** Every trial's and measurement's status, without their results (cheap enough to poll for progress). */
  statuses(study: string): { trials: { key: string; status: TrialStatus }[]; measurements: { key: string; kind: string; spec: string; status: MeasurementStatus }[] };
  trial(study: string, key: string): StoredTrial | undefined;
  deleteStudy(name: string): boolean;
  close(): void;
}
