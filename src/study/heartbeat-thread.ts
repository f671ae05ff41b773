/** The heartbeat thread (see heartbeat.ts): beats into the store until told to stop. */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from './store-factory.js';
import type { HeartbeatOptions, HeartbeatReport, HeartbeatUpdate } from './heartbeat.js';
import type { Metric, StudyStore, WorkerBeat } from './store.js';

const options = workerData as HeartbeatOptions & { beat: WorkerBeat; progressSeconds: number };
const port = parentPort!;
const report = (m: HeartbeatReport) => port.postMessage(m);

let beat: WorkerBeat = { ...options.beat };
let lastOk = Date.now();
let lastSent = 0;
let dirty = true;
let stopping: { message: string | null } | undefined;
let timer: NodeJS.Timeout | undefined;
let running: Promise<void> | undefined;
let failures = 0;
let store: StudyStore | undefined;
/** Metrics waiting to be written, and flushes to answer once they are. */
let metrics: { key: string; attempt: number; rows: Metric[] }[] = [];
let flushes: number[] = [];

const rss = () => Math.round(process.memoryUsage.rss() / 2 ** 20);

async function send(): Promise<void> {
  dirty = false;
  const b = { ...beat, rssMb: rss() };
  try {
    store ??= await openStore(options.url, { retrySeconds: Math.min(options.heartbeatSeconds, options.leaseSeconds / 2) });
    const renewed = await store.heartbeat(b, options.leaseSeconds);
    lastSent = Date.now();
    if (lastOk < lastSent - 1000 * options.heartbeatSeconds) report({ type: 'ok' });
    lastOk = lastSent;
    failures = 0;
    // A pack's holding is several claims: losing any of them is a loss (that member's result will be refused).
    const held = b.holds === null ? 0 : 1 + (b.holds.kind === 'trial' ? b.holds.pack?.length ?? 0 : 0);
    if (b.holds && renewed < held && b.state !== 'exited') report({ type: 'lost', holds: b.holds });
    while (metrics.length > 0) {
      const m = metrics[0]!;
      await store.addMetrics(b.study, m.key, m.attempt, m.rows); // false: a stale attempt's, refused and dropped
      metrics.shift();
    }
    for (const id of flushes) report({ type: 'flushed', id });
    flushes = [];
  } catch (error) {
    dirty = true;
    failures++;
    const seconds = (Date.now() - lastOk) / 1000;
    if (seconds > options.leaseSeconds) report({ type: 'unreachable', seconds, reason: (error as Error).message });
  }
}

/** Beats now, or when the next one is due; one at a time. */
function schedule(): void {
  if (timer) clearTimeout(timer);
  if (running) return;
  // After a failure: back off (0.5 s, 1 s, 2 s, … up to the heartbeat period) before trying again.
  const retryMs = failures > 0 ? Math.min(1000 * options.heartbeatSeconds, 500 * 2 ** (failures - 1)) : 0;
  const period = dirty ? options.progressSeconds : options.heartbeatSeconds;
  const due = stopping && failures === 0 ? 0 : Math.max(retryMs, lastSent + 1000 * period - Date.now());
  timer = setTimeout(() => {
    running = send().finally(async () => {
      running = undefined;
      // End once the last beat written was the 'exited' one: a stop that arrived while an earlier beat
      // was being written left `dirty` set, and that beat (written before it) does not say 'exited'.
      if (stopping && ((failures === 0 && !dirty) || failures >= 3)) {
        await store?.close().catch(() => undefined);
        process.exit(0);
      }
      if (!dirty && Date.now() - lastSent >= 1000 * options.heartbeatSeconds) dirty = true;
      schedule();
    });
  }, Math.min(due, 1000 * options.heartbeatSeconds));
}

port.on('message', (m: HeartbeatUpdate) => {
  if (m.type === 'metrics') {
    metrics.push({ key: m.key, attempt: m.attempt, rows: m.rows });
    dirty = true;
  } else if (m.type === 'flush') {
    flushes.push(m.id);
    dirty = true;
    lastSent = 0;
  } else if (m.type === 'stop') {
    stopping = { message: m.message };
    beat = { ...beat, state: 'exited', holds: null, message: m.message };
    dirty = true;
  } else {
    beat = { ...beat, ...Object.fromEntries(Object.entries(m.beat).filter(([, v]) => v !== undefined)) };
    dirty = true;
    if (m.now) lastSent = 0;
  }
  schedule();
});

schedule();
