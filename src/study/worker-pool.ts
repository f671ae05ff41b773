/**
 * The runner's local worker processes for one phase of a study: `workers` slots, each running worker
 * processes one after another until its worker finds nothing left to claim. Crash isolation: a worker
 * that dies (a native crash, the OOM killer) or goes over its memory limit (resident set, read from
 * /proc every half second, SIGKILL over the limit) has the trial or measurement it held recorded as
 * failed with the reason, and a new worker takes its slot. Aborting kills the workers.
 *
 * Each worker's scratch folder (checkpoints on their way into the store or out of it) is made here and
 * removed here when the worker has exited, whatever ended it: a worker killed by a signal (SIGKILL on
 * abort or over its memory limit, SIGINT from a terminal's Ctrl-C, a native crash) runs no cleanup of
 * its own, and its folder, checkpoints included, would stay in the temporary directory for good.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StudyStore } from './store.js';
import { workerCudaVisibleDevices } from './devices.js';
import { hostId } from './liveness.js';
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

/** What the pool adds to the run's summary (runner.ts's RunSummary extends it); `aborted` is read. */
export interface PoolTally {
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

export interface WorkerPoolOptions {
  phase: RunPhase;
  workers: number;
  study: string;
  /** The store's URL, passed to the workers in their environment (never in argv). */
  url: string;
  workerOptions: WorkerOptions;
  maxMemoryMb: number;
  gpus?: number[];
  signal?: AbortSignal;
  /** Where the resident memory of a worker is read from; default /proc. */
  procRoot?: string;
  onWarning?: (warning: string) => void;
  store: Pick<StudyStore, 'failHeldBy'>;
  tally: PoolTally;
  /** Called every half second and once at the end, never twice at once: the caller's progress report. */
  report: (workers: WorkerState[]) => Promise<void>;
}

/** worker.ts's exit code for a store out of reach longer than the lease (not imported: worker.ts loads libtorch). */
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

/** A running worker, its scratch folder, and its resident memory when the monitor found it over the limit (it is then killed). */
interface Worker {
  child: ChildProcess;
  scratch: string;
  overLimitMb?: number;
}

/** Runs the phase's workers until every slot's worker finds nothing left (or gives up, or the run is aborted). */
export async function runWorkerPool(options: WorkerPoolOptions): Promise<void> {
  await new WorkerPool(options).run();
}

class WorkerPool {
  private readonly script = fileURLToPath(new URL('./worker.js', import.meta.url));
  private readonly states: WorkerState[];
  private readonly children = new Map<number, Worker>();
  private reporting = false;

  constructor(private readonly o: WorkerPoolOptions) {
    this.states = Array.from({ length: o.workers }, (_, slot) => ({ slot, pid: undefined, doing: { type: 'idle' }, rssMb: 0 }));
  }

  async run(): Promise<void> {
    const kill = () => {
      for (const { child } of this.children.values()) child.kill('SIGKILL');
    };
    this.o.signal?.addEventListener('abort', kill, { once: true });
    const monitor = setInterval(() => {
      this.checkMemory();
      void this.report();
    }, 500);
    try {
      await Promise.all(this.states.map((_, slot) => this.runSlot(slot)));
    } finally {
      clearInterval(monitor);
      this.o.signal?.removeEventListener('abort', kill);
      while (this.reporting) await new Promise((r) => setTimeout(r, 10));
      await this.report();
    }
  }

  private async report(): Promise<void> {
    if (this.reporting) return;
    this.reporting = true;
    try {
      await this.o.report(this.states);
    } finally {
      this.reporting = false;
    }
  }

  /** Reads each worker's resident memory and kills the ones over the limit. */
  private checkMemory(): void {
    const { procRoot, maxMemoryMb, tally } = this.o;
    for (const [slot, entry] of this.children) {
      const rss = entry.child.pid === undefined ? undefined : residentMb(entry.child.pid, procRoot);
      if (rss === undefined) {
        // Without /proc (not Linux, or not mounted) the resident set cannot be read: say once that the limit is not enforced.
        if (entry.child.exitCode === null && !existsSync(join(procRoot ?? '/proc', 'self', 'status')) && !tally.warnings.some((w) => w.startsWith('--max-memory-mb'))) {
          tally.warnings.push(`--max-memory-mb ${maxMemoryMb} is not enforced: this system has no /proc to read the workers' resident memory from`);
          this.o.onWarning?.(tally.warnings.at(-1)!);
        }
        continue;
      }
      this.states[slot]!.rssMb = rss;
      if (rss > maxMemoryMb && entry.overLimitMb === undefined) {
        entry.overLimitMb = rss;
        entry.child.kill('SIGKILL');
      }
    }
  }

  /** Runs workers in `slot` one after another: a worker that died is replaced, unless two in a row died holding nothing. */
  private runSlot(slot: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let idleDeaths = 0;
      const start = () => {
        if (this.o.tally.aborted) return resolve();
        const entry = this.spawnWorker(slot);
        entry.child.on('exit', (code, signal) => void (async () => {
          rmSync(entry.scratch, { recursive: true, force: true });
          this.children.delete(slot);
          this.states[slot]!.doing = { type: 'idle' };
          const reason = this.death(slot, entry, code, signal);
          if (reason === undefined) return resolve();
          const held = await this.failHeld(entry.child, reason);
          idleDeaths = held === 0 ? idleDeaths + 1 : 0;
          if (idleDeaths >= 2) {
            this.o.tally.errors.push(`worker ${slot + 1} died twice before taking any work (${reason.replace(' while running this', '')}); see its error output above`);
            return resolve();
          }
          start();
        })());
      };
      start();
    });
  }

  private spawnWorker(slot: number): Worker {
    const { study, phase, workerOptions, url, gpus } = this.o;
    const scratch = mkdtempSync(join(tmpdir(), 'sgdlab-worker-'));
    const child = spawn(process.execPath, [this.script, study, phase, JSON.stringify(workerOptions), scratch], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: workerEnvironment(url, workerCudaVisibleDevices(slot, gpus)),
    });
    const entry: Worker = { child, scratch };
    this.children.set(slot, entry);
    this.states[slot] = { slot, pid: child.pid, doing: { type: 'idle' }, rssMb: 0 };
    child.on('message', (m: WorkerMessage) => {
      this.states[slot]!.doing = m;
    });
    return entry;
  }

  /**
   * Why the worker that ended died, counted as a memory kill or a crash; undefined when its slot is done:
   * nothing left to claim, the store out of reach (recorded), or the run aborted.
   */
  private death(slot: number, entry: Worker, code: number | null, signal: NodeJS.Signals | null): string | undefined {
    const { tally, maxMemoryMb } = this.o;
    if (tally.aborted) return undefined;
    if (code === 0 && entry.overLimitMb === undefined) return undefined; // nothing left to claim
    if (code === EXIT_STORE_UNREACHABLE && entry.overLimitMb === undefined) {
      tally.unreachable.push(`worker ${slot + 1} stopped claiming: the study store was out of reach longer than the lease (see its message above)`);
      return undefined;
    }
    const reason = entry.overLimitMb !== undefined
      ? `killed: the worker's resident memory ${Math.round(entry.overLimitMb)} MB exceeded the limit of ${maxMemoryMb} MB (--max-memory-mb)`
      : `the worker died (${signal ? `signal ${signal}` : `exit code ${code}`}) while running this`;
    if (entry.overLimitMb !== undefined) tally.memoryKills++;
    else tally.crashes++;
    return reason;
  }

  /** Records what the dead worker held as failed, with the reason; how many it held. */
  private async failHeld(child: ChildProcess, reason: string): Promise<number> {
    try {
      return child.pid === undefined ? 0 : await this.o.store.failHeldBy(this.o.study, `${hostId()}:${child.pid}:`, reason);
    } catch {
      /* out of reach: its lease expires and another worker takes it over */
      return 0;
    }
  }
}
