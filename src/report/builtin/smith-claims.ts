/**
 * The smith built-in study's claims table (Smith, Elsen & De 2020, SCIENCE.md §2): each headline claim,
 * the paper's statement, sgdlab's numbers as mean ± std over seeds, and a verdict computed from the data.
 *
 * Every optimum is taken per seed (the ε of the best completed run of that seed in its group of batch
 * size, budget and momentum), so the spread over seeds is the optimum's uncertainty; learning rates are
 * summarized on the log₂ scale of the grid (ε = 2^(mean ± std)). A difference of two means over
 * independent seeds carries the standard error √(s₁²/n₁ + s₂²/n₂); "within" and "beyond" are at 2 of them.
 *
 *  1. constant epochs: ε_opt ∝ B (slope 1 on log-log axes), then flat (slope 0), the critical batch size
 *     B* where it stops (per seed: figures.ts linearScalingBoundary, the first B whose ε_opt is below half
 *     the linear-scaling line from the smallest B), and test accuracy flat below B*, falling beyond;
 *  2. constant steps: a small or moderate batch beats the largest on the test set, even where the largest
 *     reaches the lower training loss;
 *  3. the epoch budget at one B: the test-optimal ε moves about 2× over a 128× range of budgets, the
 *     training-loss-optimal ε about 16× (the paper's Wide-ResNet on CIFAR-10; SCIENCE.md §2);
 *  4. SGD vs momentum at the same effective learning rate ε/(1 − m): the same at small B (the
 *     noise-dominated regime), momentum ahead at large B.
 */
import { seriesOf, stat, type Stat, type StoredTrial } from '../../study/index.js';
import { leastSquaresSlope } from '../../theory/index.js';
import { budgetLabel, type ReportData } from '../data.js';
import { linearScalingBoundary } from '../figures.js';
import type { Table } from '../tables.js';

/** One trial as the claims read it. */
export interface SmithRun {
  batchSize: number;
  lr: number;
  momentum: number;
  seed: number;
  epochs?: number;
  steps?: number;
  /** Only completed runs have values; a diverged, failed or pruned one is no candidate for an optimum. */
  completed: boolean;
  validationAccuracy?: number;
  testAccuracy?: number;
  trainLoss?: number;
  /** The passes over the training set the run made (the trainer's count). */
  epochsDone?: number;
  /** Its grid coordinates other than ε, seed, B, budget and momentum (results.ts seriesOf): the model, the data, … */
  series: string;
}

export function smithRuns(trials: readonly StoredTrial[]): SmithRun[] {
  return trials.flatMap((t) => {
    const batchSize = t.result?.batchSize ?? (typeof t.config.batchSize === 'number' ? t.config.batchSize : undefined);
    if (batchSize === undefined || t.config.optimizer.name !== 'sgd') return [];
    const budget = t.config.budget as { epochs?: number; steps?: number };
    const r = t.result;
    const { 'optimizer.momentum': _momentum, ...others } = t.coordinates;
    return [{
      series: seriesOf(others), batchSize, lr: t.config.optimizer.lr, momentum: t.config.optimizer.momentum ?? 0, seed: t.config.seed,
      ...(budget.epochs !== undefined ? { epochs: budget.epochs } : {}), ...(budget.steps !== undefined ? { steps: budget.steps } : {}),
      completed: t.status === 'completed',
      ...(r?.validation?.accuracy != null ? { validationAccuracy: r.validation.accuracy } : {}),
      ...(r?.test?.accuracy != null ? { testAccuracy: r.test.accuracy } : {}),
      ...(r?.train?.loss != null && Number.isFinite(r.train.loss) ? { trainLoss: r.train.loss } : {}),
      ...(r?.epochs !== undefined ? { epochsDone: r.epochs } : {}),
    }];
  });
}

export type OptimumRule = 'validationAccuracy' | 'testAccuracy' | 'trainLoss';

/** A seed's optimum in one group: its run, and whether its ε is the smallest or largest the group tried. */
export interface SeedOptimum {
  seed: number;
  lr: number;
  run: SmithRun;
  edge: boolean;
}

const score = (r: SmithRun, rule: OptimumRule): number => {
  const v = rule === 'trainLoss' ? (r.trainLoss === undefined ? undefined : -r.trainLoss) : r[rule];
  return v === undefined || !Number.isFinite(v) ? -Infinity : v;
};

/** Per seed, the completed run of a group (one B, budget, momentum) that is best by `rule`; ties go to the smaller ε. */
export function seedOptima(group: readonly SmithRun[], rule: OptimumRule): SeedOptimum[] {
  const lrs = group.map((r) => r.lr);
  const [lo, hi] = [Math.min(...lrs), Math.max(...lrs)];
  const seeds = [...new Set(group.map((r) => r.seed))].sort((a, b) => a - b);
  return seeds.flatMap((seed) => {
    const mine = group.filter((r) => r.seed === seed && r.completed && score(r, rule) > -Infinity).sort((a, b) => a.lr - b.lr);
    if (mine.length === 0) return [];
    const best = mine.reduce((a, b) => (score(b, rule) > score(a, rule) ? b : a));
    return [{ seed, lr: best.lr, run: best, edge: lrs.length > 1 && (best.lr === lo || best.lr === hi) }];
  });
}

/** log₂ of the optima over seeds as mean ± std. */
const log2Stat = (xs: readonly number[]): Stat => stat(xs.map(Math.log2));

/** ε = 2^(mean ± std) over n seeds; one seed: its value. */
export function formatLog2(s: Stat): string {
  if (s.n === 0 || !Number.isFinite(s.mean)) return '–';
  const k = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2)).replace('-', '−');
  return s.n === 1 ? `2^${k(s.mean)}` : `2^(${k(s.mean)} ± ${s.std.toFixed(2)})`;
}

/** A factor as 2^(mean ± std) with its value (×4.0). */
/** A movement of 2^(mean ± std) as a factor with its direction: "up ×3.2" or "down ×3.2". */
const formatMove = (s: Stat): string => (Number.isFinite(s.mean) ? `${s.mean < 0 ? 'down' : 'up'} ×${(2 ** Math.abs(s.mean)).toPrecision(2)} (${formatLog2(s)}, n = ${s.n})` : '–');

const pct = (s: Stat): string => (Number.isFinite(s.mean) ? `${(100 * s.mean).toFixed(2)}%${s.n > 1 ? ` ± ${(100 * s.std).toFixed(2)}` : ''} (n = ${s.n})` : '–');

/** The difference a − b of two means over independent seeds and its standard error √(s_a²/n_a + s_b²/n_b). */
export function meanDifference(a: Stat, b: Stat): { diff: number; se: number } {
  return { diff: a.mean - b.mean, se: Math.sqrt((a.n > 0 ? a.std ** 2 / a.n : 0) + (b.n > 0 ? b.std ** 2 / b.n : 0)) };
}

/** Whether a difference is beyond 2 standard errors (with no spread: any difference is). */
const beyond = (d: { diff: number; se: number }) => Math.abs(d.diff) > 2 * d.se && d.diff !== 0;
const inPoints = (d: { diff: number; se: number }) => `${d.diff >= 0 ? '+' : '−'}${(100 * Math.abs(d.diff)).toFixed(2)} ± ${(100 * d.se).toFixed(2)} points`;

const budgetOf = (r: SmithRun): string => budgetLabel(r.epochs !== undefined ? { epochs: r.epochs } : { steps: r.steps });

/** Runs grouped by a key, in insertion order. */
function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) out.set(key(x), [...(out.get(key(x)) ?? []), x]);
  return out;
}

/** One batch size of a sweep: its optima per seed by the study's rule and by training loss. */
export interface SweepPoint {
  batchSize: number;
  runs: SmithRun[];
  best: SeedOptimum[];
  byTrainLoss: SeedOptimum[];
}

/** The batch-size sweep of one momentum and budget: runs at two or more batch sizes, by increasing B. */
function sweep(runs: readonly SmithRun[], rule: OptimumRule): SweepPoint[] {
  return [...groupBy(runs, (r) => String(r.batchSize))].map(([, g]) => ({ batchSize: g[0]!.batchSize, runs: g, best: seedOptima(g, rule), byTrainLoss: seedOptima(g, 'trainLoss') }))
    .filter((p) => p.best.length > 0).sort((a, b) => a.batchSize - b.batchSize);
}

const testStat = (o: readonly SeedOptimum[]) => stat(o.map((x) => x.run.testAccuracy ?? NaN));
/** The batch sizes whose optimum (in some seed) is the smallest or largest ε tried: the grid does not bound it there. */
const edgeSizes = (ps: readonly SweepPoint[]): number[] => ps.filter((p) => p.best.some((o) => o.edge)).map((p) => p.batchSize);
const edgeNote = (at: readonly string[]) => (at.length > 0 ? ` Optimum on the grid's edge at ${at.join('; ')}: the grid does not bound it there.` : '');
const sizesNote = (ps: readonly SweepPoint[]) => edgeNote(edgeSizes(ps).length > 0 ? [`B = ${edgeSizes(ps).join(', ')}`] : []);

/**
 * A verdict read from optima of which some lie on the grid's edge is not settled: the true optimum may lie
 * beyond, and the slope, ratio or difference with it.
 */
const unlessOnEdge = (verdict: string, edge: boolean) => (edge ? `not settled (${verdict} within the grid; an optimum on its edge)` : verdict);

/** The slope of log₂ ε_opt over log₂ B between two batch sizes, per seed present at both. */
function slope(a: SweepPoint, b: SweepPoint): Stat {
  const seeds = a.best.map((o) => o.seed).filter((s) => b.best.some((o) => o.seed === s));
  const at = (p: SweepPoint, s: number) => p.best.find((o) => o.seed === s)!.lr;
  return stat(seeds.map((s) => (Math.log2(at(b, s)) - Math.log2(at(a, s))) / (Math.log2(b.batchSize) - Math.log2(a.batchSize))));
}

const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/** The critical batch size per seed (figures.ts linearScalingBoundary; none: ε_opt ∝ B throughout). */
export function criticalBatchSizes(points: readonly SweepPoint[]): (number | undefined)[] {
  const seeds = [...new Set(points.flatMap((p) => p.best.map((o) => o.seed)))].sort((a, b) => a - b);
  return seeds.map((s) => linearScalingBoundary(points.flatMap((p) => p.best.filter((o) => o.seed === s).map((o) => ({ batchSize: p.batchSize, bestLr: o.lr })))));
}

/** The middle of the critical batch sizes over seeds (none counts as beyond the largest B). */
const medianBatch = (bs: readonly (number | undefined)[], largest: number): number => {
  const s = bs.map((b) => b ?? 2 * largest).sort((a, b) => a - b);
  return s[(s.length - 1) >> 1]!;
};

type Row = string[];

function constantEpochRows(points: readonly SweepPoint[], budget: string): Row[] {
  if (points.length < 3) return [];
  const first = slope(points[0]!, points[1]!);
  const last = slope(points.at(-2)!, points.at(-1)!);
  const optima = points.map((p) => `B = ${p.batchSize}: ${formatLog2(log2Stat(p.best.map((o) => o.lr)))}`).join('; ');
  const lrVerdict = first.mean >= 0.75 && last.mean <= 0.25 ? 'reproduced' : first.mean > last.mean + 0.5 ? 'partly' : 'not reproduced';
  const critical = criticalBatchSizes(points);
  const largest = points.at(-1)!.batchSize;
  const bStar = medianBatch(critical, largest);
  const seedsB = critical.map((b) => (b === undefined ? `none ≤ ${largest}` : String(b))).join(', ');
  const accs = points.map((p) => ({ batchSize: p.batchSize, acc: testStat(p.best) }));
  const top = accs.reduce((a, b) => (b.acc.mean > a.acc.mean ? b : a));
  const below = accs.filter((a) => a.batchSize < bStar);
  const flat = below.every((a) => !beyond(meanDifference(top.acc, a.acc)));
  const fall = meanDifference(top.acc, accs.at(-1)!.acc);
  const falls = top.batchSize !== accs.at(-1)!.batchSize && beyond(fall) && fall.diff > 0;
  const accVerdict = flat && falls ? 'reproduced' : falls ? 'partly' : 'not reproduced';
  return [
    [`1. constant epochs (${budget}): ε_opt ∝ B, then flat`, 'slope 1 of log ε_opt vs log B below the critical batch size, 0 above it',
      `${optima}. Slope ${fmt(first.mean)} ± ${fmt(first.std)} from B = ${points[0]!.batchSize} to ${points[1]!.batchSize}, ${fmt(last.mean)} ± ${fmt(last.std)} from ${points.at(-2)!.batchSize} to ${largest} (n = ${first.n})`,
      unlessOnEdge(lrVerdict, edgeSizes(points).length > 0), `reproduced: first slope ≥ 0.75 and last ≤ 0.25 (the grid resolves slopes to 0.5); partly: the slope falls by more than 0.5.${sizesNote(points)}`],
    [`1. constant epochs (${budget}): the critical batch size`, 'ε_opt stops growing and test accuracy starts to fall at one B',
      `B* = ${bStar > largest ? `beyond ${largest}` : bStar} (per seed: ${seedsB})`,
      unlessOnEdge(bStar > largest ? 'not reproduced' : new Set(critical).size === 1 ? 'reproduced' : 'partly', edgeSizes(points).length > 0),
      'B* per seed: the first B whose ε_opt is below half the linear-scaling line from the smallest B; reproduced: every seed the same B*, partly: the seeds differ (the uncertainty is their range).'],
    [`1. constant epochs (${budget}): test accuracy flat, then falling`, 'flat up to the critical batch size, falling beyond it',
      `${accs.map((a) => `B = ${a.batchSize}: ${pct(a.acc)}`).join('; ')}. Best at B = ${top.batchSize}; B = ${largest} − B = ${top.batchSize}: ${inPoints({ diff: -fall.diff, se: fall.se })}`,
      unlessOnEdge(accVerdict, edgeSizes(points).length > 0), `flat: every B < B* within 2 standard errors of the best; falling: the largest B more than 2 below it.${sizesNote(points)}`],
  ];
}

function constantStepRows(points: readonly SweepPoint[], steps: number): Row[] {
  if (points.length < 2) return [];
  const accs = points.map((p) => ({ p, acc: testStat(p.best), loss: stat(p.byTrainLoss.map((o) => o.run.trainLoss ?? NaN)) }));
  const largest = accs.at(-1)!;
  const top = accs.slice(0, -1).reduce((a, b) => (b.acc.mean > a.acc.mean ? b : a));
  const d = meanDifference(top.acc, largest.acc);
  const wins = d.diff > 0 && beyond(d);
  const lowerLoss = largest.loss.mean < top.loss.mean;
  // "Long enough": how often the smallest batch saw the training set in the budget (the trainer's count).
  const passes = points[0]!.best[0]!.run.epochsDone;
  const seen = passes === undefined ? '' : ` In ${steps} steps B = ${points[0]!.batchSize} sees the training set ${fmt(passes, 1)} times.`;
  return [[`2. constant steps (${steps}): small or moderate B beats the largest on the test set`, 'yes, even where the largest batch reaches a lower training loss',
    `${accs.map((a) => `B = ${a.p.batchSize}: ${pct(a.acc)}, lowest training loss ${fmt(a.loss.mean, 4)} ± ${fmt(a.loss.std, 4)}`).join('; ')}. B = ${top.p.batchSize} − B = ${largest.p.batchSize}: ${inPoints(d)}.${seen}`,
    unlessOnEdge(wins ? 'reproduced' : d.diff > 0 ? 'partly' : 'not reproduced', edgeSizes(points).length > 0),
    `reproduced: the best smaller B beats the largest by more than 2 standard errors (partly: ahead within them); the largest B ${lowerLoss ? 'does' : 'does not'} reach the lower training loss.${sizesNote(points)}`]];
}

function epochBudgetRows(runs: readonly SmithRun[], rule: OptimumRule): Row[] {
  const byBudget = [...groupBy(runs, (r) => String(r.epochs))].map(([, g]) => ({ epochs: g[0]!.epochs!, best: seedOptima(g, rule), byTrainLoss: seedOptima(g, 'trainLoss') }))
    .filter((b) => b.best.length > 0).sort((a, b) => a.epochs - b.epochs);
  if (byBudget.length < 3) return [];
  const seeds = [...new Set(byBudget.flatMap((b) => b.best.map((o) => o.seed)))].sort((a, b) => a - b);
  const span = byBudget.at(-1)!.epochs / byBudget[0]!.epochs;
  // Per seed, how far the optimal ε moves over the budgets: the least-squares trend of log₂ ε_opt against
  // log₂ budget times log₂ of the span, in powers of 2 (negative: it falls as the budget grows). The
  // trend, not the largest over the smallest optimum, which the grid's one-step jitter of a seed's optimum
  // inflates (on a flat optimum, one seed's extremes are 2–3 steps apart).
  const movement = (pick: (b: (typeof byBudget)[number]) => SeedOptimum[]) => stat(seeds.map((s) => {
    const points = byBudget.flatMap((b) => pick(b).filter((o) => o.seed === s).map((o) => ({ x: Math.log2(b.epochs), y: Math.log2(o.lr) })));
    return leastSquaresSlope(points) * Math.log2(span);
  }));
  const test = movement((b) => b.best);
  const train = movement((b) => b.byTrainLoss);
  const list = (pick: (b: (typeof byBudget)[number]) => SeedOptimum[]) => byBudget.map((b) => `${b.epochs}: ${formatLog2(log2Stat(pick(b).map((o) => o.lr)))}`).join('; ');
  const edges = byBudget.filter((b) => [...b.best, ...b.byTrainLoss].some((o) => o.edge)).map((b) => String(b.epochs));
  // Moves further: |train| exceeds |test| by more than 2 standard errors of the difference over seeds.
  const se = (x: Stat) => x.std / Math.sqrt(x.n);
  const further = Math.abs(train.mean) - Math.abs(test.mean) > 2 * Math.hypot(se(train), se(test));
  // Partly: the training-loss optimum moves (more than 2 standard errors from 0) and further than the test one, if not by 2 of them.
  const trainMoves = Math.abs(train.mean) > 2 * se(train) && Math.abs(train.mean) > Math.abs(test.mean);
  const verdict = Math.abs(test.mean) <= 2 && Math.abs(train.mean) >= 3 && further ? 'reproduced' : further || trainMoves ? 'partly' : 'not reproduced';
  const b = runs[0]!.batchSize;
  return [[`3. epoch budget at B = ${b} (${byBudget[0]!.epochs} … ${byBudget.at(-1)!.epochs} epochs, ${span}×)`, '128× the budget: the test-optimal ε moves about 2×, the training-loss-optimal ε about 16× (Wide-ResNet, CIFAR-10)',
    `test-optimal ε moves ${formatMove(test)}, by budget ${list((x) => x.best)}; training-loss-optimal ε moves ${formatMove(train)}, by budget ${list((x) => x.byTrainLoss)}`,
    unlessOnEdge(verdict, edges.length > 0), `per seed, the least-squares trend of log₂ ε_opt over log₂ budget across the ${span}× range; reproduced: the test-optimal ε moves at most 4× and the training-loss-optimal ε 8× or more, further than it by 2 standard errors; partly: the training-loss-optimal ε moves (beyond 2 standard errors of 0) and further than the test-optimal one.${edgeNote(edges.length > 0 ? [`${edges.join(', ')} epochs`] : [])}`]];
}

function momentumRows(withM: readonly SweepPoint[], without: readonly SweepPoint[], m: number, budget: string): Row[] {
  const pairs = withM.flatMap((a) => without.filter((b) => b.batchSize === a.batchSize).map((b) => ({ batchSize: a.batchSize, a, b })));
  if (pairs.length < 2) return [];
  const diffs = pairs.map((p) => ({ ...p, d: meanDifference(testStat(p.a.best), testStat(p.b.best)) }));
  const [small, large] = [diffs[0]!, diffs.at(-1)!];
  const same = !beyond(small.d);
  const ahead = large.d.diff > 0 && beyond(large.d);
  const eff = (p: SweepPoint, mm: number) => formatLog2(stat(p.best.map((o) => Math.log2(o.lr / (1 - mm)))));
  return [[`4. SGD vs momentum ${m} at the same ε/(1 − m) (${budget})`, 'the same in the noise-dominated regime (small B), momentum ahead at large B',
    diffs.map((p) => `B = ${p.batchSize}: momentum − SGD ${inPoints(p.d)}, ε_opt/(1 − m) ${eff(p.a, m)} vs ${eff(p.b, 0)}`).join('; '),
    unlessOnEdge(same && ahead ? 'reproduced' : same || ahead ? 'partly' : 'not reproduced', edgeSizes(withM).length + edgeSizes(without).length > 0),
    `same: the smallest B within 2 standard errors; ahead: momentum more than 2 above at the largest B.${edgeNote([...(edgeSizes(withM).length > 0 ? [`momentum ${m}, B = ${edgeSizes(withM).join(', ')}`] : []), ...(edgeSizes(without).length > 0 ? [`SGD, B = ${edgeSizes(without).join(', ')}`] : [])])}`]];
}

/**
 * The claims table, for the series (model, data, …) with the most runs: the constant-epoch sweep (the epoch budget run at the most batch sizes) and the
 * constant-step sweep of the largest momentum, the batch size run at the most epoch budgets, and SGD
 * without momentum beside the momentum sweep at the same budget. Claims the study did not run are left out.
 */
export function smithClaimsTable(d: ReportData): Table[] {
  const all = smithRuns(d.trials);
  if (all.length === 0) return [];
  // One network and dataset: the series with the most runs (the quick size's MLP, not its LeNet-5 beside it).
  const series = [...groupBy(all, (r) => r.series)].sort((a, b) => b[1].length - a[1].length)[0]!;
  const runs = series[1];
  const rule: OptimumRule = d.study.select;
  const m = Math.max(...runs.map((r) => r.momentum));
  const main = runs.filter((r) => r.momentum === m);
  const budgets = [...groupBy(main, budgetOf)].map(([label, g]) => ({ label, g, sizes: new Set(g.map((r) => r.batchSize)).size }));
  const epochSweep = budgets.filter((b) => b.g[0]!.epochs !== undefined && b.sizes >= 3).sort((a, b) => b.sizes - a.sizes)[0];
  const stepSweep = budgets.filter((b) => b.g[0]!.steps !== undefined && b.sizes >= 2).sort((a, b) => b.sizes - a.sizes)[0];
  const epochRuns = [...groupBy(main.filter((r) => r.epochs !== undefined), (r) => String(r.batchSize))].map(([, g]) => g).sort((a, b) => new Set(b.map((r) => r.epochs)).size - new Set(a.map((r) => r.epochs)).size)[0];
  const sgd = epochSweep && m > 0 ? runs.filter((r) => r.momentum === 0 && budgetOf(r) === epochSweep.label) : [];
  const rows: Row[] = [
    ...(epochSweep ? constantEpochRows(sweep(epochSweep.g, rule), epochSweep.label) : []),
    ...(stepSweep ? constantStepRows(sweep(stepSweep.g, rule), stepSweep.g[0]!.steps!) : []),
    ...(epochRuns ? epochBudgetRows(epochRuns, rule) : []),
    ...(sgd.length > 0 ? momentumRows(sweep(epochSweep!.g, rule), sweep(sgd, rule), m, epochSweep!.label) : []),
  ];
  if (rows.length === 0) return [];
  return [{
    id: 'smith-claims', title: `Smith, Elsen & De 2020: the claims, the paper beside sgdlab (optima per seed, mean ± std over seeds${series[0] ? `; ${series[0]}` : ''})`,
    columns: ['claim', 'paper', 'sgdlab (mean ± std, n)', 'verdict', 'rule'],
    rows,
  }];
}
