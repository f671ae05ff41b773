/**
 * Widening or relaxing a study's pruning rule (or removing it) after some trials were pruned: the
 * trials the new rule would not have stopped are reopened, and their workers resume them from the
 * snapshot they left at the rung (prune-trial.ts), not from the start.
 *
 * Which ones: with no rule, every pruned trial; with the very rule that stopped it, none (a decision
 * once stored is not reversed by the values stored since). Otherwise a trial is re-asked where it was stopped:
 * if its step is not a rung of the new rule (other grace period, η or rungs), the new rule would not
 * have stopped it there, and it reopens; if it is rung k, the new rule decides from the values stored
 * now at the new rule's rungs 0…k (its own and its group's), and it reopens unless that says prune. A
 * trial stopped on another metric than the new rule's reopens. Steps become epochs by the pruned
 * trial's own steps per epoch (a group shares its batch size unless the rule competes across it).
 */
import { pruneDecision, pruneDirection, pruneGroup, pruneMetric, rungMetricName, rungPoints, type PruneRule } from './pruning.js';
import type { Study } from './schema.js';
import type { RungValue, StoredTrial, StudyStore } from './store.js';
import { canonicalJson } from './trials.js';

/** The index of the rung of `rule` that a value reached at `at` (in its unit) stands for, within one step (`step` in the unit). */
function rungIndexAt(rule: PruneRule, at: number, step: number): number | undefined {
  const points = rungPoints(rule, at + 2 * step);
  const k = points.findIndex((p) => at >= p * (1 - 1e-9) && at < p + step * (1 - 1e-9));
  return k < 0 ? undefined : k;
}

/** The keys of the pruned trials the study's current rule would not have stopped. `rows`: each trial's rung rows (current attempt). */
export function prunedToReopen(study: Study, trials: readonly StoredTrial[], rows: ReadonlyMap<string, readonly RungValue[]>): string[] {
  const pruned = trials.filter((t) => t.status === 'pruned');
  const rule = study.prune;
  if (!rule) return pruned.map((t) => t.key);
  const metric = pruneMetric(rule, study.select);
  const direction = pruneDirection(rule, metric);
  const reopen: string[] = [];
  for (const t of pruned) {
    const at = t.result?.pruned;
    const steps = t.result?.steps;
    const epochs = t.result?.epochs;
    // The rule that stopped it, unchanged: its decision stands (more values stored since do not reverse it).
    if (at?.spec === canonicalJson(rule)) continue;
    if (!at || at.metric !== metric || !steps || (rule.unit === 'epochs' && !epochs)) {
      reopen.push(t.key);
      continue;
    }
    // The rule's unit per step, for this trial's group.
    const unitPerStep = rule.unit === 'steps' ? 1 : epochs! / steps;
    const k = rungIndexAt(rule, at.step * unitPerStep, unitPerStep);
    if (k === undefined) {
      reopen.push(t.key);
      continue;
    }
    // Each trial's values at the new rule's rungs 0…, as long as they run without a gap.
    const series = (key: string): number[] => {
      const byRung = new Map<number, number>();
      for (const r of rows.get(key) ?? []) {
        const i = rungIndexAt(rule, r.step * unitPerStep, unitPerStep);
        if (i !== undefined && !byRung.has(i)) byRung.set(i, r.value);
      }
      const out: number[] = [];
      while (byRung.has(out.length)) out.push(byRung.get(out.length)!);
      return out;
    };
    const own = series(t.key);
    if (own.length <= k) {
      reopen.push(t.key);
      continue;
    }
    const group = pruneGroup(rule, t.coordinates);
    const others = trials.filter((o) => o.key !== t.key && pruneGroup(rule, o.coordinates) === group).map((o) => series(o.key));
    if (!pruneDecision(rule, direction, { rung: k, own: own.slice(0, k + 1), others }).prune) reopen.push(t.key);
  }
  return reopen;
}

/** Reopens the study's pruned trials that its current rule would not have stopped (runner: when a study file is run). Returns how many. */
export async function reopenRelaxed(store: StudyStore, study: Study): Promise<number> {
  const trials = await store.trials(study.name);
  if (!trials.some((t) => t.status === 'pruned')) return 0;
  const rows = new Map<string, RungValue[]>();
  if (study.prune) {
    const name = rungMetricName(pruneMetric(study.prune, study.select));
    for (const t of trials) rows.set(t.key, (await store.metrics(study.name, t.key)).filter((m) => m.name === name).map((m) => ({ key: t.key, step: m.step, value: m.value })));
  }
  return store.reopenPruned(study.name, prunedToReopen(study, trials, rows));
}
