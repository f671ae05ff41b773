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
 */
import { Worker } from 'node:worker_threads';
import type { WorkerBeat, WorkerHolding } from './store.js';

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
  | { type: 'unreachable'; seconds: number; reason: string }
  | { type: 'lost'; holds: WorkerHolding };

/** Messages to the heartbeat thread. */
export type HeartbeatUpdate = { type: 'update'; beat: Partial<WorkerBeat>; now: boolean } | { type: 'stop'; message: string | null };

export class Heartbeat {
  private readonly thread: Worker;
  private readonly exited: Promise<void>;
  /** Why this worker must stop claiming (the store unreachable longer than the lease); undefined while healthy. */
  trouble: string | undefined;
  /** Claims this worker held that were taken over by another (its result will be refused). */
  readonly lost: WorkerHolding[] = [];

  constructor(beat: WorkerBeat, options: HeartbeatOptions) {
    this.thread = new Worker(new URL('./heartbeat-thread.js', import.meta.url), { workerData: { beat, ...options, progressSeconds: options.progressSeconds ?? Math.min(5, options.heartbeatSeconds) } });
    this.thread.on('message', (m: HeartbeatReport) => {
      if (m.type === 'ok') this.trouble = undefined;
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
