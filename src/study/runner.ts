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
 * (Ctrl-C) kills the workers; the next run resumes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sgdlabVersion } from '../train/version.js';
import { measurementJobs } from './results.js';
import type { Study } from './schema.js';
import { openStore } from './store-factory.js';
import { DEFAULT_HEARTBEAT_SECONDS, DEFAULT_LEASE_SECONDS, emptyMeasurementCounts, emptyTrialCounts, jobId, type MeasurementStatus, type StudyStore, type TrialStatus } from './store.js';
import { expandTrials } from './trials.js';
import { checkStudyDevices, trialDevices, workerCudaVisibleDevices } from './devices.js';
import { hostId, isWorkerAlive } from './liveness.js';
import type { WorkerMessage, WorkerOptions } from './worker.js';

export type RunPhase = 'train' | 'measure';

export interface WorkerState {
  /** 0-based slot; a replaced worker keeps its slot. */
  slot: number;
  pid: number | undefined;
  /** What it holds now (idle between trials). */
  doing: WorkerMessage;
  /** Resident memory at the last check, MB. */
  rssMb: number;
}

export interface RunProgress {
  phase: RunPhase;
  counts: Record<TrialStatus, number>;
  measurements: Record<MeasurementStatus, number>;
  workers: WorkerState[];
  /** Trials and measurements of the study that finished since the last report (here or on other machines). */
  finished: FinishedWork[];
}

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

export interface RunSummary {
  added: number;
  measurementsAdded: number;
  counts: Record<TrialStatus, number>;
  measurements: Record<MeasurementStatus, number>;
  aborted: boolean;
  /** Workers killed over their memory limit, and workers that died on their own. */
  memoryKills: number;
  crashes: number;
  /** Worker slots given up because their workers died before taking any work (e.g. the addon cannot load). */
  errors: string[];
  /** Workers that stopped claiming because the store was out of reach longer than their lease, with why. */
  unreachable: string[];
  /** Things the user should know that did not stop the run (each said once), e.g. a memory limit that cannot be enforced. */
  warnings: string[];
}

const EXIT_STORE_UNREACHABLE = 3;

/** Resident set size of a process in MB, from /proc (undefined where there is none). */
function residentMb(pid: number, procRoot = '/proc'): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(join(procRoot, String(pid), 'status'), 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** A worker's environment: the store's URL, one intra-op thread unless set, and its GPU when pinned (--gpus). */
function workerEnvironment(url: string, cudaVisibleDevices: string | undefined): NodeJS.ProcessEnv {
  return {
    ...process.env, SGDLAB_DB: url, SGDLAB_NUM_THREADS: process.env.SGDLAB_NUM_THREADS ?? '1',
    ...(cudaVisibleDevices !== undefined ? { CUDA_VISIBLE_DEVICES: cudaVisibleDevices } : {}),
  };
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
  const maxMemoryMb = options.maxMemoryMb ?? defaultMaxMemoryMb(Math.max(1, n));
  const workerOptions: WorkerOptions = {
    leaseSeconds: options.leaseSeconds ?? DEFAULT_LEASE_SECONDS,
    heartbeatSeconds: options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS,
    artifacts: options.artifacts ?? store.defaultArtifacts,
  };
  const summary: RunSummary = { added: 0, measurementsAdded: 0, counts: emptyTrialCounts(), measurements: emptyMeasurementCounts(), aborted: false, memoryKills: 0, crashes: 0, errors: [], unreachable: [], warnings: [] };
  // Counts are of the current grid and the current measurement jobs (trials of dropped grid points and
  // measurements with old options stay stored but are not this study's work).
  const trials = expandTrials(study, sgdlabVersion());
  // Before any worker starts: a device this machine (or a pinned worker) cannot serve is a configuration error.
  if (n > 0) await checkStudyDevices(study.name, trialDevices(trials), options.gpus);
  const coordinatesOf = new Map(trials.map((t) => [t.key, t.coordinates]));
  const currentKeys = new Set(coordinatesOf.keys());
  let currentJobs = new Set<string>();
  // Statuses at the last refresh, so that what finished in between can be reported (first refresh: the baseline).
  let lastStatus: Map<string, string> | undefined;
  const finished: { id: string; key: string; measurement?: string; status: TrialStatus | MeasurementStatus }[] = [];
  const terminal = (status: string) => status === 'completed' || status === 'diverged' || status === 'failed';
  const refresh = async () => {
    const s = await store.statuses(study.name);
    const counts = emptyTrialCounts();
    for (const t of s.trials) if (currentKeys.has(t.key)) counts[t.status]++;
    const measurements = emptyMeasurementCounts();
    for (const m of s.measurements) if (currentJobs.has(jobId(m))) measurements[m.status]++;
    summary.counts = counts;
    summary.measurements = measurements;
    const now = new Map<string, string>();
    for (const t of s.trials) if (currentKeys.has(t.key)) now.set(t.key, t.status);
    for (const m of s.measurements) if (currentJobs.has(jobId(m))) now.set(jobId(m), m.status);
    if (lastStatus) {
      for (const t of s.trials) if (now.get(t.key) === t.status && terminal(t.status) && lastStatus.get(t.key) !== t.status) finished.push({ id: t.key, key: t.key, status: t.status });
      for (const m of s.measurements) if (now.get(jobId(m)) === m.status && terminal(m.status) && lastStatus.get(jobId(m)) !== m.status) finished.push({ id: jobId(m), key: m.key, measurement: m.kind, status: m.status });
    }
    lastStatus = now;
  };
  /** What finished since the last call, with the trial's details (one read of each from the store). */
  const takeFinished = async (): Promise<FinishedWork[]> => {
    const out: FinishedWork[] = [];
    for (const f of finished.splice(0)) {
      const t = await store.trial(study.name, f.key);
      const error = f.measurement === undefined ? t?.error : (await store.measurements(study.name, f.key)).find((m) => jobId(m) === f.id)?.error;
      const result = f.measurement === undefined ? t?.result : null;
      out.push({
        key: f.key, ...(f.measurement !== undefined ? { measurement: f.measurement } : {}), status: f.status, coordinates: coordinatesOf.get(f.key) ?? t?.coordinates ?? {},
        seconds: f.measurement === undefined ? t?.seconds ?? null : null, testAccuracy: result?.test?.accuracy ?? null, error: error ?? null, worker: t?.worker ?? null,
      });
    }
    return out;
  };
  const onAbort = () => {
    summary.aborted = true;
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await refresh();
    if (n > 0 && options.only !== 'measure' && summary.counts.pending + summary.counts.running > 0) await runPhase('train');
    // Workers that stopped because the store was out of reach: so is this process, most likely; report, do not throw.
    if (summary.unreachable.length > 0) return summary;
    await refresh();
    if (study.measure && !summary.aborted && summary.counts.pending + summary.counts.running === 0) {
      // The trials of the current grid (dropped grid points stay stored but are not targets).
      const jobs = measurementJobs(study, (await store.trials(study.name)).filter((t) => currentKeys.has(t.key)));
      // Measurements queued for options or targets the study no longer has are withdrawn, not run.
      await store.withdrawMeasurements(study.name, jobs, isWorkerAlive);
      summary.measurementsAdded = await store.addMeasurementJobs(study.name, jobs);
      currentJobs = new Set(jobs.map(jobId));
      await refresh();
      if (n > 0 && options.only !== 'train' && summary.measurements.pending + summary.measurements.running > 0) await runPhase('measure');
    }
    if (summary.unreachable.length > 0) return summary;
    await refresh();
    return summary;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }

  async function runPhase(phase: RunPhase): Promise<void> {
    const script = fileURLToPath(new URL('./worker.js', import.meta.url));
    const states: WorkerState[] = Array.from({ length: n }, (_, slot) => ({ slot, pid: undefined, doing: { type: 'idle' }, rssMb: 0 }));
    const children = new Map<number, { child: ChildProcess; overLimitMb?: number }>();
    let refreshing = false;
    const progress = async () => {
      if (refreshing) return;
      refreshing = true;
      try {
        await refresh();
        if (options.onProgress) options.onProgress({ phase, counts: summary.counts, measurements: summary.measurements, workers: states, finished: await takeFinished() });
      } catch {
        /* the store is out of reach for a moment: the workers retry, progress shows next time */
      } finally {
        refreshing = false;
      }
    };
    const kill = () => {
      for (const { child } of children.values()) child.kill('SIGKILL');
    };
    options.signal?.addEventListener('abort', kill, { once: true });
    const monitor = setInterval(() => {
      for (const [slot, entry] of children) {
        const rss = entry.child.pid === undefined ? undefined : residentMb(entry.child.pid, options.procRoot);
        if (rss === undefined) {
          // Without /proc (not Linux, or not mounted) the resident set cannot be read: say once that the limit is not enforced.
          if (entry.child.exitCode === null && !existsSync(join(options.procRoot ?? '/proc', 'self', 'status')) && !summary.warnings.some((w) => w.startsWith('--max-memory-mb'))) {
            summary.warnings.push(`--max-memory-mb ${maxMemoryMb} is not enforced: this system has no /proc to read the workers' resident memory from`);
            options.onWarning?.(summary.warnings.at(-1)!);
          }
          continue;
        }
        states[slot]!.rssMb = rss;
        if (rss > maxMemoryMb && entry.overLimitMb === undefined) {
          entry.overLimitMb = rss;
          entry.child.kill('SIGKILL');
        }
      }
      void progress();
    }, 500);
    const runSlot = (slot: number) => new Promise<void>((resolve) => {
      let idleDeaths = 0;
      const start = () => {
        if (summary.aborted) return resolve();
        const child = spawn(process.execPath, [script, study.name, phase, JSON.stringify(workerOptions)], {
          stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
          env: workerEnvironment(url, workerCudaVisibleDevices(slot, options.gpus)),
        });
        const entry: { child: ChildProcess; overLimitMb?: number } = { child };
        children.set(slot, entry);
        states[slot] = { slot, pid: child.pid, doing: { type: 'idle' }, rssMb: 0 };
        child.on('message', (m: WorkerMessage) => {
          states[slot]!.doing = m;
        });
        child.on('exit', (code, signal) => void (async () => {
          children.delete(slot);
          states[slot]!.doing = { type: 'idle' };
          if (summary.aborted) return resolve();
          if (code === 0 && entry.overLimitMb === undefined) return resolve(); // nothing left to claim
          if (code === EXIT_STORE_UNREACHABLE && entry.overLimitMb === undefined) {
            summary.unreachable.push(`worker ${slot + 1} stopped claiming: the study store was out of reach longer than the lease (see its message above)`);
            return resolve();
          }
          const reason = entry.overLimitMb !== undefined
            ? `killed: the worker's resident memory ${Math.round(entry.overLimitMb)} MB exceeded the limit of ${maxMemoryMb} MB (--max-memory-mb)`
            : `the worker died (${signal ? `signal ${signal}` : `exit code ${code}`}) while running this`;
          if (entry.overLimitMb !== undefined) summary.memoryKills++;
          else summary.crashes++;
          let held = 0;
          try {
            held = child.pid === undefined ? 0 : await store.failHeldBy(study.name, `${hostId()}:${child.pid}:`, reason);
          } catch {
            /* out of reach: its lease expires and another worker takes it over */
          }
          idleDeaths = held === 0 ? idleDeaths + 1 : 0;
          if (idleDeaths >= 2) {
            summary.errors.push(`worker ${slot + 1} died twice before taking any work (${reason.replace(' while running this', '')}); see its error output above`);
            return resolve();
          }
          start();
        })());
      };
      start();
    });
    try {
      await Promise.all(states.map((_, slot) => runSlot(slot)));
    } finally {
      clearInterval(monitor);
      options.signal?.removeEventListener('abort', kill);
      while (refreshing) await new Promise((r) => setTimeout(r, 10));
      await progress();
    }
  }
}
