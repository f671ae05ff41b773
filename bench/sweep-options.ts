/**
 * The options of `npm run bench:sweep` (bench/sweep.ts) and the sgdlab study each variant runs: the
 * full grid, or the same grid under the study's own `prune` option (src/study/pruning.ts: the median
 * stopping rule or ASHA, per batch size: the learning rates of one batch size compete).
 *
 *   --variants=full,median,asha   sgdlab's variants, each run back to back with the PyTorch loop (default full);
 *                                 each also packed: packed, median-packed, asha-packed (the study's `pack`
 *                                 option: trials of one batch size trained K at a time when that is faster)
 *   --pack=faster|always          how a packed variant packs (default faster: measured per batch size)
 *   --pack-members=8              K, the most trials in one pack
 *   --rungs=1,2,4,8               the rules' rungs in epochs (default: the rule's own, from --grace)
 *   --grace=1                     the grace period in epochs (ASHA's minimum resource r; median: no stop before it)
 *   --eta=4                       ASHA's reduction factor η (asha only)
 *   --every=E                     median: epochs between rungs after the grace period (median only)
 *   --min-trials=3                median: other trials that must have reached a rung (median only)
 *   --prune-metric=testAccuracy   what the rules rank by (default: the sweep's selection, testAccuracy)
 *   --first=sgdlab|pytorch        which side runs first in round 1 (later rounds alternate; default sgdlab)
 *   --lr-order=ascending|descending  the order of the learning rates in the grid: the order trials are
 *                                 claimed in within a batch size (the store claims in insertion order),
 *                                 on both sides (the loop hands out its trials in the same order)
 */
import { PRUNE_METRICS, type PruneMetric } from '../src/study/pruning.js';
import { parseStudy, type Study } from '../src/study/schema.js';

/** The ladder of learning rates: 13 factors of 2, 2⁻⁸ … 2⁴. */
export const LR_LADDER = Array.from({ length: 13 }, (_, i) => 2 ** (i - 8));
export const DEFAULT_BATCH_SIZES = Array.from({ length: 9 }, (_, i) => 16 * 2 ** i);

export const VARIANTS = ['full', 'median', 'asha', 'packed', 'median-packed', 'asha-packed'] as const;
export type Variant = (typeof VARIANTS)[number];
export type PruneVariant = 'median' | 'asha';

/** A variant's pruning rule (none for the full grid) and whether it packs. */
export function variantParts(v: Variant): { rule: PruneVariant | undefined; packed: boolean } {
  const packed = v.endsWith('packed');
  const rule = v.replace(/-?packed$/, '');
  return { rule: rule === 'median' || rule === 'asha' ? rule : undefined, packed };
}
const pruned = (v: Variant) => variantParts(v).rule !== undefined;

/** The pruning rules' parameters, in epochs; each undefined one is the rule's default (pruning.ts). */
export interface PruneOptions {
  rungs?: number[];
  grace: number;
  eta?: number;
  every?: number;
  minTrials?: number;
  metric?: PruneMetric;
}

export interface Options {
  batchSizes: number[];
  /** In the grid's (claim) order: see --lr-order. */
  lrs: number[];
  epochs: number;
  subset: number;
  rounds: number;
  workers: number;
  seed: number;
  variants: Variant[];
  prune: PruneOptions;
  /** How the packed variants pack (the study's pack option). */
  pack: { when: 'faster' | 'always'; maxMembers: number };
  lrOrder: 'ascending' | 'descending';
  /** The side that runs first in odd rounds (the other one first in even rounds). */
  first: 'sgdlab' | 'pytorch';
  json: boolean;
}

const KNOWN = ['batch-sizes', 'lrs', 'epochs', 'subset', 'rounds', 'workers', 'seed', 'variants', 'rungs', 'grace', 'eta', 'every', 'min-trials', 'prune-metric', 'lr-order', 'first', 'pack', 'pack-members'];

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

function positiveNumber(args: readonly string[], name: string, min = 0): number | undefined {
  const raw = flag(args, name);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!(raw.trim() !== '' && Number.isFinite(v) && v > min)) throw new Error(`--${name}: '${raw}' is not a number > ${min}`);
  return v;
}

/** A comma-separated list chosen from `allowed`, each at most once. */
function choices<T extends string>(args: readonly string[], name: string, allowed: readonly T[], fallback: T[]): T[] {
  const raw = flag(args, name);
  if (raw === undefined) return fallback;
  const items = raw.split(',');
  const bad = items.filter((v) => !(allowed as readonly string[]).includes(v));
  if (bad.length > 0) throw new Error(`--${name}: '${bad.join(',') || raw}' is not one of ${allowed.join(', ')} (give a comma-separated list, e.g. --${name}=${allowed.slice(0, 2).join(',')})`);
  const twice = items.find((v, i) => items.indexOf(v) !== i);
  if (twice !== undefined) throw new Error(`--${name}: '${twice}' is listed twice in '${raw}'`);
  return items as T[];
}

function parsePrune(args: readonly string[], variants: readonly Variant[]): PruneOptions {
  const rawRungs = flag(args, 'rungs');
  let rungs: number[] | undefined;
  if (rawRungs !== undefined) {
    rungs = rawRungs.split(',').map((v) => (v.trim() === '' ? NaN : Number(v)));
    if (rungs.some((v) => !(Number.isFinite(v) && v > 0)) || rungs.some((v, i) => i > 0 && v <= rungs![i - 1]!)) {
      throw new Error(`--rungs: expected increasing positive epochs separated by commas (e.g. --rungs=1,2,4), got '${rawRungs}'`);
    }
  }
  const eta = positiveNumber(args, 'eta', 1);
  const every = positiveNumber(args, 'every');
  const rawMin = flag(args, 'min-trials');
  const minTrials = rawMin === undefined ? undefined : positiveInt(args, 'min-trials', 3);
  const rawMetric = flag(args, 'prune-metric');
  if (rawMetric !== undefined && !(PRUNE_METRICS as readonly string[]).includes(rawMetric)) throw new Error(`--prune-metric: '${rawMetric}' is not one of ${PRUNE_METRICS.join(', ')}`);
  // A rule's parameter without that rule among the variants would change nothing: say so rather than ignore it.
  const needs: [string, unknown, PruneVariant][] = [['eta', eta, 'asha'], ['every', every, 'median'], ['min-trials', minTrials, 'median']];
  for (const [name, value, rule] of needs) {
    if (value !== undefined && !variants.some((v) => variantParts(v).rule === rule)) throw new Error(`--${name}: a parameter of the ${rule} rule, but --variants=${variants.join(',')} runs no ${rule} variant`);
  }
  for (const name of ['rungs', 'grace', 'prune-metric']) {
    if (flag(args, name) !== undefined && !variants.some(pruned)) throw new Error(`--${name}: a pruning parameter, but --variants=${variants.join(',')} runs no pruned variant (add median or asha)`);
  }
  return {
    grace: positiveNumber(args, 'grace') ?? 1,
    ...(rungs ? { rungs } : {}),
    ...(eta !== undefined ? { eta } : {}),
    ...(every !== undefined ? { every } : {}),
    ...(minTrials !== undefined ? { minTrials } : {}),
    ...(rawMetric !== undefined ? { metric: rawMetric as PruneMetric } : {}),
  };
}

export function parseOptions(args: readonly string[]): Options {
  for (const a of args) {
    if (a === '--json') continue;
    const name = /^--([a-z-]+)=/.exec(a)?.[1];
    if (!name || !KNOWN.includes(name)) throw new Error(`unknown argument '${a}': expected --json or --NAME=VALUE with NAME one of ${KNOWN.join(', ')}`);
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
  const [lrOrder] = choices(args, 'lr-order', ['ascending', 'descending'] as const, ['ascending']);
  if (flag(args, 'lr-order') !== undefined && lrOrder === undefined) throw new Error('--lr-order: give one of ascending, descending');
  if ((flag(args, 'lr-order') ?? '').includes(',')) throw new Error(`--lr-order: give one of ascending, descending, got '${flag(args, 'lr-order')}'`);
  const first = flag(args, 'first') ?? 'sgdlab';
  if (first !== 'sgdlab' && first !== 'pytorch') throw new Error(`--first: '${first}' is not one of sgdlab, pytorch`);
  lrs = [...lrs].sort((a, b) => (lrOrder === 'descending' ? b - a : a - b));
  const subset = positiveInt(args, 'subset', 10_000);
  if (subset > 60_000) throw new Error(`--subset: ${subset} exceeds MNIST's 60,000 training images`);
  const tooLarge = batchSizes.filter((b) => b > subset);
  if (tooLarge.length > 0) throw new Error(`--batch-sizes: ${tooLarge.join(', ')} exceed the ${subset} training images of --subset`);
  const variants = choices(args, 'variants', VARIANTS, ['full']);
  const epochs = positiveInt(args, 'epochs', 16);
  const prune = parsePrune(args, variants);
  // A rung at or past the end decides nothing (rungPoints keeps the points inside the run): a rule with none prunes nothing.
  if (prune.rungs && prune.rungs[0]! >= epochs) throw new Error(`--rungs: ${prune.rungs.join(',')} has no rung inside the ${epochs} epochs of the run`);
  if (!prune.rungs && prune.grace >= epochs && variants.some(pruned)) throw new Error(`--grace: ${prune.grace} epochs is not inside the ${epochs} epochs of the run (no rule could stop anything)`);
  const [when] = choices(args, 'pack', ['faster', 'always'] as const, ['faster']);
  if ((flag(args, 'pack') ?? '').includes(',')) throw new Error(`--pack: give one of faster, always, got '${flag(args, 'pack')}'`);
  const maxMembers = positiveInt(args, 'pack-members', 8, 2);
  if (maxMembers > 64) throw new Error(`--pack-members: ${maxMembers} is more than the 64 a pack may hold`);
  for (const name of ['pack', 'pack-members']) {
    if (flag(args, name) !== undefined && !variants.some((v) => variantParts(v).packed)) throw new Error(`--${name}: a packing parameter, but --variants=${variants.join(',')} runs no packed variant (add packed, median-packed or asha-packed)`);
  }
  return {
    batchSizes, lrs, subset, epochs, variants, prune, lrOrder, first, pack: { when: when!, maxMembers },
    rounds: positiveInt(args, 'rounds', 1),
    workers: positiveInt(args, 'workers', 2),
    seed: positiveInt(args, 'seed', 0, 0),
    json: args.includes('--json'),
  };
}

/** The `prune` option of a variant's study (none for the full grid): the study's own rule, in epochs, per batch size. */
export function pruneOption(variant: Variant, p: PruneOptions): Record<string, unknown> | undefined {
  const { rule } = variantParts(variant);
  if (rule === undefined) return undefined;
  return {
    rule,
    unit: 'epochs',
    gracePeriod: p.grace,
    across: ['optimizer.lr'],
    ...(p.rungs ? { rungs: p.rungs } : {}),
    ...(p.metric ? { metric: p.metric } : {}),
    ...(rule === 'asha' && p.eta !== undefined ? { reductionFactor: p.eta } : {}),
    ...(rule === 'median' && p.every !== undefined ? { every: p.every } : {}),
    ...(rule === 'median' && p.minTrials !== undefined ? { minTrials: p.minTrials } : {}),
  };
}

/** The sweep as an sgdlab study: one seed, evaluation only at the end (as the loop), best lr by test accuracy. */
export function sweepStudy(o: Options, variant: Variant = 'full'): Study {
  const prune = pruneOption(variant, o.prune);
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
    ...(prune ? { prune } : {}),
    ...(variantParts(variant).packed ? { pack: o.pack } : {}),
  }, `bench sweep, variant ${variant}`);
}
