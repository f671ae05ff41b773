/**
 * Pruning a grid's hopeless trials early: the study option `prune` and its two rules, as pure functions
 * (no I/O) that the worker asks at each rung with the rung values its store has kept.
 *
 *   prune:
 *     rule: asha                # or median
 *     metric: validationAccuracy  # default: the study's `select`; direction from the metric (accuracy max, loss min)
 *     unit: epochs              # rungs, grace period and interval in epochs (default) or steps
 *     gracePeriod: 1            # ASHA: the first rung (Li et al.'s minimum resource r); median: no stop before it
 *     reductionFactor: 4        # ASHA's η: rungs r·η^k, and the top 1/η of a rung continues
 *     across: [optimizer.lr]    # the axes whose trials compete: a group is one value of every other coordinate
 *
 * ASHA (Li et al. 2020, "A System for Massively Parallel Hyperparameter Tuning", Alg. 2) in its
 * stopping form (Ray Tune's ASHAScheduler, Optuna's SuccessiveHalvingPruner): at rung k a trial
 * continues if it is among the top ⌊n/η⌋ of the n trials of its group that reached rung k (itself
 * included); while n < η, only the best so far continues (Optuna's convention for the first trials).
 *
 * Median stopping (Golovin et al. 2017, "Google Vizier", §3.2.2): at a rung after the grace period, a
 * trial stops if its best value so far is strictly worse than the median of the other trials' running
 * averages up to that rung (the mean of their values at rungs 0…k), once at least `minTrials` other
 * trials of the group have reached the rung.
 *
 * Rungs are counted per trial: rung k of every trial of a group is the same point in its run (the same
 * epoch or step), so decisions compare values by rung index.
 */
import { z } from 'zod';
import { median } from '../theory/statistics.js';

/** The metrics a rule can rank by: an evaluation of the run at the rung (train: the whole training set). */
export const PRUNE_METRICS = ['validationAccuracy', 'testAccuracy', 'trainLoss', 'validationLoss', 'testLoss'] as const;
export type PruneMetric = (typeof PRUNE_METRICS)[number];

export const pruneSchema = z.strictObject({
  rule: z.enum(['asha', 'median']),
  metric: z.enum(PRUNE_METRICS).optional(),
  /** Whether larger values are better (default: max for accuracies, min for losses). */
  direction: z.enum(['max', 'min']).optional(),
  unit: z.enum(['epochs', 'steps']).default('epochs'),
  /** ASHA: the first rung (minimum resource r); median: no trial stops before it. In `unit`. */
  gracePeriod: z.number().positive(),
  /** ASHA's η (Li et al. and Optuna use 4, Ray Tune 4; Hyperband's analysis 3). */
  reductionFactor: z.number().gt(1).default(4),
  /** Explicit rungs in `unit`, increasing (ASHA default: gracePeriod·η^k; median: gracePeriod + k·every). */
  rungs: z.array(z.number().positive()).min(1).optional(),
  /** Median: the interval between rungs after the grace period, in `unit` (default: the grace period). */
  every: z.number().positive().optional(),
  /** Median: other trials that must have reached the rung before it stops anything (Ray Tune's min_samples_required). */
  minTrials: z.number().int().positive().default(3),
  /** Grid axes whose trials compete; every other coordinate (batch size, seed, budget, …) separates groups. */
  across: z.array(z.string().min(1)).min(1).default(['optimizer.lr']),
}).refine((p) => !p.rungs || p.rungs.every((r, i) => i === 0 || r > p.rungs![i - 1]!), { message: '`rungs` must increase', path: ['rungs'] });

export type PruneRule = z.output<typeof pruneSchema>;
export type PruneDirection = 'max' | 'min';

/** The metric a rule ranks by: its own, or the study's selection rule. */
export const pruneMetric = (rule: PruneRule, select: 'validationAccuracy' | 'testAccuracy' | 'trainLoss'): PruneMetric => rule.metric ?? select;
/** The split a metric is measured on: what a trial's rung pause evaluates (prune-trial.ts). */
export const pruneMetricSplit = (metric: PruneMetric): 'train' | 'validation' | 'test' => (metric.startsWith('validation') ? 'validation' : metric.startsWith('test') ? 'test' : 'train');
export const pruneDirection = (rule: PruneRule, metric: PruneMetric): PruneDirection => rule.direction ?? (metric.endsWith('Accuracy') ? 'max' : 'min');

/** The name of the metric row a trial's rung value is stored under (store.addMetrics; its step is the rung's step). */
export const rungMetricName = (metric: PruneMetric) => `rung:${metric}`;

/** The rungs of a run `limit` long (in the rule's unit): the points strictly inside the run where the rule decides. */
export function rungPoints(rule: PruneRule, limit: number): number[] {
  const out: number[] = [];
  const inside = (x: number) => x < limit * (1 - 1e-9);
  if (rule.rungs) return rule.rungs.filter(inside);
  for (let k = 0; ; k++) {
    const x = rule.rule === 'asha' ? rule.gracePeriod * rule.reductionFactor ** k : rule.gracePeriod + k * (rule.every ?? rule.gracePeriod);
    if (!inside(x)) return out;
    out.push(x);
  }
}

/** A trial's group: its coordinates other than the competing axes (canonical: sorted by name). */
export function pruneGroup(rule: PruneRule, coordinates: Record<string, unknown>): string {
  const across = new Set(rule.across);
  return JSON.stringify(Object.keys(coordinates).filter((k) => !across.has(k)).sort().map((k) => [k, coordinates[k]]));
}

/** A value on the "larger is better" scale; a missing or non-finite value is the worst. */
const goodness = (v: number | null | undefined, direction: PruneDirection): number =>
  v === null || v === undefined || !Number.isFinite(v) ? -Infinity : direction === 'max' ? v : -v;

/** Whether a trial stops at rung k. `own` its values at rungs 0…k; `others` those of the other trials of its group (rungs they reached). */
export interface PruneQuestion {
  rung: number;
  own: readonly number[];
  others: readonly (readonly number[])[];
}

export type PruneVerdict = { prune: false } | { prune: true; why: string };

/** ASHA at rung k: continue iff among the top max(1, ⌊n/η⌋) of the n trials at rung k (itself included, ties in its favour). */
export function ashaDecision(rule: PruneRule, direction: PruneDirection, q: PruneQuestion): PruneVerdict {
  const mine = goodness(q.own[q.rung], direction);
  const at = q.others.filter((o) => o.length > q.rung).map((o) => goodness(o[q.rung], direction));
  const n = at.length + 1;
  const promoted = Math.max(1, Math.floor(n / rule.reductionFactor));
  const better = at.filter((v) => v > mine).length;
  if (better < promoted) return { prune: false };
  return { prune: true, why: `asha: ${better} of the ${n} trials of its group at rung ${q.rung} are better; the top ${promoted} (1/${rule.reductionFactor}) continue` };
}

/** Golovin et al.'s median stopping rule at rung k (the grace period is already in the rungs: the first rung is at it). */
export function medianDecision(rule: PruneRule, direction: PruneDirection, q: PruneQuestion): PruneVerdict {
  const reached = q.others.filter((o) => o.length > q.rung);
  if (reached.length < rule.minTrials) return { prune: false };
  const best = Math.max(...q.own.slice(0, q.rung + 1).map((v) => goodness(v, direction)));
  const averages = reached.map((o) => {
    const values = o.slice(0, q.rung + 1).map((v) => goodness(v, direction));
    return values.reduce((a, b) => a + b, 0) / values.length;
  });
  const m = median(averages);
  if (!(best < m)) return { prune: false };
  return { prune: true, why: `median: its best ${direction === 'max' ? best : -best} by rung ${q.rung} is worse than the median ${direction === 'max' ? m : -m} of the running averages of ${reached.length} other trials` };
}

export function pruneDecision(rule: PruneRule, direction: PruneDirection, q: PruneQuestion): PruneVerdict {
  if (q.own.length <= q.rung) throw new Error(`pruneDecision: the trial has ${q.own.length} rung values, none at rung ${q.rung}`);
  return rule.rule === 'asha' ? ashaDecision(rule, direction, q) : medianDecision(rule, direction, q);
}
