/**
 * `npm run bench:sweep`: a Smith-style regimes grid as an sgdlab study against the same sweep written
 * as a plain PyTorch loop (bench/sweep_torch.py, Debian's python3-torch on the same libtorch), back to
 * back in one command (issue 23). The grid: batch sizes × learning rates in factors of 2, the MLP
 * 784–512–512–10, plain SGD, a fixed number of epochs over the first N MNIST images of sgdlab's
 * `subset: N`, one seed; evaluation only at the end. Each side runs its trials on `--workers` processes
 * with one libtorch thread each; sgdlab into a fresh SQLite store.
 *
 * Reported per round: each side's wall time (process start to the last result, the store included on
 * sgdlab's side and Python's start and imports on PyTorch's), the ratio sgdlab / PyTorch, and the best
 * learning rate per batch size on each side by the same rule (results.ts's bestByBatchSize with the
 * study's `select: testAccuracy`, applied to both sides' results; a diverged trial never counts as
 * best), and whether they agree. With `--rounds=2` the second round runs PyTorch first.
 *
 *   node dist/bench/sweep.js [--batch-sizes=16,32,…] [--lrs=13|0.01,0.02,…] [--epochs=16]
 *     [--subset=10000] [--rounds=1] [--workers=2] [--seed=0] [--json]
 *
 * Default: the issue's grid, 9 batch sizes (16 … 4,096) × 13 learning rates (2⁻⁸ … 2⁴) × 16 epochs on
 * 10,000 images. `--lrs=N` takes the N middle rates of that ladder.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bestByBatchSize, expandTrials, openStore, parseStudy, runStudy, type BatchSizeResult, type Study, type StoredTrial } from '../src/study/index.js';
import { parseTrialResult, type TrialResult } from '../src/study/records.js';
import { sgdlabVersion } from '../src/train/version.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The issue's ladder of learning rates: 13 factors of 2, 2⁻⁸ … 2⁴. */
const LR_LADDER = Array.from({ length: 13 }, (_, i) => 2 ** (i - 8));
const DEFAULT_BATCH_SIZES = Array.from({ length: 9 }, (_, i) => 16 * 2 ** i);

interface Options {
  batchSizes: number[];
  lrs: number[];
  epochs: number;
  subset: number;
  rounds: number;
  workers: number;
  seed: number;
  json: boolean;
}

function flag(args: readonly string[], name: string): string | undefined {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3);
}

function positiveInt(args: readonly string[], name: string, fallback: number, min = 1): number {
  const raw = flag(args, name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!(Number.isInteger(v) && v >= min)) throw new Error(`--${name}: '${raw}' is not an integer ≥ ${min}`);
  return v;
}

function parseOptions(args: readonly string[]): Options {
  const known = ['batch-sizes', 'lrs', 'epochs', 'subset', 'rounds', 'workers', 'seed'];
  for (const a of args) {
    if (a === '--json') continue;
    const name = /^--([a-z-]+)=/.exec(a)?.[1];
    if (!name || !known.includes(name)) throw new Error(`unknown argument '${a}': expected --json or --NAME=VALUE with NAME one of ${known.join(', ')}`);
  }
  const rawB = flag(args, 'batch-sizes');
  const batchSizes = rawB === undefined ? DEFAULT_BATCH_SIZES : rawB.split(',').map(Number);
  if (batchSizes.some((b) => !(Number.isInteger(b) && b > 0))) throw new Error(`--batch-sizes: expected positive integers separated by commas, got '${rawB}'`);
  const rawLr = flag(args, 'lrs');
  let lrs = LR_LADDER;
  if (rawLr !== undefined && !rawLr.includes(',') && Number.isInteger(Number(rawLr))) {
    const n = Number(rawLr);
    if (!(n >= 1 && n <= LR_LADDER.length)) throw new Error(`--lrs: a count must be in 1..${LR_LADDER.length} (the ladder 2⁻⁸ … 2⁴), got ${rawLr}`);
    const from = Math.floor((LR_LADDER.length - n) / 2);
    lrs = LR_LADDER.slice(from, from + n);
  } else if (rawLr !== undefined) {
    lrs = rawLr.split(',').map(Number);
    if (lrs.some((v) => !(Number.isFinite(v) && v > 0))) throw new Error(`--lrs: expected a count or positive learning rates separated by commas, got '${rawLr}'`);
  }
  const subset = positiveInt(args, 'subset', 10_000);
  if (subset > 60_000) throw new Error(`--subset: ${subset} exceeds MNIST's 60,000 training images`);
  const tooLarge = batchSizes.filter((b) => b > subset);
  if (tooLarge.length > 0) throw new Error(`--batch-sizes: ${tooLarge.join(', ')} exceed the ${subset} training images of --subset`);
  return {
    batchSizes, lrs, subset,
    epochs: positiveInt(args, 'epochs', 16),
    rounds: positiveInt(args, 'rounds', 1),
    workers: positiveInt(args, 'workers', 2),
    seed: positiveInt(args, 'seed', 0, 0),
    json: args.includes('--json'),
  };
}

/** The sweep as an sgdlab study: one seed, evaluation only at the end (as the loop), best lr by test accuracy. */
function sweepStudy(o: Options): Study {
  return parseStudy({
    name: 'bench-sweep',
    base: {
      model: { name: 'mlp', widths: [512, 512] },
      data: { name: 'mnist', subset: o.subset },
      optimizer: { name: 'sgd', lr: o.lrs[0] },
      batchSize: o.batchSizes[0],
      budget: { epochs: o.epochs },
      eval: { every: 1_000_000_000 },
      seed: o.seed,
    },
    grid: { batchSize: o.batchSizes, 'optimizer.lr': o.lrs },
    select: 'testAccuracy',
  });
}

interface Side {
  side: 'sgdlab' | 'pytorch';
  wall: number;
  best: BatchSizeResult[];
  trials: number;
  diverged: number;
  /** Σ over trials of the training loop's seconds (the worker's trainSeconds on sgdlab's side, the loop's on PyTorch's side; no evaluation). */
  loop: number;
}

const summarize = (side: Side['side'], wall: number, study: Study, trials: readonly StoredTrial[]): Side => ({
  side, wall, best: bestByBatchSize(study, trials), trials: trials.length, diverged: trials.filter((t) => t.status === 'diverged').length,
  loop: trials.reduce((sum, t) => sum + (t.result?.trainSeconds ?? 0), 0),
});

async function runSgdlab(study: Study, o: Options): Promise<Side> {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-bench-sweep-'));
  const db = join(dir, 'study.db');
  try {
    const started = performance.now();
    const summary = await runStudy(study, { db, workers: o.workers });
    const wall = (performance.now() - started) / 1000;
    if (summary.counts.failed > 0 || summary.errors.length > 0) throw new Error(`sgdlab side: ${summary.counts.failed} trials failed ${summary.errors.join('; ')}`);
    const store = await openStore(db);
    try {
      return summarize('sgdlab', wall, study, await store.trials(study.name));
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface TorchTrial {
  batchSize: number;
  lr: number;
  status: 'completed' | 'diverged';
  steps: number;
  seconds: number;
  train: { loss: number | null; accuracy: number; examples: number };
  test: { loss: number | null; accuracy: number; examples: number };
}

/**
 * The PyTorch loop's results as stored trials of the same study (its trials' keys and configurations),
 * so that bestByBatchSize applies one rule to both sides.
 */
function asStoredTrials(study: Study, results: readonly TorchTrial[]): StoredTrial[] {
  const byPoint = new Map(results.map((r) => [`${r.batchSize} ${r.lr}`, r]));
  return expandTrials(study, sgdlabVersion()).map((t) => {
    const r = byPoint.get(`${t.config.batchSize} ${t.config.optimizer.lr}`);
    if (!r) throw new Error(`PyTorch side: no result for batch size ${t.config.batchSize}, lr ${t.config.optimizer.lr}`);
    const result: TrialResult = parseTrialResult({ status: r.status, steps: r.steps, batchSize: r.batchSize, baseLr: r.lr, seconds: r.seconds, trainSeconds: r.seconds, train: r.train, test: r.test }, { study: study.name, key: t.key, what: 'result of the PyTorch loop' });
    return { study: study.name, key: t.key, coordinates: t.coordinates, config: t.config, status: r.status, worker: null, attempt: 1, startedAt: null, finishedAt: null, seconds: r.seconds, result, error: null, checkpoint: null };
  });
}

function runTorch(study: Study, o: Options): Side {
  const python = process.env.SGDLAB_PYTHON ?? '/usr/bin/python3';
  const args = [join(root, 'bench', 'sweep_torch.py'), '--batch-sizes', o.batchSizes.join(','), '--lrs', o.lrs.join(','), '--epochs', String(o.epochs), '--subset', String(o.subset), '--workers', String(o.workers), '--seed', String(o.seed)];
  const started = performance.now();
  const run = spawnSync(python, args, {
    // One thread a worker, and the allocator policy sgdlab's addon sets with mallopt (src/native/addon.cc), as bench/main.ts gives its PyTorch side.
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024), MALLOC_TRIM_THRESHOLD_: String(1024 * 1024 * 1024) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  const wall = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`PyTorch side: ${python} ${args.join(' ')} exited with ${run.status ?? run.signal}`);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as TorchTrial | { wall: number });
  const results = lines.filter((l): l is TorchTrial => 'batchSize' in l);
  return summarize('pytorch', wall, study, asStoredTrials(study, results));
}

const lrText = (lr: number | undefined) => (lr === undefined ? '—' : String(+lr.toPrecision(6)));
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

interface Round {
  round: number;
  order: string;
  loadBefore: string;
  loadAfter: string;
  sgdlab: Side;
  pytorch: Side;
}

function report(r: Round, o: Options): string {
  const out = [`\nround ${r.round} (${r.order}; load average ${r.loadBefore} before, ${r.loadAfter} after, on ${availableParallelism()} cores)\n`];
  out.push(`sgdlab ${r.sgdlab.wall.toFixed(1)} s, PyTorch ${r.pytorch.wall.toFixed(1)} s, sgdlab / PyTorch ${(r.sgdlab.wall / r.pytorch.wall).toFixed(3)}; Σ training-loop s: sgdlab ${r.sgdlab.loop.toFixed(1)}, PyTorch ${r.pytorch.loop.toFixed(1)} (${(r.sgdlab.loop / r.pytorch.loop).toFixed(3)}); diverged trials: sgdlab ${r.sgdlab.diverged}, PyTorch ${r.pytorch.diverged} of ${r.sgdlab.trials}\n`);
  out.push('| B | best lr, sgdlab | test acc. | train loss | best lr, PyTorch | test acc. | train loss | agree |\n|---:|---:|---:|---:|---:|---:|---:|---|\n');
  let agree = 0;
  for (const b of o.batchSizes) {
    const s = r.sgdlab.best.find((x) => x.batchSize === b);
    const p = r.pytorch.best.find((x) => x.batchSize === b);
    const same = s !== undefined && p !== undefined && s.bestLr === p.bestLr;
    if (same) agree++;
    const steps = s && p ? Math.round(Math.log2(p.bestLr / s.bestLr)) : NaN;
    const fmt = (x: BatchSizeResult | undefined) => `${lrText(x?.bestLr)} | ${x ? x.testAccuracy.mean.toFixed(4) : '—'} | ${x ? x.trainLoss.mean.toPrecision(3) : '—'}`;
    out.push(`| ${b} | ${fmt(s)} | ${fmt(p)} | ${same ? 'yes' : Number.isFinite(steps) ? `no (${steps > 0 ? '+' : ''}${steps} step${Math.abs(steps) === 1 ? '' : 's'})` : 'no'} |\n`);
  }
  out.push(`best lr agrees at ${agree} of ${o.batchSizes.length} batch sizes\n`);
  return out.join('');
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const study = sweepStudy(o);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`bench sweep: ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, node ${process.version}; ${o.batchSizes.length} batch sizes (${o.batchSizes.join(', ')}) × ${o.lrs.length} learning rates (${o.lrs.map(lrText).join(', ')}), ${o.epochs} epochs, ${o.subset} MNIST images, seed ${o.seed}, ${o.workers} workers, ${o.rounds} round(s)`);
  const rounds: Round[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const torchFirst = round % 2 === 0;
    const loadBefore = load();
    const sides: Partial<Record<Side['side'], Side>> = {};
    for (const side of torchFirst ? ['pytorch', 'sgdlab'] as const : ['sgdlab', 'pytorch'] as const) {
      log(`round ${round}: ${side} (load average ${load()})`);
      sides[side] = side === 'sgdlab' ? await runSgdlab(study, o) : runTorch(study, o);
      log(`round ${round}: ${side} ${sides[side]!.wall.toFixed(1)} s`);
    }
    const r: Round = { round, order: torchFirst ? 'PyTorch first' : 'sgdlab first', loadBefore, loadAfter: load(), sgdlab: sides.sgdlab!, pytorch: sides.pytorch! };
    rounds.push(r);
    if (!o.json) process.stdout.write(report(r, o));
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ options: o, rounds: rounds.map((r) => ({ ...r, ratio: r.sgdlab.wall / r.pytorch.wall })) }, null, 2)}\n`);
  }
}

await main();
