/**
 * A study's results as the papers report them: for each budget and batch size, the best learning
 * rate by the study's selection rule (validation accuracy, test accuracy, or training loss, as in
 * Smith et al. 2020) averaged over seeds, and its metrics as mean ± std over seeds. Diverged, failed
 * and pruned trials never count as best (a learning rate with such a seed is not a candidate). Needs no addon.
 */
import { measureObjectives, measureOptionsFor, objectiveKey, type Study } from './schema.js';
import { sgdlabVersion } from '../train/version.js';
import { sampleStatistics } from '../theory/statistics.js';
import { jobId, type MeasurementJob, type StoredMeasurement, type StoredTrial, type StudyStore } from './store.js';
import { isMeasurementOf, type ObjectiveConventionRecord, type TrialResult } from './records.js';
import { canonicalJson, expandTrials } from './trials.js';
import { levelJobs, levelOf } from './loss-levels.js';

export interface Stat {
  mean: number;
  std: number;
  n: number;
}

export interface BatchSizeResult {
  budget: unknown;
  /**
   * The trial's other grid coordinates (not learning rate, seed, batch size or budget), e.g. the model
   * and dataset of a study that sweeps several: results are per series. Empty for a single series.
   */
  series: string;
  batchSize: number;
  bestLr: number;
  testAccuracy: Stat;
  trainLoss: Stat;
  validationAccuracy?: Stat;
  /** Keys of the completed seeds of the best learning rate (the trials `measure: { trials: best }` measures). */
  bestTrials: string[];
  /** Learning rates tried at this batch size, with how many of their seeds diverged, failed or were pruned. */
  tried: { lr: number; completed: number; diverged: number; failed: number; pruned: number }[];
}

/** Mean ± std over seeds (the papers' mean ± std), from theory/statistics.ts. */
export const stat = (xs: readonly number[]): Stat => {
  const { mean, std, n } = sampleStatistics(xs);
  return { mean, std, n };
};

// checkpointAt only saves checkpoints on the way (a study may save them for some batch sizes only, as
// keskar's paper size does for SB and LB): it changes no trial's training, so it is not a series.
const NOT_SERIES = new Set(['optimizer.lr', 'seed', 'batchSize', 'budget', 'checkpointAt']);

/** A coordinate value in a few characters: models as mlp(widths=[512]), objects as {k=v}. */
export const shortValue = (v: unknown): string => {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const { name, ...rest } = v as Record<string, unknown>;
    const inner = Object.entries(rest).map(([k, x]) => `${k}=${shortValue(x)}`).join(',');
    return name !== undefined ? `${String(name)}${inner ? `(${inner})` : ''}` : `{${inner}}`;
  }
  return typeof v === 'string' ? v : JSON.stringify(v);
};

/** A trial's series: its grid coordinates other than learning rate, seed, batch size and budget. */
export function seriesOf(coordinates: Record<string, unknown>): string {
  return Object.keys(coordinates).filter((k) => !NOT_SERIES.has(k)).sort().map((k) => `${k.split('.').at(-1)}=${shortValue(coordinates[k])}`).join(' ');
}

export function bestByBatchSize(study: Study, trials: readonly StoredTrial[]): BatchSizeResult[] {
  const groups = new Map<string, StoredTrial[]>();
  for (const t of trials) {
    const b = t.result?.batchSize ?? (typeof t.config.batchSize === 'number' ? t.config.batchSize : NaN);
    const k = canonicalJson([t.config.budget, seriesOf(t.coordinates), b]);
    groups.set(k, [...(groups.get(k) ?? []), t]);
  }
  const out: BatchSizeResult[] = [];
  for (const group of groups.values()) {
    const byLr = new Map<number, StoredTrial[]>();
    for (const t of group) byLr.set(t.config.optimizer.lr, [...(byLr.get(t.config.optimizer.lr) ?? []), t]);
    const score = (ts: StoredTrial[]): number => {
      const done = ts.filter((t) => t.status === 'completed').map((t) => t.result ?? {});
      if (done.length === 0 || done.length < ts.filter((t) => t.status !== 'pending' && t.status !== 'running').length) return -Infinity; // any diverged, failed or pruned seed disqualifies
      const value = (s: TrialResult) =>
        study.select === 'trainLoss' ? -(s.train?.loss ?? Infinity)
        : study.select === 'testAccuracy' ? (s.test?.accuracy ?? -Infinity)
        : (s.validation?.accuracy ?? -Infinity);
      return stat(done.map(value)).mean;
    };
    let best: [number, StoredTrial[]] | undefined;
    for (const entry of byLr) if (!best || score(entry[1]) > score(best[1])) best = entry;
    const tried = [...byLr].map(([lr, ts]) => ({ lr, completed: ts.filter((t) => t.status === 'completed').length, diverged: ts.filter((t) => t.status === 'diverged').length, failed: ts.filter((t) => t.status === 'failed').length, pruned: ts.filter((t) => t.status === 'pruned').length })).sort((a, b) => a.lr - b.lr);
    if (!best || score(best[1]) === -Infinity) continue;
    const bestCompleted = best[1].filter((t) => t.status === 'completed');
    const done = bestCompleted.map((t) => t.result ?? {});
    const first = group[0]!;
    out.push({
      budget: first.config.budget,
      series: seriesOf(first.coordinates),
      batchSize: first.result?.batchSize ?? (first.config.batchSize as number),
      bestLr: best[0],
      testAccuracy: stat(done.map((s) => s.test?.accuracy ?? NaN)),
      trainLoss: stat(done.map((s) => s.train?.loss ?? NaN)),
      ...(done.every((s) => s.validation?.accuracy != null) ? { validationAccuracy: stat(done.map((s) => s.validation!.accuracy!)) } : {}),
      bestTrials: bestCompleted.map((t) => t.key),
      tried,
    });
  }
  return out.sort((a, b) => a.series.localeCompare(b.series) || canonicalJson(a.budget).localeCompare(canonicalJson(b.budget)) || a.batchSize - b.batchSize);
}

/** The stored trials of the study's current grid: trials of grid points since dropped stay stored but do not count. */
export async function currentTrials(store: StudyStore, study: Study): Promise<StoredTrial[]> {
  const keys = new Set(expandTrials(study, sgdlabVersion()).map((t) => t.key));
  return (await store.trials(study.name)).filter((t) => keys.has(t.key));
}

/** What a value's name adds for a non-default objective: ' BN batch' (' BN batch/N' in chunks of N), ' clip c'; '' for the default. */
function objectiveLabel(c: ObjectiveConventionRecord | undefined): string {
  if (!c) return '';
  const bn = c.batchNorm === 'batch' ? ` BN batch${c.batchNormBatch === 'all' || c.batchNormBatch === null || c.batchNormBatch === undefined ? '' : `/${c.batchNormBatch}`}` : '';
  return `${bn}${c.probabilityClip === null || c.probabilityClip === undefined ? '' : ` clip ${c.probabilityClip}`}`;
}

/**
 * A value's name split into its quantity and its objective's label (objectiveLabel, without the leading
 * space; '' for the default): 'phi(eps=0.001, full) BN batch clip 1e-7 L-BFGS-B' is the quantity
 * 'phi(eps=0.001, full) L-BFGS-B' under 'BN batch clip 1e-7'. For figures and tables that set the
 * objectives side by side.
 */
export function splitObjectiveLabel(name: string): { quantity: string; objective: string } {
  const m = / BN batch(?:\/\d+)?(?: clip \S+)?| clip \S+/.exec(name);
  return m ? { quantity: name.slice(0, m.index) + name.slice(m.index + m[0].length), objective: m[0].trim() } : { quantity: name, objective: '' };
}

/**
 * One number per measured trial, by name: λ_max, trace, φ for each ε and space, noise statistics; a
 * non-default objective labels its values. A value stored as null (it was not finite) is left out.
 */
export function measurementValues(m: Pick<StoredMeasurement, 'kind' | 'result'>): Record<string, number> {
  const out: Record<string, number> = {};
  if (isMeasurementOf(m, 'hessian')) {
    const convention = objectiveLabel(m.result?.objective);
    const lambdaMax = m.result?.eigenvalues?.[0];
    if (typeof lambdaMax === 'number') out[`lambdaMax${convention}`] = lambdaMax;
    if (typeof m.result?.trace === 'number') out[`hessianTrace${convention}`] = m.result.trace;
  } else if (isMeasurementOf(m, 'sharpness')) {
    const convention = objectiveLabel(m.result?.objective);
    // φ by sgdlab's projected maximizer keeps the plain name; by the paper's L-BFGS-B it says so; φ₁ is the first-order part.
    for (const v of m.result?.values ?? []) {
      const space = v.space === 'full' ? 'full' : `p=${v.space}${v.subspaceDistribution === 'uniform' ? ' uniform' : ''}`;
      const name = `phi(eps=${v.epsilon}, ${space})${convention}`;
      if (v.phi !== null) out[v.solver === 'lbfgsb' ? `${name} L-BFGS-B` : name] = v.phi;
      if (typeof v.firstOrder === 'number') out[`${name} first-order`] = v.firstOrder;
    }
  } else if (isMeasurementOf(m, 'interpolate')) {
    const d = m.result?.distanceFromInitial;
    if (typeof m.result?.distance === 'number') out['‖θ_LB − θ_SB‖'] = m.result.distance;
    if (d?.a != null && d.b != null) out['‖θ_SB − θ₀‖ / ‖θ_LB − θ₀‖'] = d.a / d.b;
  } else if (isMeasurementOf(m, 'noise')) {
    for (const name of ['gradNormSq', 'traceSigma', 'bSimple'] as const) {
      const v = m.result?.[name];
      if (typeof v === 'number') out[name] = v;
    }
  }
  return out;
}

/**
 * The measurement jobs a study asks for on its current trials: target trial × kind (× objective, for
 * hessian and sharpness), keyed by the options (and, for an interpolation, its SB partner: the best
 * trial of the smallest batch size with the same seed and budget; and the first objective).
 */
export function measurementJobs(study: Study, trials: readonly StoredTrial[]): MeasurementJob[] {
  const measure = study.measure;
  if (!measure) return [];
  const rows = bestByBatchSize(study, trials);
  const targets = measure.trials === 'all' ? trials.filter((t) => t.status === 'completed').map((t) => t.key) : rows.flatMap((r) => r.bestTrials);
  const spec = (options: object, extra: object = {}) => canonicalJson({ ...options, subset: measure.subset ?? null, seed: measure.seed, ...extra });
  const objectives = measureObjectives(measure);
  const byKey = new Map(trials.map((t) => [t.key, t]));
  // Each target's options are its batch size's (measure.byBatchSize).
  const optionsOf = (key: string) => measureOptionsFor(measure, byKey.get(key)!.config.batchSize);
  const jobs: MeasurementJob[] = targets.flatMap((key) => {
    const options = optionsOf(key);
    return options.what.filter((k) => k !== 'interpolate').flatMap((kind): MeasurementJob[] => (kind === 'hessian' || kind === 'sharpness'
      ? objectives.map((objective) => ({ key, kind, spec: spec(options[kind], objectiveKey({ objective })) }))
      : [{ key, kind, spec: spec(kind === 'gradientVariance' ? options.gradientVariance : options.noise) }]));
  });
  jobs.push(...levelJobs(measure, trials, targets, spec));
  if (measure.what.includes('interpolate')) {
    for (const row of rows) {
      const sb = rows.filter((r) => r.series === row.series && canonicalJson(r.budget) === canonicalJson(row.budget)).sort((a, b) => a.batchSize - b.batchSize)[0]!;
      if (sb === row) continue;
      for (const key of row.bestTrials.filter((k) => optionsOf(k).what.includes('interpolate'))) {
        const partner = sb.bestTrials.find((k) => byKey.get(k)!.config.seed === byKey.get(key)!.config.seed);
        if (partner) jobs.push({ key, kind: 'interpolate', spec: spec(measure.interpolate, { partner, ...objectiveKey({ objective: objectives[0] }) }) });
      }
    }
  }
  return jobs;
}

/**
 * Mean ± std over trials of every measured value, using the measurements of the study's current jobs
 * (older options' measurements stay stored but do not count).
 */
export function summarizeMeasurements(jobs: readonly MeasurementJob[], keys: readonly string[], measurements: readonly StoredMeasurement[]): Record<string, Stat> {
  const wanted = new Set(jobs.map(jobId));
  const mine = new Set(keys);
  const values = new Map<string, number[]>();
  for (const m of measurements) {
    if (m.status !== 'completed' || m.result === null || !mine.has(m.key) || !wanted.has(jobId(m)) || levelOf(m.spec) !== undefined) continue;
    for (const [name, v] of Object.entries(measurementValues(m))) values.set(name, [...(values.get(name) ?? []), v]);
  }
  return Object.fromEntries([...values].map(([name, xs]) => [name, stat(xs)]));
}
