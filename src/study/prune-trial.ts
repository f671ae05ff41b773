/**
 * Training a claimed trial under the study's pruning rule (pruning.ts): the run pauses at each rung
 * (train/trainer.ts's trainPausable: a snapshot, and the evaluation at that step of the one split the
 * rule's metric is measured on), the worker reports the rung's value through the fenced store
 * (reportRung: stored, and the group's values read back in the same transaction), asks the rule, and
 * either resumes from the snapshot (bit for bit the run it would have been) or ends the trial as
 * pruned, its result completed then with the other splits (train/paused-run.ts completePause: the
 * result a full evaluation at the pause gives). Most rungs say continue: their other splits are never
 * evaluated. A member of a pack (worker.ts trainPack) stops at the
 * same rungs (RungClock) and is decided by the same decideAtRung, under its own key and attempt; it
 * leaves no snapshot, so a reopened one starts over.
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
import { completePause, trainPausable, type PartialEvalRecord, type TrainConfig, type TrainHooks, type TrainResult } from '../train/index.js';
import { pruneDecision, pruneDirection, pruneGroup, pruneMetric, pruneMetricSplit, rungMetricName, rungPoints, type PruneMetric, type PruneRule } from './pruning.js';
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
  /** Its result at the rung, every split evaluated there (as a run that ended there). */
  | { kind: 'pruned'; result: TrainResult; pruned: PrunedAt }
  /** The store refused the rung report: the claim was taken over meanwhile (nothing of the run is stored). */
  | { kind: 'refused' };

/** The rule's metric in a result (or an evaluation, whole or of some splits) at a rung; a metric the run does not have is an error naming the option. */
export function rungValue(result: Partial<Pick<TrainResult, 'train' | 'validation' | 'test'>>, metric: PruneMetric): number {
  const split = pruneMetricSplit(metric);
  const e = result[split];
  // Not the trial's fault: the pause evaluates the metric's split whenever the data have it.
  if (!e && split !== 'validation') throw new Error(`rungValue: the evaluation at the rung lacks the ${split} split that prune.metric ${metric} is measured on`);
  const value = metric.endsWith('Accuracy') ? e?.accuracy : e?.loss;
  if (value === null || value === undefined) {
    throw new Error(`prune.metric: ${metric} is not measured by this trial${split === 'validation' ? ' (it has no validation split: set data.validation, or choose another prune.metric)' : ' (no accuracy for regression: choose a loss)'}`);
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

/** Who reports a rung value: a claimed trial (its key and attempt) of a study under its rule. */
export interface RungReporter {
  store: StudyStore;
  study: Study;
  rule: PruneRule;
  groups: PruneGroups;
  key: string;
  attempt: number;
}

/** What the rule said at a rung: go on, prune (with where and why), or nothing because the store refused the report (the claim was lost). */
export type RungDecision = { kind: 'continue' } | { kind: 'pruned'; pruned: PrunedAt } | { kind: 'refused' };

/**
 * Reports the trial's value at its rung `rung` (reached at `step`) through the fenced store, and asks the
 * rule with the values of its group that the same transaction read back: the one place where a decision
 * is made, for a trial trained alone (trainPruned) and for a member of a pack (worker.ts).
 */
export async function decideAtRung(a: RungReporter, rung: number, at: { step: number; value: number }): Promise<RungDecision> {
  const metric = pruneMetric(a.rule, a.study.select);
  const direction = pruneDirection(a.rule, metric);
  const rows = await a.store.reportRung(a.study.name, a.key, a.attempt, { step: at.step, name: rungMetricName(metric), value: at.value });
  if (!rows) return { kind: 'refused' };
  const groups = await a.groups.of(rows.map((r) => r.key));
  const mine = groups.get(a.key);
  const byKey = new Map<string, number[]>();
  for (const r of rows as RungValue[]) if (groups.get(r.key) === mine) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r.value]);
  const own = byKey.get(a.key) ?? [];
  byKey.delete(a.key);
  // Its earlier rung values are missing when an attempt resumed from a snapshot it did not report from (a reopened trial taken over): it continues.
  const verdict = own.length > rung ? pruneDecision(a.rule, direction, { rung, own, others: [...byKey.values()] }) : { prune: false as const };
  if (!verdict.prune) return { kind: 'continue' };
  return { kind: 'pruned', pruned: { step: at.step, rung, metric, value: at.value, rule: a.rule.rule, spec: canonicalJson(a.rule), why: verdict.why } };
}

/**
 * Where a run stops for its rule: the rungs of its length in the rule's unit (known once the trainer
 * asks pauseAfter, with its total steps), `rung` the next one. For train()'s and PackedRun's pauseAfter.
 */
export class RungClock {
  /** The index of the next rung. */
  rung = 0;
  private points: number[] | undefined;

  /** `resumeFrom`: the step a run resumed from (the rungs up to it are behind). */
  constructor(private readonly rule: PruneRule, private readonly resumeFrom?: number) {}

  /** Whether the run is at its next rung after this step. */
  reached(p: { step: number; epoch: number; totalSteps: number }): boolean {
    const inUnit = (step: number) => (this.rule.unit === 'steps' ? step : (p.epoch / p.step) * step);
    if (!this.points) {
      this.points = rungPoints(this.rule, inUnit(p.totalSteps));
      if (this.resumeFrom !== undefined) this.rung = this.points.filter((x) => inUnit(this.resumeFrom!) >= x * (1 - 1e-9)).length;
    }
    const at = this.rule.unit === 'steps' ? p.step : p.epoch;
    return this.rung < this.points.length && at >= this.points[this.rung]! * (1 - 1e-9);
  }
}

export interface PruneTrialArgs extends RungReporter {
  /** The trial's configuration with `save` (its snapshots go there). */
  config: TrainConfig;
  data: DataSplits;
  hooks: TrainHooks;
  /** The step of the snapshot in config.save to resume from (a reopened trial), if any. */
  resumeFrom?: number;
  /**
   * The evaluation at a rung the rule let the trial go on from: only the split of the rule's metric
   * (for the learning curves: what was evaluated, at the rung's step). A pruned trial's whole
   * evaluation at its rung goes to hooks.onEval instead, as the end of a run does.
   */
  onRungEval?(e: PartialEvalRecord): void;
}

/** Trains the trial rung by rung until it ends or the rule prunes it. */
export async function trainPruned(a: PruneTrialArgs): Promise<PrunedRun> {
  const metric = pruneMetric(a.rule, a.study.select);
  const rungs = new RungClock(a.rule, a.resumeFrom);
  for (let resume = a.resumeFrom !== undefined; ; resume = true) {
    const end = trainPausable(a.config, { data: a.data, resume, hooks: { ...a.hooks, pauseAfter: (p) => rungs.reached(p) }, pauseEvaluates: [pruneMetricSplit(metric)] });
    if (end.kind === 'ended') return end;
    const { paused } = end;
    try {
      const decision = await decideAtRung(a, rungs.rung, { step: paused.head.steps, value: rungValue(paused.evaluation, metric) });
      if (decision.kind === 'refused') return { kind: 'refused' };
      // Pruned: its stored result is the whole evaluation at the rung, with the paused model before it goes.
      if (decision.kind === 'pruned') return { kind: 'pruned', result: completePause(paused, a.data, a.hooks), pruned: decision.pruned };
      a.onRungEval?.(paused.evaluation);
    } finally {
      paused.model.dispose();
    }
    rungs.rung++;
  }
}
