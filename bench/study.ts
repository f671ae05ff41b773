/**
 * `npm run bench:study`: the study runner's throughput and overhead (issues 5 and 11). A 24-trial
 * MNIST MLP study (batch sizes × learning rates × seeds; one epoch of MNIST for the 784-512-512-10
 * MLP of the step benchmark) is run with 1 and then 2 worker processes into fresh stores, SQLite and
 * then PostgreSQL (a throw-away local cluster with PostgreSQL's default durability, fsync on).
 * Reported: trials per hour, the speed-up, and the overhead of runner and store per trial:
 * (wall time × workers − Σ training loop time) / (wall time × workers), which counts process
 * start, data loading, evaluation and store writes. Also the workers' peak resident memory, and
 * the latency of a claim (p50/p99) with 8 workers on 500 tiny trials, where claims are contended.
 * `node dist/bench/study.js sqlite` or `postgres` runs one backend only; `claims [sqlite|postgres]`
 * runs only the tiny-trial study (claim + finish latency, tiny trials/s, store transactions per trial),
 * `store [sqlite|postgres]` only the store without workers (bench/claims.ts). `claims … --workers=1,2,4,8`
 * runs the tiny-trial study once per worker count (default 8).
 */
import { mkdtempSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, parseStudy, runStudy } from '../src/study/index.js';
import { pgCluster } from '../src/study/pg-testing.js';
import { commits, cpuSeconds, postmasterPid, quantile, storeLoop } from './claims.js';

const study = parseStudy({
  name: 'bench-mlp',
  base: {
    model: { name: 'mlp', widths: [512, 512] },
    data: { name: 'mnist' },
    optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9 },
    batchSize: 64,
    budget: { epochs: 1 },
    eval: { every: 1_000_000 },
  },
  grid: { batchSize: [32, 64, 128], 'optimizer.lr': [0.025, 0.05, 0.1, 0.2], seed: [0, 1] },
});

const TINY_TRIALS = 500;
const tiny = parseStudy({
  name: 'bench-claims',
  base: {
    model: { name: 'linear-regression' },
    data: { name: 'linear-regression', linearRegression: { dim: 2, teacher: [1, 1], labelNoise: 1 }, trainSize: 8, testSize: 8 },
    optimizer: { name: 'sgd', lr: 0.1 },
    batchSize: 4,
    budget: { steps: 1 },
  },
  grid: { seed: Array.from({ length: TINY_TRIALS }, (_, i) => i) },
});

type Backend = 'sqlite' | 'postgres';

async function newUrl(backend: Backend): Promise<string> {
  if (backend === 'sqlite') return join(mkdtempSync(join(tmpdir(), 'sgdlab-bench-study-')), 'study.db');
  const url = await (await pgCluster({ durable: true })).newDatabase();
  return nosync ? `${url}?options=${encodeURIComponent('-c synchronous_commit=off')}` : url;
}

async function trialsOf(url: string, name: string) {
  const store = await openStore(url);
  try {
    return await store.trials(name);
  } finally {
    await store.close();
  }
}

async function measure(backend: Backend, workers: number) {
  const db = await newUrl(backend);
  const started = performance.now();
  await runStudy(study, { db, workers });
  const wall = (performance.now() - started) / 1000;
  const trials = await trialsOf(db, study.name);
  const train = trials.reduce((s, t) => s + (t.result?.trainSeconds ?? 0), 0);
  const trial = trials.reduce((s, t) => s + (t.seconds ?? 0), 0);
  const maxRss = Math.max(...trials.map((t) => (t.result?.workerMaxRssMb ?? 0)));
  return { backend, workers, trials: trials.length, wall, trialsPerHour: (trials.length / wall) * 3600, trainSeconds: train, overhead: 1 - train / (wall * workers), storeAndRunner: 1 - trial / (wall * workers), maxRss };
}

/** The tiny-trial study with `workers` worker processes: claim and finish latency in the workers, tiny trials per second, store transactions per trial. */
async function claims(backend: Backend, workers: number) {
  // CPU seconds of the runner with its workers, and of PostgreSQL's server: a study of one trial a worker counts what starting them costs.
  const cpu = async () => [cpuSeconds('self'), backend === 'postgres' ? cpuSeconds(postmasterPid((await pgCluster({ durable: true })).dir)) : 0];
  const cpuOf = async (s: typeof tiny) => {
    const url = await newUrl(backend);
    const [w0, p0] = await cpu();
    await runStudy(s, { db: url, workers });
    const [w1, p1] = await cpu();
    return { workers: w1! - w0!, server: p1! - p0! };
  };
  const start = await cpuOf({ ...tiny, name: 'bench-start', grid: { seed: Array.from({ length: workers }, (_, i) => i) } });
  const db = await newUrl(backend);
  const before = await commits(db);
  const [w0, p0] = await cpu();
  const started = performance.now();
  await runStudy(tiny, { db, workers });
  const wall = (performance.now() - started) / 1000;
  const [w1, p1] = await cpu();
  const n = TINY_TRIALS - workers;
  const cpuMs = { workers: (1000 * (w1! - w0! - start.workers)) / n, server: (1000 * (p1! - p0! - start.server)) / n };
  const trials = await trialsOf(db, tiny.name);
  const transactionsPerTrial = ((await commits(db)) - before) / trials.length;
  const results = trials.map((t) => t.result ?? {});
  const claim = results.map((r) => Number(r.claimMs));
  // finishMs is the previous finish of the same worker (a trial cannot carry its own finish's latency): paired with this claim, one trial's claim + finish.
  const paired = results.filter((r) => r.finishMs !== undefined);
  const finish = paired.map((r) => r.finishMs!);
  const both = paired.map((r) => r.finishMs! + r.claimMs!);
  // The steady window: the first claim to the last finish on the store's clock (the workers' start and exit left out).
  const first = Math.min(...trials.map((t) => Date.parse(t.startedAt!)));
  const last = Math.max(...trials.map((t) => Date.parse(t.finishedAt!)));
  return { backend, workers, trials: trials.length, wall, perSecond: trials.length / wall, steadyPerSecond: trials.length / ((last - first) / 1000), claim, finish, both, transactionsPerTrial, cpuMs };
}

const ms = (xs: readonly number[]) => (xs.length === 0 ? '— | —' : `${quantile(xs, 0.5).toFixed(2)} | ${quantile(xs, 0.99).toFixed(2)}`);
const load = () => `load ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores`;

async function claimsTable(backends: readonly Backend[], workerCounts: readonly number[] = [8]): Promise<void> {
  process.stdout.write(`\nworker processes: ${workerCounts.join(', ')}${nosync ? ' (PostgreSQL without fsync at commit)' : ''}, 500 tiny trials (${load()})\n\n| store | workers | trials | wall s | tiny trials/s (wall) | tiny trials/s (first claim → last finish) | claim p50 ms | claim p99 ms | finish p50 ms | finish p99 ms | claim + finish p50 ms | claim + finish p99 ms | store transactions per trial | CPU ms per trial: runner + workers | CPU ms per trial: PostgreSQL |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n`);
  for (const b of backends) for (const w of workerCounts) {
    const c = await claims(b, w);
    process.stdout.write(`| ${c.backend} | ${c.workers} | ${c.trials} | ${c.wall.toFixed(1)} | ${c.perSecond.toFixed(0)} | ${c.steadyPerSecond.toFixed(0)} | ${ms(c.claim)} | ${ms(c.finish)} | ${ms(c.both)} | ${c.transactionsPerTrial.toFixed(2)} | ${c.cpuMs.workers.toFixed(1)} | ${b === 'postgres' ? c.cpuMs.server.toFixed(1) : '—'} |\n`);
  }
  process.stdout.write(`(${load()})\n`);
}

/** The store alone: one process, 1 and 8 concurrent clients, 500 claims and finishes each run. */
async function storeTable(backends: readonly Backend[]): Promise<void> {
  process.stdout.write(`\nthe store alone${nosync ? ' (PostgreSQL without fsync at commit)' : ''}, one process (${load()})\n\n| store | clients | trials | s | claims + finishes /s | claim p50 ms | claim p99 ms | finish p50 ms | finish p99 ms | claim + finish p50 ms | claim + finish p99 ms | transactions per trial |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n`);
  for (const b of backends) {
    // SQLite: one client only. Several connections of one process to one file would block each other: a
    // transaction yields between its statements while holding the write lock, and another connection's
    // BEGIN IMMEDIATE then waits synchronously, the holder's event loop with it (the 8 workers are 8 processes).
    for (const clients of b === 'sqlite' ? [1] : [1, 8]) {
      const r = await storeLoop(await newUrl(b), tiny, clients);
      process.stdout.write(`| ${b} | ${clients} | ${r.trials} | ${r.seconds.toFixed(2)} | ${(r.trials / r.seconds).toFixed(0)} | ${ms(r.claim)} | ${ms(r.finish)} | ${ms(r.both)} | ${r.transactionsPerTrial.toFixed(2)} |\n`);
    }
  }
  process.stdout.write(`(${load()})\n`);
}

async function fullRun(backends: readonly Backend[]): Promise<void> {
  const rows = [];
  for (const b of backends) for (const w of [1, 2]) rows.push(await measure(b, w));
  process.stdout.write('| store | workers | trials | wall s | trials/hour | Σ training-loop s | overhead (all but the loop) | runner + store overhead | worker peak RSS MB |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n');
  for (const r of rows) {
    process.stdout.write(`| ${r.backend} | ${r.workers} | ${r.trials} | ${r.wall.toFixed(1)} | ${r.trialsPerHour.toFixed(0)} | ${r.trainSeconds.toFixed(1)} | ${(100 * r.overhead).toFixed(1)}% | ${(100 * r.storeAndRunner).toFixed(1)}% | ${r.maxRss} |\n`);
  }
  for (const b of backends) {
    const [one, two] = rows.filter((r) => r.backend === b);
    process.stdout.write(`\n${b}: speed-up with 2 workers: ${(one!.wall / two!.wall).toFixed(2)}×`);
  }
  process.stdout.write('\n');
  await claimsTable(backends);
}

const args = process.argv.slice(2);
// `claims … --workers=1,2,4,8`: the tiny-trial study once per worker count (default 8), to show what its latency grows with.
const workersFlag = args.findIndex((a) => a.startsWith('--workers='));
const workerCounts = workersFlag < 0 ? [8] : args.splice(workersFlag, 1)[0]!.slice('--workers='.length).split(',').map(Number);
if (workerCounts.some((w) => !Number.isInteger(w) || w < 1)) throw new Error(`--workers: expected positive integers separated by commas, got ${process.argv.find((a) => a.startsWith('--workers='))}`);
// `nosync` (a diagnostic, never a setting of sgdlab): PostgreSQL commits without waiting for the WAL's fsync, to show what the disk costs.
const nosync = args.at(-1) === 'nosync' ? args.pop() : undefined;
const mode = args[0] === 'claims' || args[0] === 'store' ? args.shift() : 'all';
const only = args[0];
if (only !== undefined && only !== 'sqlite' && only !== 'postgres') throw new Error(`backend '${only}': expected sqlite or postgres`);
const backends: Backend[] = only ? [only] : ['sqlite', 'postgres'];
if (mode === 'claims') await claimsTable(backends, workerCounts);
else if (mode === 'store') await storeTable(backends);
else await fullRun(backends);
if (backends.includes('postgres')) (await pgCluster({ durable: true })).stop();
