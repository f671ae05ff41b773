/**
 * The store's own cost of a tiny trial, without worker processes (issue 23): one process runs N
 * claims and finishes against a fresh store, from one client and then from `clients` concurrent
 * clients (each its own store connection, as each worker has), so that the latency of a claim and
 * a finish is measured apart from process start, IPC, heartbeats and the scheduling of 8 workers on
 * a few cores. PostgreSQL's transactions per trial come from pg_stat_database.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { expandTrials, openStore, type Study, type StudyStore } from '../src/study/index.js';

export const quantile = (xs: readonly number[], q: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};

export interface StoreLoop {
  clients: number;
  trials: number;
  seconds: number;
  claim: number[];
  finish: number[];
  /** claim + finish of one trial, one client. */
  both: number[];
  /** PostgreSQL: committed transactions per trial (NaN on SQLite). */
  transactionsPerTrial: number;
}

/** Committed transactions of `url`'s database so far (PostgreSQL), NaN for SQLite. */
export async function commits(url: string): Promise<number> {
  if (!/^postgres(ql)?:/.test(url)) return Number.NaN;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // The statistics collector lags its backends: ask for a fresh snapshot of what they reported.
    await client.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
    const r = await client.query('SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()');
    return Number(r.rows[0].xact_commit);
  } finally {
    await client.end();
  }
}

async function drain(store: StudyStore, study: string, id: string, out: StoreLoop): Promise<void> {
  const metrics = [{ step: 0, name: 'loss', value: 1 }, { step: 1, name: 'loss', value: 0.5 }];
  for (;;) {
    const t0 = performance.now();
    const trial = await store.claim(study, id, { leaseSeconds: 60, isWorkerAlive: () => true });
    const t1 = performance.now();
    if (!trial) return;
    await store.finish(study, trial.key, trial.attempt, { status: 'completed', result: { finalLoss: 0.5, claimMs: t1 - t0 }, seconds: 0.001, metrics });
    const t2 = performance.now();
    out.claim.push(t1 - t0);
    out.finish.push(t2 - t1);
    out.both.push(t2 - t0);
  }
}

/** Claims and finishes every trial of `study` (registered afresh in `url`) from `clients` concurrent clients of this process. */
export async function storeLoop(url: string, study: Study, clients: number): Promise<StoreLoop> {
  const admin = await openStore(url);
  await admin.upsertStudy(study, expandTrials(study, 'bench'));
  await admin.close();
  const stores = await Promise.all(Array.from({ length: clients }, () => openStore(url)));
  const out: StoreLoop = { clients, trials: 0, seconds: 0, claim: [], finish: [], both: [], transactionsPerTrial: Number.NaN };
  const before = await commits(url);
  const started = performance.now();
  await Promise.all(stores.map((s, i) => drain(s, study.name, `bench:${process.pid}:${i}`, out)));
  out.seconds = (performance.now() - started) / 1000;
  out.trials = out.both.length;
  await Promise.all(stores.map((s) => s.close()));
  // A backend reports its statistics when it ends: give the closed ones a moment (a few extra commits, ≤ 0.01 per trial).
  await new Promise((r) => setTimeout(r, 1000));
  out.transactionsPerTrial = ((await commits(url)) - before) / out.trials;
  return out;
}

/** CPU seconds of process `pid` and of its children it has waited for (Linux /proc; utime stime cutime cstime, in clock ticks of 1/100 s). */
export function cpuSeconds(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command's ')': state is field 3, utime..cstime are fields 14..17.
  return fields.slice(11, 15).reduce((s, f) => s + Number(f), 0) / 100;
}

/** The postmaster of the PostgreSQL cluster in `dir` (its backends' CPU is its children's once they exit). */
export const postmasterPid = (dir: string) => Number(readFileSync(`${dir}/data/postmaster.pid`, 'utf8').split('\n')[0]);
