/**
 * A study's results as the papers report them: for each budget and batch size, the best learning
 * rate by the study's selection rule (validation accuracy, test accuracy, or training loss, as in
 * Smith et al. 2020) averaged over seeds, and its metrics as mean ± std over seeds. Diverged and
 * failed trials never count as best. Needs no addon.
 */
import type { Study } from './schema.js';
import type { StoredTrial } from './store.js';
import { canonicalJson } from './trials.js';

export interface Stat {
  mean: number;
  std: number;
  n: number;
}

export interface BatchSizeResult {
  budget: unknown;
  batchSize: number;
  bestLr: number;
  testAccuracy: Stat;
  trainLoss: Stat;
  validationAccuracy?: Stat;
  /** Learning rates tried at this batch size, with how many of their seeds diverged or failed. */
  tried: { lr: number; completed: number; diverged: number; failed: number }[];
}

const stat = (xs: number[]): Stat => {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
};

type Summary = { train?: { loss: number; accuracy: number | null }; test?: { loss: number; accuracy: number | null }; validation?: { loss: number; accuracy: number | null }; batchSize?: number };

export function bestByBatchSize(study: Study, trials: readonly StoredTrial[]): BatchSizeResult[] {
  const groups = new Map<string, StoredTrial[]>();
  for (const t of trials) {
    const b = (t.result as Summary | null)?.batchSize ?? (typeof t.config.batchSize === 'number' ? t.config.batchSize : NaN);
    const k = canonicalJson([t.config.budget, b]);
    groups.set(k, [...(groups.get(k) ?? []), t]);
  }
  const out: BatchSizeResult[] = [];
  for (const group of groups.values()) {
    const byLr = new Map<number, StoredTrial[]>();
    for (const t of group) byLr.set(t.config.optimizer.lr, [...(byLr.get(t.config.optimizer.lr) ?? []), t]);
    const score = (ts: StoredTrial[]): number => {
      const done = ts.filter((t) => t.status === 'completed').map((t) => t.result as Summary);
      if (done.length === 0 || done.length < ts.filter((t) => t.status !== 'pending' && t.status !== 'running').length) return -Infinity; // any diverged seed disqualifies
      const value = (s: Summary) =>
        study.select === 'trainLoss' ? -(s.train?.loss ?? Infinity)
        : study.select === 'testAccuracy' ? (s.test?.accuracy ?? -Infinity)
        : (s.validation?.accuracy ?? -Infinity);
      return stat(done.map(value)).mean;
    };
    let best: [number, StoredTrial[]] | undefined;
    for (const entry of byLr) if (!best || score(entry[1]) > score(best[1])) best = entry;
    const tried = [...byLr].map(([lr, ts]) => ({ lr, completed: ts.filter((t) => t.status === 'completed').length, diverged: ts.filter((t) => t.status === 'diverged').length, failed: ts.filter((t) => t.status === 'failed').length })).sort((a, b) => a.lr - b.lr);
    if (!best || score(best[1]) === -Infinity) continue;
    const done = best[1].filter((t) => t.status === 'completed').map((t) => t.result as Summary);
    const first = group[0]!;
    out.push({
      budget: first.config.budget,
      batchSize: (first.result as Summary | null)?.batchSize ?? (first.config.batchSize as number),
      bestLr: best[0],
      testAccuracy: stat(done.map((s) => s.test?.accuracy ?? NaN)),
      trainLoss: stat(done.map((s) => s.train?.loss ?? NaN)),
      ...(done.every((s) => s.validation?.accuracy != null) ? { validationAccuracy: stat(done.map((s) => s.validation!.accuracy!)) } : {}),
      tried,
    });
  }
  return out.sort((a, b) => canonicalJson(a.budget).localeCompare(canonicalJson(b.budget)) || a.batchSize - b.batchSize);
}
