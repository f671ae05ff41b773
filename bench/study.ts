/**
 * `npm run bench:study`: the study runner's throughput and overhead (issues 5 and 11). A 24-trial
 * MNIST MLP study (batch sizes × learning rates × seeds; one epoch of MNIST for the 784-512-512-10
 * MLP of the step benchmark) is run with 1 and then 2 worker processes into fresh stores, SQLite and
 * then PostgreSQL (a throw-away local cluster with PostgreSQL's default durability, fsync on).
 * Reported: trials per hour, the speed-up, and the overhead of runner and store per trial:
 * (wall time × workers − Σ training loop time) / (wall time × workers), which counts process
 * start, data loading, evaluation and store writes. Also the workers' peak resident memory, and
 * the latency of a claim (p50/p99) with 8 workers on 500 tiny trials, where claims are contended.
 * `node dist/bench/study.js sqlite` or `postgres` runs one backend only.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, parseStudy, runStudy } from '../src/study/index.js';
import { pgCluster } from '../src/study/pg-testing.js';

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

const tiny = parseStudy({
  name: 'bench-claims',
  base: {
    model: { name: 'linear-regression' },
    data: { name: 'linear-regression', linearRegression: { dim: 2, teacher: [1, 1], labelNoise: 1 }, trainSize: 8, testSize: 8 },
    optimizer: { name: 'sgd', lr: 0.1 },
    batchSize: 4,
    budget: { steps: 1 },
  },
  grid: { seed: Array.from({ length: 500 }, (_, i) => i) },
});

type Backend = 'sqlite' | 'postgres';

async function newUrl(backend: Backend): Promise<string> {
  if (backend === 'sqlite') return join(mkdtempSync(join(tmpdir(), 'sgdlab-bench-study-')), 'study.db');
  return (await pgCluster({ durable: true })).newDatabase();
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
  const train = trials.reduce((s, t) => s + Number((t.result as { trainSeconds?: number }).trainSeconds ?? 0), 0);
  const trial = trials.reduce((s, t) => s + (t.seconds ?? 0), 0);
  const maxRss = Math.max(...trials.map((t) => Number((t.result as { workerMaxRssMb?: number }).workerMaxRssMb ?? 0)));
  return { backend, workers, trials: trials.length, wall, trialsPerHour: (trials.length / wall) * 3600, trainSeconds: train, overhead: 1 - train / (wall * workers), storeAndRunner: 1 - trial / (wall * workers), maxRss };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};

async function claims(backend: Backend) {
  const db = await newUrl(backend);
  const started = performance.now();
  await runStudy(tiny, { db, workers: 8 });
  const wall = (performance.now() - started) / 1000;
  const trials = await trialsOf(db, tiny.name);
  const ms = trials.map((t) => Number((t.result as { claimMs?: number }).claimMs));
  return { backend, trials: trials.length, wall, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), max: Math.max(...ms) };
}

const only = process.argv[2] as Backend | undefined;
const backends: Backend[] = only ? [only] : ['sqlite', 'postgres'];
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
process.stdout.write('\n\n| store | workers | tiny trials | wall s | claim p50 ms | claim p99 ms | claim max ms |\n|---|---:|---:|---:|---:|---:|---:|\n');
for (const b of backends) {
  const c = await claims(b);
  process.stdout.write(`| ${c.backend} | 8 | ${c.trials} | ${c.wall.toFixed(1)} | ${c.p50.toFixed(2)} | ${c.p99.toFixed(2)} | ${c.max.toFixed(2)} |\n`);
}
if (backends.includes('postgres')) (await pgCluster({ durable: true })).stop();
