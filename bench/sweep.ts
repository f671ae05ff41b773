/**
 * `npm run bench:sweep`: a Smith-style regimes grid as an sgdlab study against the same sweep written
 * as a plain PyTorch loop (bench/sweep_torch.py, Debian's python3-torch on the same libtorch), back to
 * back in one command (issue 23). The grid: batch sizes × learning rates in factors of 2, the MLP
 * 784–512–512–10, plain SGD, a fixed number of epochs over the first N MNIST images of sgdlab's
 * `subset: N`, one seed; evaluation only at the end. Each side runs its trials on `--workers` processes
 * with one libtorch thread each; sgdlab into a fresh SQLite store.
 *
 * sgdlab's side runs one or more variants (`--variants=full,median,asha`): the full grid, or the same
 * grid under the study's `prune` option (the median stopping rule or ASHA, the learning rates of one
 * batch size competing; the rules' parameters: bench/sweep-options.ts). Pruning only removes trials: a
 * trial that is not pruned is the full grid's trial, bit for bit, so the best learning rate per batch
 * size is the full grid's iff its winner is never pruned. The packed variants (`packed`, `median-packed`,
 * `asha-packed`) add the study's `pack` option (`--pack=faster|always`, `--pack-members=K`): a worker
 * trains up to K learning rates of one batch size as one computation where it measured that faster, and
 * prunes them at the rungs one by one. A packed trial equals its lone run up to float rounding (batched
 * products sum in another order), not bit for bit. Its stored seconds are its pack's: Σ trial-seconds
 * counts each packed trial's share, its pack's seconds ÷ the pack's members (an approximation once
 * members are pruned on the way); compare packed variants by wall and CPU time first.
 *
 * Reported per round and side: wall time (process start to the last result, the store included on
 * sgdlab's side and Python's start and imports on PyTorch's), the ratio to PyTorch, Σ trial-seconds
 * (each trial from claim to result, rung evaluations and snapshots included; the loop's trials with
 * their evaluation), the share of them saved against the full grid and against the loop, Σ
 * training-loop seconds, the trials pruned and diverged, and the best learning rate per batch size by
 * one rule (results.ts's bestByBatchSize, `select: testAccuracy`, a diverged or pruned trial never
 * best), compared with the full grid's and the loop's. Round 2 (and every even round) runs PyTorch
 * first and the variants in reverse order (`--first=pytorch`: the other way round).
 *
 *   node dist/bench/sweep.js [--batch-sizes=16,32,…] [--lrs=13|0.01,0.02,…] [--epochs=16]
 *     [--subset=10000] [--rounds=1] [--workers=2] [--seed=0] [--variants=full,median,asha,packed,median-packed,asha-packed]
 *     [--pack=faster|always] [--pack-members=8]
 *     [--rungs=1,2,4] [--grace=1] [--eta=4] [--every=1] [--min-trials=3] [--prune-metric=testAccuracy]
 *     [--lr-order=ascending|descending] [--first=sgdlab|pytorch] [--json]
 *
 * Default: the issue's grid, 9 batch sizes (16 … 4,096) × 13 learning rates (2⁻⁸ … 2⁴) × 16 epochs on
 * 10,000 images, the full grid only. `--lrs=N` takes the N middle rates of that ladder.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bestByBatchSize, expandTrials, openStore, runStudy, type BatchSizeResult, type Study, type StoredTrial } from '../src/study/index.js';
import { parseTrialResult, type TrialResult } from '../src/study/records.js';
import { sgdlabVersion } from '../src/train/version.js';
import { cpuSeconds } from './claims.js';
import { PACK_MARGIN } from '../src/study/packing.js';
import { parseOptions, sweepStudy, variantParts, type Options, type Variant } from './sweep-options.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Side {
  /** An sgdlab variant, or the PyTorch loop. */
  side: Variant | 'pytorch';
  wall: number;
  /**
   * CPU seconds of the side's processes (this one and the workers it waited for: /proc's utime + stime +
   * cutime + cstime across the side's run): the work done, which other processes on the machine inflate
   * far less than wall time.
   */
  cpu: number;
  best: BatchSizeResult[];
  trials: number;
  diverged: number;
  pruned: number;
  /** Σ over trials of the training loop's seconds (the trainer's on sgdlab's side, its pauses' evaluations excluded; the loop's on PyTorch's side). */
  loop: number;
  /** Σ over trials of each trial's seconds: sgdlab's from claim to stored result (rung evaluations, snapshots and the final evaluation included), the loop's with its evaluation. */
  trialSeconds: number;
  /** The same sum per batch size, and split by how the trial ended. */
  trialSecondsByB: Record<number, number>;
  trialSecondsByStatus: Record<string, number>;
  /** The longest trial, seconds. */
  longest: number;
  /** sgdlab only: from the first trial's claim to the last result (the rest of the wall time is worker start, data loading and the store's setup). */
  span?: number;
  /** The pruned trials: batch size, learning rate, and the epoch they were stopped at. */
  prunedAt: { batchSize: number; lr: number; epoch: number }[];
  /** Per batch size, from the trials' `packed` records: trials trained in a pack, and the speed-ups measured before deciding (packed or not). */
  packing: { batchSize: number; packed: number; measured: number[] }[];
}

/** A trial's stored `packed` record (packing.ts PackRecord): absent where packing was never considered. */
function packRecord(t: StoredTrial): { members: number; measuredSpeedup?: number } | undefined {
  const packed = (t.result as { packed?: { members?: unknown; measuredSpeedup?: unknown } } | null)?.packed;
  if (typeof packed?.members !== 'number') return undefined;
  return { members: packed.members, ...(typeof packed.measuredSpeedup === 'number' ? { measuredSpeedup: packed.measuredSpeedup } : {}) };
}

/** The members of the pack a trial was trained in (1 for a trial trained alone). */
const packMembers = (t: StoredTrial): number => Math.max(1, packRecord(t)?.members ?? 1);

function packingByBatchSize(trials: readonly StoredTrial[]): Side['packing'] {
  const sizes = [...new Set(trials.map((t) => t.config.batchSize as number))].sort((a, b) => a - b);
  return sizes.map((batchSize) => {
    const records = trials.filter((t) => t.config.batchSize === batchSize).map(packRecord).filter((r) => r !== undefined);
    return { batchSize, packed: records.filter((r) => r.members > 1).length, measured: [...new Set(records.flatMap((r) => (r.measuredSpeedup === undefined ? [] : [r.measuredSpeedup])))] };
  }).filter((p) => p.packed > 0 || p.measured.length > 0);
}

function summarize(side: Side['side'], wall: number, cpu: number, study: Study, trials: readonly StoredTrial[], subset: number, span?: number): Side {
  const byB: Record<number, number> = {};
  const byStatus: Record<string, number> = {};
  // A packed trial's stored seconds are its pack's: its share is that ÷ the pack's members (the pack's
  // size when formed; members pruned on the way make the share of the rest an underestimate).
  const seconds = (t: StoredTrial) => (t.seconds ?? 0) / packMembers(t);
  for (const t of trials) {
    const b = t.config.batchSize as number;
    byB[b] = (byB[b] ?? 0) + seconds(t);
    byStatus[t.status] = (byStatus[t.status] ?? 0) + seconds(t);
  }
  return {
    side, wall, cpu, best: bestByBatchSize(study, trials), trials: trials.length,
    diverged: trials.filter((t) => t.status === 'diverged').length,
    pruned: trials.filter((t) => t.status === 'pruned').length,
    loop: trials.reduce((sum, t) => sum + (t.result?.trainSeconds ?? 0) / packMembers(t), 0),
    trialSeconds: trials.reduce((sum, t) => sum + seconds(t), 0),
    trialSecondsByB: byB, trialSecondsByStatus: byStatus,
    longest: Math.max(0, ...trials.map((t) => t.seconds ?? 0)),
    prunedAt: trials.filter((t) => t.status === 'pruned').map((t) => {
      const b = t.config.batchSize as number;
      // Steps per epoch: the subset's batches, the last partial one dropped (as the sweep trains).
      return { batchSize: b, lr: t.config.optimizer.lr, epoch: (t.result?.pruned?.step ?? NaN) / Math.floor(subset / b) };
    }),
    packing: packingByBatchSize(trials),
    ...(span !== undefined ? { span } : {}),
  };
}

/** From the first trial's start to the last one's end, seconds. */
function spanOf(trials: readonly StoredTrial[]): number | undefined {
  const starts = trials.map((t) => t.startedAt).filter((x): x is string => x !== null).map((x) => Date.parse(x));
  const ends = trials.map((t) => t.finishedAt).filter((x): x is string => x !== null).map((x) => Date.parse(x));
  return starts.length && ends.length ? (Math.max(...ends) - Math.min(...starts)) / 1000 : undefined;
}

async function runSgdlab(variant: Variant, o: Options): Promise<Side> {
  const study = sweepStudy(o, variant);
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-bench-sweep-'));
  const db = join(dir, 'study.db');
  try {
    const [started, cpuBefore] = [performance.now(), cpuSeconds('self')];
    const summary = await runStudy(study, { db, workers: o.workers });
    const [wall, cpu] = [(performance.now() - started) / 1000, cpuSeconds('self') - cpuBefore];
    if (summary.counts.failed > 0 || summary.errors.length > 0) throw new Error(`sgdlab side (${variant}): ${summary.counts.failed} trials failed ${summary.errors.join('; ')}`);
    const store = await openStore(db);
    try {
      const trials = await store.trials(study.name);
      return summarize(variant, wall, cpu, study, trials, o.subset, spanOf(trials));
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
  /** The training loop's seconds. */
  seconds: number;
  /** The trial's seconds with its evaluation. */
  total: number;
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
    return { study: study.name, key: t.key, coordinates: t.coordinates, config: t.config, status: r.status, worker: null, attempt: 1, startedAt: null, finishedAt: null, seconds: r.total, result, error: null, checkpoint: null };
  });
}

function runTorch(o: Options): Side {
  const study = sweepStudy(o);
  const python = process.env.SGDLAB_PYTHON ?? '/usr/bin/python3';
  const args = [join(root, 'bench', 'sweep_torch.py'), '--batch-sizes', o.batchSizes.join(','), '--lrs', o.lrs.join(','), '--epochs', String(o.epochs), '--subset', String(o.subset), '--workers', String(o.workers), '--seed', String(o.seed)];
  const [started, cpuBefore] = [performance.now(), cpuSeconds('self')];
  const run = spawnSync(python, args, {
    // One thread a worker, and the allocator policy sgdlab's addon sets with mallopt (src/native/addon.cc), as bench/main.ts gives its PyTorch side.
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024), MALLOC_TRIM_THRESHOLD_: String(1024 * 1024 * 1024) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  const [wall, cpu] = [(performance.now() - started) / 1000, cpuSeconds('self') - cpuBefore];
  if (run.status !== 0) throw new Error(`PyTorch side: ${python} ${args.join(' ')} exited with ${run.status ?? run.signal}`);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as TorchTrial | { wall: number });
  const results = lines.filter((l): l is TorchTrial => 'batchSize' in l);
  return summarize('pytorch', wall, cpu, study, asStoredTrials(study, results), o.subset);
}

const lrText = (lr: number | undefined) => (lr === undefined ? '—' : String(+lr.toPrecision(6)));
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const pct = (saved: number) => `${(100 * saved).toFixed(1)}%`;

interface Round {
  round: number;
  order: string;
  loadBefore: string;
  loadAfter: string;
  /** In the order they ran. */
  sides: Side[];
}

/** At how many of the batch sizes two sides pick the same best learning rate (a batch size with no best on either side disagrees). */
function agreement(a: Side, b: Side, batchSizes: readonly number[]): number {
  return batchSizes.filter((B) => {
    const x = a.best.find((r) => r.batchSize === B);
    const y = b.best.find((r) => r.batchSize === B);
    return x !== undefined && y !== undefined && x.bestLr === y.bestLr;
  }).length;
}

/** Each side's figures against the loop and the full grid of the same round. */
function compare(r: Round, o: Options) {
  const torch = r.sides.find((s) => s.side === 'pytorch')!;
  const full = r.sides.find((s) => s.side === 'full');
  return r.sides.filter((s) => s.side !== 'pytorch').map((s) => ({
    variant: s.side,
    ratio: s.wall / torch.wall,
    cpuRatio: s.cpu / torch.cpu,
    loopRatio: s.loop / torch.loop,
    savedVsFull: full ? 1 - s.trialSeconds / full.trialSeconds : undefined,
    savedVsLoop: 1 - s.trialSeconds / torch.trialSeconds,
    agreesWithFull: full ? agreement(s, full, o.batchSizes) : undefined,
    agreesWithPytorch: agreement(s, torch, o.batchSizes),
  }));
}

function report(r: Round, o: Options): string {
  const out = [`\nround ${r.round} (${r.order}; load average ${r.loadBefore} before, ${r.loadAfter} after, on ${availableParallelism()} cores)\n`];
  const torch = r.sides.find((s) => s.side === 'pytorch')!;
  const rows = compare(r, o);
  const n = o.batchSizes.length;
  out.push('| side | wall s | / PyTorch | CPU s | / PyTorch | Σ trial s | saved vs full | saved vs PyTorch | Σ loop s | loop / PyTorch | Σ s: completed / pruned / diverged | longest trial s | claim→last result s | pruned | diverged | best lr = full | best lr = PyTorch |\n');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n');
  for (const s of r.sides) {
    const c = rows.find((x) => x.variant === s.side);
    const st = (k: string) => (s.trialSecondsByStatus[k] ?? 0).toFixed(1);
    out.push(`| ${s.side === 'pytorch' ? 'PyTorch loop' : `sgdlab ${s.side}`} | ${s.wall.toFixed(1)} | ${c ? c.ratio.toFixed(3) : '1'} | ${s.cpu.toFixed(1)} | ${c ? c.cpuRatio.toFixed(3) : '1'} | ${s.trialSeconds.toFixed(1)} | ${c?.savedVsFull !== undefined ? pct(c.savedVsFull) : '—'} | ${c ? pct(c.savedVsLoop) : '—'} | ${s.loop.toFixed(1)} | ${c ? c.loopRatio.toFixed(3) : '1'} | ${st('completed')} / ${st('pruned')} / ${st('diverged')} | ${s.longest.toFixed(1)} | ${s.span?.toFixed(1) ?? '—'} | ${s.pruned} | ${s.diverged} of ${s.trials} | ${c?.agreesWithFull !== undefined ? `${c.agreesWithFull} of ${n}` : '—'} | ${c ? `${c.agreesWithPytorch} of ${n}` : '—'} |\n`);
  }
  const cols = r.sides.filter((s) => s.side !== 'pytorch').concat(torch);
  const name = (s: Side) => (s.side === 'pytorch' ? 'PyTorch' : s.side);
  out.push(`\n| B | ${cols.map((s) => `best lr, ${name(s)} | test acc.`).join(' | ')} | ${cols.map((s) => `Σ trial s, ${name(s)}`).join(' | ')} |\n`);
  out.push(`|---:|${cols.map(() => '---:|---:|').join('')}${cols.map(() => '---:|').join('')}\n`);
  for (const b of o.batchSizes) {
    const cells = cols.map((s) => {
      const x = s.best.find((y) => y.batchSize === b);
      return `${lrText(x?.bestLr)} | ${x ? x.testAccuracy.mean.toFixed(4) : '—'}`;
    });
    out.push(`| ${b} | ${cells.join(' | ')} | ${cols.map((s) => (s.trialSecondsByB[b] ?? 0).toFixed(1)).join(' | ')} |\n`);
  }
  for (const s of r.sides.filter((x) => x.pruned > 0)) {
    const byB = o.batchSizes.map((b) => [b, s.prunedAt.filter((p) => p.batchSize === b).sort((x, y) => y.lr - x.lr)] as const).filter(([, ps]) => ps.length > 0);
    out.push(`pruned by ${s.side} (lr@epoch): ${byB.map(([b, ps]) => `B=${b}: ${ps.map((p) => `${lrText(p.lr)}@${+p.epoch.toFixed(2)}`).join(' ')}`).join('; ')}\n`);
  }
  for (const s of r.sides.filter((x) => x.packing.length > 0)) {
    out.push(`packing by ${s.side} (trials packed; speed-up measured per worker before deciding, packed above ${PACK_MARGIN}): ${s.packing.map((p) => `B=${p.batchSize}: ${p.packed}${p.measured.length > 0 ? ` (${p.measured.map((x) => x.toFixed(2)).join(', ')})` : ''}`).join('; ')}\n`);
  }
  return out.join('');
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const prune = (o.variants.some((v) => variantParts(v).rule !== undefined) ? `; pruning ${JSON.stringify(o.prune)}` : '') + (o.variants.some((v) => variantParts(v).packed) ? `; packing ${JSON.stringify(o.pack)}` : '');
  log(`bench sweep: ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, node ${process.version}; ${o.batchSizes.length} batch sizes (${o.batchSizes.join(', ')}) × ${o.lrs.length} learning rates (${o.lrs.map(lrText).join(', ')}, ${o.lrOrder}), ${o.epochs} epochs, ${o.subset} MNIST images, seed ${o.seed}, ${o.workers} workers, ${o.rounds} round(s); sgdlab variants ${o.variants.join(', ')}${prune}`);
  const rounds: Round[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const torchFirst = (round % 2 === 0) !== (o.first === 'pytorch');
    const order: (Variant | 'pytorch')[] = torchFirst ? ['pytorch', ...[...o.variants].reverse()] : [...o.variants, 'pytorch'];
    const loadBefore = load();
    const sides: Side[] = [];
    for (const side of order) {
      log(`round ${round}: ${side} (load average ${load()})`);
      const s = side === 'pytorch' ? runTorch(o) : await runSgdlab(side, o);
      sides.push(s);
      log(`round ${round}: ${side} ${s.wall.toFixed(1)} s, CPU ${s.cpu.toFixed(1)} s, Σ trial ${s.trialSeconds.toFixed(1)} s, Σ loop ${s.loop.toFixed(1)} s, ${s.pruned} pruned, ${s.diverged} diverged; best lr ${s.best.map((b) => `${b.batchSize}:${lrText(b.bestLr)}`).join(' ')} (load average ${load()})`);
    }
    const r: Round = { round, order: order.map((s) => (s === 'pytorch' ? 'PyTorch' : s)).join(' → '), loadBefore, loadAfter: load(), sides };
    rounds.push(r);
    if (!o.json) process.stdout.write(report(r, o));
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ options: o, rounds: rounds.map((r) => ({ ...r, comparisons: compare(r, o) })) }, null, 2)}\n`);
  }
}

await main();
