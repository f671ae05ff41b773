/**
 * `npm run bench:study`: the study runner's throughput and overhead (issue 5). A 24-trial MNIST
 * MLP study (batch sizes × learning rates × seeds; one epoch of MNIST for the 784-512-512-10 MLP of
 * the step benchmark) is run with 1 and then 2 worker processes into fresh stores. Reported:
 * trials per hour, the speed-up, and the overhead of runner and store per trial:
 * (wall time × workers − Σ training loop time) / (wall time × workers), which counts process
 * start, data loading, evaluation and store writes. Also the workers' peak resident memory.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, parseStudy, runStudy } from '../src/study/index.js';

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

async function measure(workers: number) {
  const db = join(mkdtempSync(join(tmpdir(), 'sgdlab-bench-study-')), 'study.db');
  const started = performance.now();
  await runStudy(study, { db, workers });
  const wall = (performance.now() - started) / 1000;
  const store = await openStore(db);
  const trials = await store.trials(study.name);
  await store.close();
  const train = trials.reduce((s, t) => s + Number((t.result as { trainSeconds?: number }).trainSeconds ?? 0), 0);
  const trial = trials.reduce((s, t) => s + (t.seconds ?? 0), 0);
  const maxRss = Math.max(...trials.map((t) => Number((t.result as { workerMaxRssMb?: number }).workerMaxRssMb ?? 0)));
  return { workers, trials: trials.length, wall, trialsPerHour: (trials.length / wall) * 3600, trainSeconds: train, trialSeconds: trial, overhead: 1 - train / (wall * workers), storeAndRunner: 1 - trial / (wall * workers), maxRss };
}

const one = await measure(1);
const two = await measure(2);
const rows = [one, two];
process.stdout.write('| workers | trials | wall s | trials/hour | Σ training-loop s | overhead (all but the loop) | runner + store overhead | worker peak RSS MB |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n');
for (const r of rows) {
  process.stdout.write(`| ${r.workers} | ${r.trials} | ${r.wall.toFixed(1)} | ${r.trialsPerHour.toFixed(0)} | ${r.trainSeconds.toFixed(1)} | ${(100 * r.overhead).toFixed(1)}% | ${(100 * r.storeAndRunner).toFixed(1)}% | ${r.maxRss} |\n`);
}
process.stdout.write(`\nspeed-up with 2 workers: ${(one.wall / two.wall).toFixed(2)}×\n`);
