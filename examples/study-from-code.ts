/**
 * Define a study in code — a grid of batch sizes × learning rates at a constant budget of epochs, as in
 * Smith et al. 2020 — run it into a SQLite store with worker processes, and read its results back into
 * tables: validation accuracy at every grid point, then per batch size the best learning rate (the
 * study's selection rule) with its test accuracy and the λ_max the study measured on it.
 * The same as writing the study as YAML and running `sgdlab run FILE --db PATH` then `sgdlab results`.
 *
 *   npm run example -- study-from-code [--quick] [--db PATH]
 *   node dist/examples/study-from-code.js [--quick] [--db PATH]
 *
 * The store defaults to $TMPDIR/sgdlab-examples/study.db (read-store.ts reads it by default). Trials are
 * keyed by their configuration: a second run finds them done and only reads.
 * Sizes: default MLP 784-64-10 on 5,000 MNIST examples (1,000 held out for validation), 2 epochs,
 * B ∈ {16, 64, 256, 1024} × lr ∈ {0.01, 0.03, 0.1, 0.3, 1} (20 trials); --quick (CI) 1,000 examples,
 * 1 epoch, B ∈ {32, 256} × lr ∈ {0.03, 0.3} (4 trials). Two workers.
 * Measured runtime (2 cores shared at load 6–9, /usr/bin/time -v, fresh store): 8.5–16 s default,
 * 6.4–9 s --quick (most of it starting the worker processes); 0.5 GB per worker, 70 MB in this
 * process (it loads no libtorch). A second run on the same store only reads: 0.4 s.
 * Prints the trial counts, the accuracy grid and the best learning rate per batch size (stderr: one
 * line per finished trial).
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
// 'sgdlab/study' rather than 'sgdlab': importing the main index loads libtorch, which this process never uses.
import * as S from 'sgdlab/study';

const quick = process.argv.includes('--quick');
const dbAt = process.argv.indexOf('--db');
const db = dbAt < 0 ? join(tmpdir(), 'sgdlab-examples', 'study.db') : process.argv[dbAt + 1];
if (db === undefined || db.startsWith('--')) throw new Error(`--db: needs the path of a SQLite file, got ${db === undefined ? 'nothing' : `'${db}'`}`);
mkdirSync(dirname(db), { recursive: true });

const batchSizes = quick ? [32, 256] : [16, 64, 256, 1024];
const learningRates = quick ? [0.03, 0.3] : [0.01, 0.03, 0.1, 0.3, 1];

// The study, as a study file would hold it; parseStudy checks it and names any bad field.
const definition = S.parseStudy({
  name: quick ? 'lr-by-batch-size-quick' : 'lr-by-batch-size',
  description: 'best learning rate per batch size at a constant number of epochs',
  base: {
    model: { name: 'mlp', widths: [64] },
    data: { name: 'mnist', subset: quick ? 1000 : 5000, validation: quick ? 200 : 1000 },
    optimizer: { name: 'sgd', lr: 0.1 },
    batchSize: 64,
    budget: { epochs: quick ? 1 : 2 },
    seed: 0,
  },
  grid: { batchSize: batchSizes, 'optimizer.lr': learningRates },
  select: 'validationAccuracy',
  // λ_max (Lanczos) of each batch size's best trial, on the first training examples.
  measure: { trials: 'best', what: ['hessian'], subset: quick ? 200 : 1000 },
}, 'study-from-code');

const summary = await S.runStudy(definition, {
  db,
  workers: Math.min(2, availableParallelism()),
  onProgress: (p) => {
    for (const f of p.finished) {
      const at = Object.entries(f.coordinates).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
      process.stderr.write(`${f.measurement ?? 'trial'} ${at}: ${f.status}${f.error ? ` (${f.error})` : ''}\n`);
    }
  },
  onWarning: (w) => process.stderr.write(`warning: ${w}\n`),
});
const c = summary.counts;
console.log(`${definition.name} in ${db}: ${c.completed} completed, ${c.diverged} diverged, ${c.failed} failed (${summary.added} new trials this run); measurements: ${summary.measurements.completed} completed, ${summary.measurements.failed} failed`);
if (summary.errors.length > 0 || c.failed > 0 || summary.measurements.failed > 0) process.exitCode = 1;
for (const e of summary.errors) console.error(`error: ${e}`);

/** A Markdown table (pastes into notes and issues as it is). */
const markdown = (columns: string[], rows: string[][]): string =>
  [columns, columns.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
const pct = (a: number | null | undefined) => (a == null || !Number.isFinite(a) ? '–' : `${(100 * a).toFixed(1)}%`);

// Read the results back: the study's current trials, then the best learning rate per batch size.
const store = await S.openStore(db);
try {
  const trials = await S.currentTrials(store, definition);
  const measurements = await store.measurements(definition.name);
  const jobs = S.measurementJobs(definition, trials);

  const cell = (b: number, lr: number): string => {
    const t = trials.find((x) => x.config.batchSize === b && x.config.optimizer.lr === lr);
    if (t === undefined) return '?';
    if (t.status !== 'completed') return t.status;
    return pct(t.result?.validation?.accuracy);
  };
  console.log('\nvalidation accuracy, batch size × learning rate');
  console.log(markdown(['B', ...learningRates.map((lr) => `lr ${lr}`)], batchSizes.map((b) => [String(b), ...learningRates.map((lr) => cell(b, lr))])));

  console.log('\nbest learning rate per batch size');
  const rows = S.bestByBatchSize(definition, trials).map((r) => {
    const lambdaMax = S.summarizeMeasurements(jobs, r.bestTrials, measurements).lambdaMax;
    return [String(r.batchSize), String(r.bestLr), pct(r.validationAccuracy?.mean), pct(r.testAccuracy.mean), r.trainLoss.mean.toPrecision(4), lambdaMax ? lambdaMax.mean.toPrecision(4) : '–'];
  });
  console.log(markdown(['B', 'best lr', 'validation accuracy', 'test accuracy', 'training loss', 'λ_max'], rows));
} finally {
  await store.close();
}
