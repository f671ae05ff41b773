/**
 * Training a claimed trial under the study's pruning rule (pruning.ts): the run pauses at each rung
 * (train/trainer.ts's pauseAfter: a snapshot, the evaluation at that step), the worker reports the
 * rung's value through the fenced store (reportRung: stored, and the group's values read back in the
 * same transaction), asks the rule, and either resumes from the snapshot (bit for bit the run it
 * would have been) or ends the trial as pruned.
 *
 * Semantics: every decision is made from stored values of current attempts only, so two workers of
 * one or many machines decide from the same data; rung reports of a study are serialized by the
 * store, so of two trials reaching a rung at once the later sees the earlier's value (ASHA is
 * asynchronous by design: a decision uses the values stored when it is made). A prune is stored
 * fenced and is terminal: no worker ever claims or runs that trial again, and a worker that lost
 * its claim can neither prune nor report. A decision to continue is not stored: an attempt that
 * starts over (its worker died) decides again at each rung from the values stored by then.
 */
import type { DataSplits } from '../data/index.js';
import type { Module } from '../nn/index.js';
import { train, type TrainConfig, type TrainHooks, type TrainResult } from '../train/index.js';
import { pruneDecision, pruneDirection, pruneGroup, pruneMetric, rungMetricName, rungPoints, type PruneMetric, type PruneRule } from './pruning.js';
import type { Study } from './schema.js';
import { canonicalJson } from './trials.js';
import type { RungValue, StudyStore } from './store.js';

/** Where and why a trial was pruned (stored in its result as `pruned`). */
export interface PrunedAt {
  step: number;
  rung: number;
  metric: PruneMetric;
  value: number;
  rule: PruneRule['rule'];
  /** The whole rule that decided (canonical JSON): a run with the same rule never reverses the decision (reopen-pruned.ts). */
  spec: string;
  why: string;
}

export type PrunedRun =
  | { kind: 'ended'; result: TrainResult; model: Module }
  | { kind: 'pruned'; result: TrainResult; pruned: PrunedAt }
  /** The store refused the rung report: the claim was taken over meanwhile. */
  | { kind: 'refused'; result: TrainResult };

/** The rule's metric in a result at a rung; a metric the run does not have is an error naming the option. */
export function rungValue(result: TrainResult, metric: PruneMetric): number {
  const value = {
    validationAccuracy: result.validation?.accuracy,
    testAccuracy: result.test.accuracy,
    trainLoss: result.train.loss,
    validationLoss: result.validation?.loss,
    testLoss: result.test.loss,
  }[metric];
  if (value === null || value === undefined) {
    throw new Error(`prune.metric: ${metric} is not measured by this trial${metric.startsWith('validation') ? ' (it has no validation split: set data.validation, or choose another prune.metric)' : ' (no accuracy for regression: choose a loss)'}`);
  }
  return value;
}

/** The groups of a study's trials by key, read from the store when a key is not known yet. */
export class PruneGroups {
  private readonly groups = new Map<string, string>();

  constructor(private readonly store: StudyStore, private readonly study: Study, private readonly rule: PruneRule) {}

  async of(keys: readonly string[]): Promise<Map<string, string>> {
    if (keys.some((k) => !this.groups.has(k))) {
      for (const t of await this.store.trials(this.study.name)) this.groups.set(t.key, pruneGroup(this.rule, t.coordinates));
    }
    return this.groups;
  }
}

export interface PruneTrialArgs {
  store: StudyStore;
  study: Study;
  rule: PruneRule;
  groups: PruneGroups;
  key: string;
  attempt: number;
  /** The trial's configuration with `save` (its snapshots go there). */
  config: TrainConfig;
  data: DataSplits;
  hooks: TrainHooks;
  /** The step of the snapshot in config.save to resume from (a reopened trial), if any. */
  resumeFrom?: number;
}

/** Trains the trial rung by rung until it ends or the rule prunes it. */
export async function trainPruned(a: PruneTrialArgs): Promise<PrunedRun> {
  const metric = pruneMetric(a.rule, a.study.select);
  const direction = pruneDirection(a.rule, metric);
  const name = rungMetricName(metric);
  let points: number[] | undefined;
  let rung = 0;
  for (let resume = a.resumeFrom !== undefined; ; resume = true) {
    let paused = false;
    const { result, model } = train(a.config, {
      data: a.data,
      resume,
      hooks: {
        ...a.hooks,
        pauseAfter: (p) => {
          // The run's length in the rule's unit, known once the trainer has counted its steps.
          if (!points) {
            const inUnit = (step: number) => (a.rule.unit === 'steps' ? step : (p.epoch / p.step) * step);
            points = rungPoints(a.rule, inUnit(p.totalSteps));
            // Resumed from a snapshot: the rungs up to its step are behind.
            if (a.resumeFrom !== undefined) rung = points.filter((x) => inUnit(a.resumeFrom!) >= x * (1 - 1e-9)).length;
          }
          const at = a.rule.unit === 'steps' ? p.step : p.epoch;
          paused = rung < points.length && at >= points[rung]! * (1 - 1e-9);
          return paused;
        },
      },
    });
    if (!paused) return { kind: 'ended', result, model };
    model.dispose();
    const value = rungValue(result, metric);
    const rows = await a.store.reportRung(a.study.name, a.key, a.attempt, { step: result.steps, name, value });
    if (!rows) return { kind: 'refused', result };
    const groups = await a.groups.of(rows.map((r) => r.key));
    const mine = groups.get(a.key);
    const byKey = new Map<string, number[]>();
    for (const r of rows as RungValue[]) if (groups.get(r.key) === mine) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r.value]);
    const own = byKey.get(a.key) ?? [];
    byKey.delete(a.key);
    // Its earlier rung values are missing when an attempt resumed from a snapshot it did not report from (a reopened trial taken over): it continues.
    const verdict = own.length > rung ? pruneDecision(a.rule, direction, { rung, own, others: [...byKey.values()] }) : { prune: false as const };
    if (verdict.prune) return { kind: 'pruned', result, pruned: { step: result.steps, rung, metric, value, rule: a.rule.rule, spec: canonicalJson(a.rule), why: verdict.why } };
    rung++;
  }
}
