/**
 * Runs a study: expands it into keyed trials, adds the new ones to the store (completed ones are
 * never run again; ones left running by a dead worker are taken over), and starts `workers` worker
 * processes (processes, not threads: native addons and thread termination crash together), each
 * with one libtorch thread. When every trial is done, the study's measurements are queued (on every
 * completed trial or the best learning rate's seeds per batch size) and run by a second round of
 * workers from the trials' checkpoints.
 *
 * The same loop serves `sgdlab worker` on any machine (`workStudy`): it claims what is left of a
 * study that is already in the store, queues the measurements when the last trial is done, and
 * measures. Workers on other machines claim from the same store; leases and attempt numbers keep
 * every trial and measurement stored once (store.ts).
 *
 * Crash isolation: a worker that dies (a native crash, the OOM killer) or goes over its memory limit
 * (resident set, read from /proc every half second, SIGKILL over the limit) has the trial or
 * measurement it held recorded as failed with the reason, and a new worker takes its place. Aborting
 * (Ctrl-C) kills the workers; the next run resumes. The worker processes: worker-pool.ts; the counts
 * and what finished: runner-status.ts.
 */
import { cpus, totalmem } from 'node:os';
import { sgdlabVersion } from '../train/version.js';
import { measurementJobs } from './results.js';
import type { Study } from './schema.js';
import { openStore } from './store-factory.js';
import { DEFAULT_HEARTBEAT_SECONDS, DEFAULT_LEASE_SECONDS, emptyMeasurementCounts, emptyTrialCounts, jobId, type MeasurementStatus, type StudyStore, type TrialStatus } from './store.js';
import { expandTrials } from './trials.js';
import { checkStudyDevices, trialDevices } from './devices.js';
import { isWorkerAlive } from './liveness.js';
import type { WorkerOptions } from './worker.js';
import { StatusTracker, type FinishedWork } from './runner-status.js';
import { runWorkerPool, type PoolTally, type RunPhase, type WorkerState } from './worker-pool.js';
import { reopenRelaxed } from './reopen-pruned.js';

export type { FinishedWork } from './runner-status.js';
export type { RunPhase, WorkerState } from './worker-pool.js';

export interface RunProgress {
  phase: RunPhase;
  counts: Record<TrialStatus, number>;
  measurements: Record<MeasurementStatus, number>;
  workers: WorkerState[];
  /** Trials and measurements of the study that finished since the last report (here or on other machines). */
  finished: FinishedWork[];
}

export interface WorkOptions {
  /** Worker processes (default: one per core; 0 for runStudy: register the study only). */
  workers?: number;
  /** Each worker's resident memory limit in MB (default: 90% of the machine's memory shared among the workers). */
  maxMemoryMb?: number;
  /** Seconds a claim is held without a heartbeat, and between heartbeats (defaults: 120 and 60, as Optuna). */
  leaseSeconds?: number;
  heartbeatSeconds?: number;
  /** Where checkpoints go: IN_STORE or a directory every worker can read (default: the store's default). */
  artifacts?: string;
  /**
   * GPUs to pin the workers to (indices among the GPUs this process sees): worker i gets gpus[i % n]
   * as its only visible GPU (CUDA_VISIBLE_DEVICES). The study's device must then be 'cuda'.
   */
  gpus?: number[];
  /** Only this phase (a cluster may train on some machines and measure on others); default both. */
  only?: RunPhase;
  onProgress?: (progress: RunProgress) => void;
  /** Called once per warning, when it arises (they are also in the summary). */
  onWarning?: (warning: string) => void;
  signal?: AbortSignal;
  /** Where the resident memory of a worker is read from (tests point it elsewhere); default /proc/PID/status. */
  procRoot?: string;
}

export interface RunOptions extends WorkOptions {
  /** The store's URL (a SQLite path, sqlite:PATH, postgres://…). */
  db: string;
}

export interface RunSummary extends PoolTally {
  added: number;
  measurementsAdded: number;
  counts: Record<TrialStatus, number>;
  measurements: Record<MeasurementStatus, number>;
}

export const defaultMaxMemoryMb = (workers: number) => Math.floor((0.9 * totalmem()) / 2 ** 20 / workers);

/** Registers (or widens) a study in the store and runs `workers` local worker processes on it (none with `workers: 0`). */
export async function runStudy(study: Study, options: RunOptions): Promise<RunSummary> {
  const store = await openStore(options.db);
  try {
    const trials = expandTrials(study, sgdlabVersion());
    // Before the study is registered: a device the workers cannot have stops here (workStudy checks again for `sgdlab worker`).
    if (options.workers !== 0) await checkStudyDevices(study.name, trialDevices(trials), options.gpus);
    const added = await store.upsertStudy(study, trials);
    // Pruned trials that the study's pruning rule (relaxed, widened or removed since) would not stop resume.
    await reopenRelaxed(store, study);
    const summary = await workStudy(store, options.db, study, { ...options, workers: options.workers === 0 ? 0 : options.workers });
    return { ...summary, added };
  } finally {
    await store.close();
  }
}

/**
 * Works on a study already in the store: trains what is left with local worker processes, then (once
 * every trial of the current grid is done, here or on other machines) queues its measurements and
 * measures. `url` is the store's URL for the workers (passed in their environment, never in argv).
 */
export async function workStudy(store: StudyStore, url: string, study: Study, options: WorkOptions): Promise<RunSummary> {
  const n = options.workers === 0 ? 0 : Math.max(1, options.workers ?? cpus().length);
  const summary: RunSummary = { added: 0, measurementsAdded: 0, counts: emptyTrialCounts(), measurements: emptyMeasurementCounts(), aborted: false, memoryKills: 0, crashes: 0, errors: [], unreachable: [], warnings: [] };
  // Counts are of the current grid and the current measurement jobs (trials of dropped grid points and
  // measurements with old options stay stored but are not this study's work).
  const trials = expandTrials(study, sgdlabVersion());
  // Before any worker starts: a device this machine (or a pinned worker) cannot serve is a configuration error.
  if (n > 0) await checkStudyDevices(study.name, trialDevices(trials), options.gpus);
  const status = new StatusTracker(store, study.name, trials, summary);
  const runPhase = phaseRunner(store, url, study, options, n, status, summary);
  const onAbort = () => {
    summary.aborted = true;
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await status.refresh();
    if (n > 0 && options.only !== 'measure' && summary.counts.pending + summary.counts.running > 0) await runPhase('train');
    // Workers that stopped because the store was out of reach: so is this process, most likely; report, do not throw.
    if (summary.unreachable.length > 0) return summary;
    await status.refresh();
    if (study.measure && !summary.aborted && summary.counts.pending + summary.counts.running === 0) {
      // The trials of the current grid (dropped grid points stay stored but are not targets).
      const jobs = measurementJobs(study, (await store.trials(study.name)).filter((t) => status.isCurrent(t.key)));
      // Measurements queued for options or targets the study no longer has are withdrawn, not run.
      await store.withdrawMeasurements(study.name, jobs, isWorkerAlive);
      summary.measurementsAdded = await store.addMeasurementJobs(study.name, jobs);
      status.trackJobs(jobs.map(jobId));
      await status.refresh();
      if (n > 0 && options.only !== 'train' && summary.measurements.pending + summary.measurements.running > 0) await runPhase('measure');
    }
    if (summary.unreachable.length > 0) return summary;
    await status.refresh();
    return summary;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Runs one phase with `n` local workers, reporting progress (the counts, the workers, what finished) as it goes. */
function phaseRunner(store: StudyStore, url: string, study: Study, options: WorkOptions, n: number, status: StatusTracker, summary: RunSummary): (phase: RunPhase) => Promise<void> {
  const maxMemoryMb = options.maxMemoryMb ?? defaultMaxMemoryMb(Math.max(1, n));
  const workerOptions: WorkerOptions = {
    leaseSeconds: options.leaseSeconds ?? DEFAULT_LEASE_SECONDS,
    heartbeatSeconds: options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS,
    artifacts: options.artifacts ?? store.defaultArtifacts,
  };
  return (phase) => runWorkerPool({
    phase, workers: n, study: study.name, url, workerOptions, maxMemoryMb, gpus: options.gpus, signal: options.signal, procRoot: options.procRoot, onWarning: options.onWarning, store, tally: summary,
    report: async (workers) => {
      try {
        await status.refresh();
        if (options.onProgress) options.onProgress({ phase, counts: summary.counts, measurements: summary.measurements, workers, finished: await status.takeFinished() });
      } catch {
        /* the store is out of reach for a moment: the workers retry, progress shows next time */
      }
    },
  });
}
