/**
 * A worker's heartbeat. Training and measuring are synchronous (libtorch calls on the main thread),
 * so the heartbeat runs in a thread of its own with its own store connection: it keeps beating while
 * the main thread computes, and stops when the process stops (SIGSTOP, SIGKILL, a lost machine),
 * which is what a lease must detect. The thread loads no addon and does no experiment work.
 *
 * Each beat upserts the worker's row (what it holds, step, loss, memory) and renews the lease of the
 * claim it holds. A change of what it holds is sent at once; progress at most every
 * `progressSeconds`; otherwise a beat every `heartbeatSeconds`. If the store stays unreachable
 * longer than the lease, `trouble` says so and the worker stops claiming.
 *
 * The thread also writes the metrics of the trial being trained as they come (sampled losses and
 * evaluations, with the next progress beat), so that its learning curves can be watched while it
 * runs (the dashboard); they are fenced by the attempt like every result.
 */
import { Worker } from 'node:worker_threads';
import type { Metric, WorkerBeat, WorkerHolding } from './store.js';

export interface HeartbeatOptions {
  url: string;
  leaseSeconds: number;
  heartbeatSeconds: number;
  /** Least interval between progress beats, seconds (default min(5, heartbeatSeconds)). */
  progressSeconds?: number;
}

/** Messages from the heartbeat thread. */
export type HeartbeatReport =
  | { type: 'ok' }
  | { type: 'flushed'; id: number }
  | { type: 'unreachable'; seconds: number; reason: string }
  | { type: 'lost'; holds: WorkerHolding };

/** Messages to the heartbeat thread. */
export type HeartbeatUpdate =
  | { type: 'update'; beat: Partial<WorkerBeat>; now: boolean }
  | { type: 'metrics'; key: string; attempt: number; rows: Metric[] }
  | { type: 'flush'; id: number }
  | { type: 'stop'; message: string | null };

/** How long a worker waits for its metrics to reach the store before it stores the trial's result anyway. */
const FLUSH_TIMEOUT_MS = 15_000;

export class Heartbeat {
  private readonly thread: Worker;
  private readonly exited: Promise<void>;
  /** Why this worker must stop claiming (the store unreachable longer than the lease); undefined while healthy. */
  trouble: string | undefined;
  /** Claims this worker held that were taken over by another (its result will be refused). */
  readonly lost: WorkerHolding[] = [];
  private readonly flushed = new Map<number, () => void>();
  private flushes = 0;

  constructor(beat: WorkerBeat, options: HeartbeatOptions) {
    this.thread = new Worker(new URL('./heartbeat-thread.js', import.meta.url), { workerData: { beat, ...options, progressSeconds: options.progressSeconds ?? Math.min(5, options.heartbeatSeconds) } });
    this.thread.on('message', (m: HeartbeatReport) => {
      if (m.type === 'flushed') this.flushed.get(m.id)?.();
      else if (m.type === 'ok') this.trouble = undefined;
      else if (m.type === 'unreachable') this.trouble = `the study store has been unreachable for ${Math.round(m.seconds)} s, longer than the lease (${options.leaseSeconds} s): ${m.reason}`;
      else this.lost.push(m.holds);
    });
    this.thread.on('error', (error) => {
      this.trouble = `the heartbeat stopped: ${error.message}`;
    });
    this.exited = new Promise((resolve) => this.thread.once('exit', () => resolve()));
    this.thread.unref();
  }

  /** What the worker holds now (sent at once). */
  holds(holds: WorkerHolding | null): void {
    this.post({ type: 'update', beat: { holds, state: holds ? 'working' : 'idle', step: null, totalSteps: null, loss: holds ? null : undefined }, now: true });
  }

  /** Training progress (sent with the next beat). */
  progress(step: number, totalSteps: number, loss: number): void {
    this.post({ type: 'update', beat: { step, totalSteps, loss: Number.isFinite(loss) ? loss : null }, now: false });
  }

  /** Metrics of attempt `attempt` of trial `key`, written to the store with the next progress beat. */
  metrics(key: string, attempt: number, rows: Metric[]): void {
    if (rows.length > 0) this.post({ type: 'metrics', key, attempt, rows });
  }

  /**
   * Resolves once the metrics sent so far are written (or refused as stale), or after a timeout when
   * the store is unreachable (they are written when it is back, if the attempt is still current).
   */
  flushMetrics(): Promise<void> {
    const id = ++this.flushes;
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.flushed.delete(id);
        resolve();
      };
      const timer = setTimeout(done, FLUSH_TIMEOUT_MS);
      this.flushed.set(id, done);
      this.post({ type: 'flush', id });
    });
  }

  /** Sends the last beat (state 'exited', with why) and ends the thread. */
  async stop(message: string | null = null): Promise<void> {
    this.thread.ref(); // the thread is unref'd while it runs beside the work; wait for its last beat
    this.post({ type: 'stop', message });
    await this.exited;
  }

  private post(m: HeartbeatUpdate): void {
    this.thread.postMessage(m);
  }
}
