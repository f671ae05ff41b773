/**
 * Where studies and trials live: one asynchronous interface, two backends chosen by URL
 * (`openStore` in store-factory.ts): SQLite on one machine, PostgreSQL when a study spans machines.
 * The runner, the workers, the CLI, the report and the dashboard use this interface only; nothing
 * above the factory imports a backend.
 *
 * Every method is one transaction: a trial's result is stored completely or not at all. Work is
 * claimed with a lease (renewed by the worker's heartbeat) and an attempt number, the fencing token:
 * a result, failure or metric sent with an attempt that is no longer the trial's current one (its
 * worker was paused or cut off past its lease and the work was claimed again) is refused, recorded
 * as a refusal, and never stored over or beside the current attempt's.
 */
import type { TrainConfig } from '../train/config.js';
import type { Study } from './schema.js';
import type { Trial } from './trials.js';
import type { MeasurementResult, MeasurementResultOf, MeasurementStatus, Metric, StudySummary, TrialResult, TrialStatus } from './records.js';

// The records' shapes live in records.ts (zod only: the dashboard's client imports them too).
export type { MeasurementStatus, Metric, StudySummary, TrialStatus } from './records.js';
export type StoreBackend = 'sqlite' | 'postgres';

export interface StoredTrial {
  study: string;
  key: string;
  coordinates: Record<string, unknown>;
  config: TrainConfig;
  status: TrialStatus;
  worker: string | null;
  /** How many times it has been claimed; the current claim's fencing token (0: never claimed). */
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
  seconds: number | null;
  /** The training result for completed and diverged trials (checked as it left the store: records.ts). */
  result: TrialResult | null;
  error: string | null;
  /** Where its checkpoint is: a directory, or `store:` when the files are in the store (`artifact`). */
  checkpoint: string | null;
}

export interface MeasurementJob {
  key: string;
  kind: string;
  /** The options it was measured with (canonical JSON): a changed option is another measurement. */
  spec: string;
}

/** A measurement of kind K; its result has K's shape (isMeasurementOf in records.ts narrows a measurement to a kind). */
export interface StoredMeasurement<K extends string = string> extends MeasurementJob {
  kind: K;
  status: MeasurementStatus;
  worker: string | null;
  attempt: number;
  seconds: number | null;
  result: MeasurementResultOf<K> | null;
  error: string | null;
}

/** One file of a checkpoint kept in the store (model.safetensors, model.json, initial.safetensors). */
export interface ArtifactFile {
  name: string;
  data: Uint8Array;
}

/** A checkpoint file's name and size, for listing it without reading it. */
export interface ArtifactSize {
  name: string;
  bytes: number;
}

/** The checkpoint marker of a trial whose files are in the store. */
export const IN_STORE = 'store:';

/** What a worker holds now; a trial trained in a pack (packing.ts) holds its other members' claims too, in `pack`. */
export type WorkerHolding =
  | { kind: 'trial'; key: string; attempt: number; pack?: { key: string; attempt: number }[] }
  | { kind: 'measurement'; key: string; measurement: string; spec: string; attempt: number };

/** What a worker's heartbeat reports. */
export interface WorkerBeat {
  id: string;
  study: string;
  host: string;
  pid: number;
  holds: WorkerHolding | null;
  step: number | null;
  totalSteps: number | null;
  /** The last training loss it saw. */
  loss: number | null;
  rssMb: number | null;
  /** 'working' while it holds something, 'idle' between claims, 'exited' when it stopped (`message` says why). */
  state: 'working' | 'idle' | 'exited';
  message: string | null;
}

export interface WorkerRecord extends WorkerBeat {
  startedAt: string;
  lastSeen: string;
  /** The lease it claims with, seconds. */
  leaseSeconds: number;
  /** No heartbeat within its lease (by the store's clock): what it holds can be claimed by anyone. */
  expired: boolean;
}

export interface Refusal {
  kind: 'trial' | 'measurement';
  key: string;
  /** The measurement kind and spec (measurements only). */
  measurement: string | null;
  spec: string | null;
  /** The worker holding the current attempt when the stale one was refused. */
  worker: string;
  /** The stale attempt, and the attempt current when it was refused. */
  attempt: number;
  currentAttempt: number;
  /** What was refused: 'finish', 'fail', 'metrics'. */
  what: string;
  at: string;
}

export interface ClaimOptions {
  /** Seconds the claim is held without a heartbeat (default DEFAULT_LEASE_SECONDS). */
  leaseSeconds?: number;
  /**
   * Whether the worker holding a running claim is alive. Workers of this host whose process is
   * gone are taken over at once, without waiting for their lease (liveness.ts); default: all alive.
   */
  isWorkerAlive?: (worker: string) => boolean;
}

export interface TrialOutcome {
  status: 'completed' | 'diverged';
  result: TrialResult;
  seconds: number;
  /** A checkpoint directory, or IN_STORE with `artifacts`. */
  checkpoint?: string;
  /** Checkpoint files stored with the result (same transaction, same fencing). */
  artifacts?: readonly ArtifactFile[];
  /** The run's metrics, stored with the result. */
  metrics?: readonly Metric[];
}

/** A trial stopped by the study's pruning rule: its result at the rung (with `pruned`), and what it leaves to resume from. */
export interface PrunedOutcome {
  result: TrialResult;
  seconds: number;
  /** Where its files are: a directory, or IN_STORE with `artifacts` (a training snapshot, to resume from if a relaxed rule reopens it). */
  checkpoint?: string;
  artifacts?: readonly ArtifactFile[];
  metrics?: readonly Metric[];
}

/** A trial's value at a rung (a metric row of its current attempt). */
export interface RungValue {
  key: string;
  step: number;
  value: number;
}

/** Everything of one study, for `sgdlab copy` (keys, attempts and results as stored). */
export interface StudyDump {
  name: string;
  spec: Study;
  createdAt: string;
  trials: StoredTrial[];
  metrics: { key: string; attempt: number; rows: Metric[] }[];
  measurements: (StoredMeasurement & { startedAt: string | null; finishedAt: string | null })[];
  refusals: Refusal[];
  /** Checkpoint files kept in the store, by trial key. */
  artifacts: { key: string; files: ArtifactFile[] }[];
}

export const emptyTrialCounts = (): Record<TrialStatus, number> => ({ pending: 0, running: 0, completed: 0, diverged: 0, failed: 0, pruned: 0 });
export const emptyMeasurementCounts = (): Record<MeasurementStatus, number> => ({ pending: 0, running: 0, completed: 0, failed: 0 });
/** One string per measurement job (trial, kind, options). */
export const jobId = (j: MeasurementJob) => `${j.key}\u0000${j.kind}\u0000${j.spec}`;

/** Optuna's defaults: a heartbeat every 60 s, a claim lost after 120 s without one. */
export const DEFAULT_LEASE_SECONDS = 120;
export const DEFAULT_HEARTBEAT_SECONDS = 60;

export interface StudyStore {
  readonly backend: StoreBackend;
  /** The store's URL with any password redacted: safe to print. */
  readonly url: string;
  /** Where checkpoints go when the user says nothing: IN_STORE, or a directory (SQLite: beside the file). */
  readonly defaultArtifacts: string;

  /** Records the study and adds its trials that are not stored yet (existing ones are untouched). Returns how many were added. */
  upsertStudy(study: Study, trials: readonly Trial[]): Promise<number>;
  getStudy(name: string): Promise<{ study: Study; createdAt: string } | undefined>;
  listStudies(): Promise<StudySummary[]>;
  /**
   * Atomically takes one pending trial, or one left 'running' whose lease expired or whose worker
   * is known dead, marks it running under `worker` with a lease and the next attempt number.
   */
  claim(study: string, worker: string, options?: ClaimOptions): Promise<StoredTrial | undefined>;
  /**
   * Claims, of the trials `keys`, up to `limit` that are pending with nothing to resume from (no checkpoint:
   * not a reopened pruned trial), skipping any another claimer is taking,
   * each as `claim` would: running under `worker` with its next attempt and a lease. For a worker that
   * trains several trials at once (packing.ts). Returns them in the order of `keys`.
   */
  claimPending(study: string, worker: string, keys: readonly string[], limit: number, options?: ClaimOptions): Promise<StoredTrial[]>;
  /** Stores the result of attempt `attempt`; false (and a refusal recorded) if that attempt is no longer current. */
  finish(study: string, key: string, attempt: number, outcome: TrialOutcome): Promise<boolean>;
  fail(study: string, key: string, attempt: number, error: string, seconds: number): Promise<boolean>;
  /** Stores attempt `attempt` as pruned (terminal: never claimed again); false (and a refusal recorded) if that attempt is no longer current. */
  prune(study: string, key: string, attempt: number, outcome: PrunedOutcome): Promise<boolean>;
  /**
   * Stores the trial's value at a rung (a metric row of attempt `attempt`, fenced like addMetrics) and
   * returns, in the same transaction, every trial's rows named `row.name` (current attempts), by step:
   * what the pruning rule decides from. Rung reports of one study are serialized (the study's row is
   * locked by the write), so of two trials reaching a rung at once the later sees the earlier's value.
   * Undefined when the attempt is stale.
   */
  reportRung(study: string, key: string, attempt: number, row: Metric): Promise<RungValue[] | undefined>;
  /**
   * Reopens pruned trials (a relaxed or removed pruning rule would not have stopped them): pending
   * again, with the metrics of their attempt carried to the next one (the attempt their next claim
   * takes), so that their curves and rung values go on; their snapshot (artifacts) stays for the worker
   * to resume from. Trials that are not pruned are left alone. Returns how many were reopened.
   */
  reopenPruned(study: string, keys: readonly string[]): Promise<number>;
  /**
   * Queues the study's failed trials and failed measurements again (`sgdlab retry`): pending, their error
   * and result cleared. The next claim takes the next attempt, so a late result of the failed attempt is
   * still refused, and only the new attempt's metrics count. Returns how many of each were queued.
   */
  retryFailed(study: string): Promise<{ trials: number; measurements: number }>;
  /**
   * Appends metrics of attempt `attempt` (refused if stale). A row is kept once per attempt, step and
   * name: rows sent again (a call retried after its reply was lost) are skipped, the first value stays.
   */
  addMetrics(study: string, key: string, attempt: number, rows: readonly Metric[]): Promise<boolean>;
  /** The metrics of the trial's current attempt, in the order they were stored. */
  metrics(study: string, key: string): Promise<Metric[]>;
  /** Queues measurements of trials (existing ones, whatever their status, are untouched). Returns how many were added. */
  addMeasurementJobs(study: string, jobs: readonly MeasurementJob[]): Promise<number>;
  /**
   * Withdraws queued measurements that are no longer asked for (options or targets changed): pending
   * ones, and running ones whose worker is gone or whose lease expired. Completed and failed ones stay. Returns how many.
   */
  withdrawMeasurements(study: string, keep: readonly MeasurementJob[], isWorkerAlive?: (worker: string) => boolean): Promise<number>;
  /** Like `claim`, for measurements. */
  claimMeasurement(study: string, worker: string, options?: ClaimOptions): Promise<StoredMeasurement | undefined>;
  finishMeasurement(study: string, job: MeasurementJob, attempt: number, result: MeasurementResult, seconds: number): Promise<boolean>;
  failMeasurement(study: string, job: MeasurementJob, attempt: number, error: string, seconds: number): Promise<boolean>;
  /** The measurements of a study (of one trial with `key`), in the order they were queued. */
  measurements(study: string, key?: string): Promise<StoredMeasurement[]>;
  /**
   * Marks what a worker holds (its running trial and measurements) failed with `error`: the runner
   * calls it when it kills a worker over its memory limit or a worker crashes, so the study goes on
   * and the trial is recorded as such. `workerPrefix` is "host:pid:". Returns how many were marked.
   */
  failHeldBy(study: string, workerPrefix: string, error: string): Promise<number>;
  trials(study: string): Promise<StoredTrial[]>;
  /** Every trial's and measurement's status, without their results (cheap enough to poll for progress). */
  statuses(study: string): Promise<{ trials: { key: string; status: TrialStatus }[]; measurements: (MeasurementJob & { status: MeasurementStatus })[] }>;
  trial(study: string, key: string): Promise<StoredTrial | undefined>;
  /**
   * A worker's heartbeat: records its row in the workers table and renews the lease of what it holds
   * (rows still claimed by it). Returns how many claims were renewed.
   */
  heartbeat(beat: WorkerBeat, leaseSeconds: number): Promise<number>;
  /** The workers of a study (every study's without `study`), most recently seen first. */
  workers(study?: string): Promise<WorkerRecord[]>;
  /** Late results refused because their attempt was stale, oldest first. */
  refusals(study: string): Promise<Refusal[]>;
  /** The checkpoint files of a trial kept in the store (undefined if none). */
  artifact(study: string, key: string): Promise<ArtifactFile[] | undefined>;
  /** The names and sizes of the same files, by name, without reading their bytes (undefined if none). */
  artifactSizes(study: string, key: string): Promise<ArtifactSize[] | undefined>;
  deleteStudy(name: string): Promise<boolean>;
  /** Everything of a study, for copying it to another store. */
  dumpStudy(name: string): Promise<StudyDump | undefined>;
  /** Writes a dumped study (which must not exist here yet) as it was: same keys, attempts, results, artifacts. */
  loadStudy(dump: StudyDump): Promise<void>;
  close(): Promise<void>;
}

/** How a store is opened (store-factory.ts's openStore; here so that the backends need not import the factory). */
export interface OpenStoreOptions {
  /**
   * PostgreSQL: how long an operation keeps retrying a lost connection (with backoff) before it
   * fails, seconds (default 30). Workers set it to their lease.
   */
  retrySeconds?: number;
  /** PostgreSQL: connections in this process's pool (default 2). */
  maxConnections?: number;
}
