/**
 * Runs a study: expands it into keyed trials, adds the new ones to the store (completed ones are
 * never run again; ones left running by a dead worker are taken over), and starts `workers` worker
 * processes (processes, not threads: native addons and thread termination crash together), each
 * with one libtorch thread. When every trial is done, the study's measurements are queued (on every
 * completed trial or the best learning rate's seeds per batch size) and run by a second round of
 * workers from the trials' checkpoints.
 *
 * Crash isolation: a worker that dies (a native crash, the OOM killer) or goes over its memory limit
 * (resident set, read from /proc every half second, SIGKILL over the limit) has the trial or
 * measurement it held recorded as failed with the reason, and a new worker takes its place. Aborting
 * (Ctrl-C) kills the workers; the next run resumes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sgdlabVersion } from '../train/version.js';
import { jobId, measurementJobs } from './results.js';
import type { Study } from './schema.js';
import { SqliteStudyStore } from './sqlite-store.js';
import type { MeasurementStatus, TrialStatus } from './store.js';
import { expandTrials } from './trials.js';
import { isWorkerAlive } from './liveness.js';
import type { WorkerMessage } from './worker.js';

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
}

export interface RunOptions {
  db: string;
  /** Worker processes (default: one per core). */
  workers?: number;
  /** Each worker's resident memory limit in MB (default: 90% of the machine's memory shared among the workers). */
  maxMemoryMb?: number;
  onProgress?: (progress: RunProgress) => void;
  /** Called once per warning, when it arises (they are also in the summary). */
  onWarning?: (warning: string) => void;
  signal?: AbortSignal;
  /** Where the resident memory of a worker is read from (tests point it elsewhere); default /proc/PID/status. */
  procRoot?: string;
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
  /** Things the user should know that did not stop the run (each said once), e.g. a memory limit that cannot be enforced. */
  warnings: string[];
}

/** Resident set size of a process in MB, from /proc (undefined where there is none). */
function residentMb(pid: number, procRoot = '/proc'): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(join(procRoot, String(pid), 'status'), 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export const defaultMaxMemoryMb = (workers: number) => Math.floor((0.9 * totalmem()) / 2 ** 20 / workers);

export async function runStudy(study: Study, options: RunOptions): Promise<RunSummary> {
  const store = new SqliteStudyStore(options.db);
  const n = Math.max(1, options.workers ?? cpus().length);
  const maxMemoryMb = options.maxMemoryMb ?? defaultMaxMemoryMb(n);
  const summary: RunSummary = { added: 0, measurementsAdded: 0, counts: { pending: 0, running: 0, completed: 0, diverged: 0, failed: 0 }, measurements: { pending: 0, running: 0, completed: 0, failed: 0 }, aborted: false, memoryKills: 0, crashes: 0, errors: [], warnings: [] };
  // Counts are of the current grid and the current measurement jobs (trials of dropped grid points and
  // measurements with old options stay stored but are not this study's work).
  let currentKeys = new Set<string>();
  let currentJobs = new Set<string>();
  const refresh = () => {
    const s = store.statuses(study.name);
    summary.counts = { pending: 0, running: 0, completed: 0, diverged: 0, failed: 0 };
    for (const t of s.trials) if (currentKeys.has(t.key)) summary.counts[t.status]++;
    summary.measurements = { pending: 0, running: 0, completed: 0, failed: 0 };
    for (const m of s.measurements) if (currentJobs.has(jobId(m))) summary.measurements[m.status]++;
  };
  const onAbort = () => {
    summary.aborted = true;
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const trials = expandTrials(study, sgdlabVersion());
    currentKeys = new Set(trials.map((t) => t.key));
    summary.added = store.upsertStudy(study, trials);
    await runPhase('train');
    refresh();
    if (study.measure && !summary.aborted && summary.counts.pending + summary.counts.running === 0) {
      // The trials of the current grid (keys already expanded above; dropped grid points stay stored but are not targets).
      const jobs = measurementJobs(study, store.trials(study.name).filter((t) => currentKeys.has(t.key)));
      // Measurements queued for options or targets the study no longer has are withdrawn, not run.
      store.withdrawMeasurements(study.name, jobs, isWorkerAlive);
      summary.measurementsAdded = store.addMeasurementJobs(study.name, jobs);
      currentJobs = new Set(jobs.map(jobId));
      refresh();
      if (summary.measurements.pending + summary.measurements.running > 0) await runPhase('measure');
    }
    refresh();
    return summary;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    store.close();
  }

  async function runPhase(phase: RunPhase): Promise<void> {
    const script = fileURLToPath(new URL('./worker.js', import.meta.url));
    const states: WorkerState[] = Array.from({ length: n }, (_, slot) => ({ slot, pid: undefined, doing: { type: 'idle' }, rssMb: 0 }));
    const children = new Map<number, { child: ChildProcess; overLimitMb?: number }>();
    const progress = () => {
      refresh();
      options.onProgress?.({ phase, counts: summary.counts, measurements: summary.measurements, workers: states });
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
      progress();
    }, 500);
    const runSlot = (slot: number) => new Promise<void>((resolve) => {
      let idleDeaths = 0;
      const start = () => {
        if (summary.aborted) return resolve();
        const child = spawn(process.execPath, [script, options.db, study.name, phase], {
          stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
          env: { ...process.env, SGDLAB_NUM_THREADS: process.env.SGDLAB_NUM_THREADS ?? '1' },
        });
        const entry: { child: ChildProcess; overLimitMb?: number } = { child };
        children.set(slot, entry);
        states[slot] = { slot, pid: child.pid, doing: { type: 'idle' }, rssMb: 0 };
        child.on('message', (m: WorkerMessage) => {
          states[slot]!.doing = m;
        });
        child.on('exit', (code, signal) => {
          children.delete(slot);
          states[slot]!.doing = { type: 'idle' };
          if (summary.aborted) return resolve();
          if (code === 0 && entry.overLimitMb === undefined) return resolve(); // nothing left to claim
          const reason = entry.overLimitMb !== undefined
            ? `killed: the worker's resident memory ${Math.round(entry.overLimitMb)} MB exceeded the limit of ${maxMemoryMb} MB (--max-memory-mb)`
            : `the worker died (${signal ? `signal ${signal}` : `exit code ${code}`}) while running this`;
          if (entry.overLimitMb !== undefined) summary.memoryKills++;
          else summary.crashes++;
          const held = child.pid === undefined ? 0 : store.failHeldBy(study.name, `${hostname()}:${child.pid}:`, reason);
          idleDeaths = held === 0 ? idleDeaths + 1 : 0;
          if (idleDeaths >= 2) {
            summary.errors.push(`worker ${slot + 1} died twice before taking any work (${reason.replace(' while running this', '')}); see its error output above`);
            return resolve();
          }
          start();
        });
      };
      start();
    });
    try {
      await Promise.all(states.map((_, slot) => runSlot(slot)));
    } finally {
      clearInterval(monitor);
      options.signal?.removeEventListener('abort', kill);
      progress();
    }
  }
}
