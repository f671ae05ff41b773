/**
 * Expanding a study into trials: the Cartesian product of the grid axes (and budgets) applied to
 * the base configuration, each validated as a training configuration, each keyed by a hash of its
 * full resolved configuration and the sgdlab version. Same configuration ⇒ same key, whatever the
 * order of fields in the file; editing the grid adds or drops trials without changing the keys of
 * the others, which is what makes a study resumable exactly once.
 */
import { createHash } from 'node:crypto';
import { ConfigError, parseTrainConfig, type TrainConfig } from '../train/config.js';
import { axisValues, type Study } from './schema.js';

export interface Trial {
  key: string;
  /** The grid coordinates of this trial (path → value), and its budget. */
  coordinates: Record<string, unknown>;
  config: TrainConfig;
}

/** JSON with object keys sorted at every level, so that equal configurations serialize equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function trialKey(config: TrainConfig, sgdlabVersion: string): string {
  return createHash('sha256').update(`${sgdlabVersion}\n${canonicalJson(config)}`).digest('hex').slice(0, 16);
}

/** Training examples a data spec yields, known without loading it (undefined if unknown). */
export function trainingSetSize(data: TrainConfig['data']): number | undefined {
  const full = { mnist: 60000, 'fashion-mnist': 60000, cifar10: 50000, cifar100: 50000 } as Record<string, number>;
  if (data.name === 'linear-regression' || data.name === 'gaussian-classification') return data.trainSize ?? 1000;
  const total = full[data.name];
  if (total === undefined) return undefined;
  const subset = data.subset ?? total;
  const validation = data.validation === undefined ? 0 : data.validation < 1 ? Math.round(data.validation * subset) : data.validation;
  return subset - validation;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) {
    const next = node[p];
    node[p] = next !== null && typeof next === 'object' && !Array.isArray(next) ? { ...(next as Record<string, unknown>) } : {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

/** The grid points of a study: the product of each grid's axes (and the budgets), the union over a list of grids. */
export function gridPoints(study: Study): Record<string, unknown>[] {
  const grids = Array.isArray(study.grid) ? study.grid : [study.grid];
  return grids.flatMap((grid) => {
    const axes: [string, unknown[]][] = Object.entries(grid).map(([path, a]) => [path, axisValues(a as unknown[] | { from: number; to: number; factor: number })]);
    if (study.budgets) axes.push(['budget', study.budgets]);
    let combos: Record<string, unknown>[] = [{}];
    for (const [path, values] of axes) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [path]: v })));
    return combos;
  });
}

export function expandTrials(study: Study, sgdlabVersion: string): Trial[] {
  const combos = gridPoints(study);
  const trials: Trial[] = [];
  const problems: string[] = [];
  // The pruning rule's competing axes must be axes of the grid: a misspelt one would make every trial a group of its own.
  const axes = [...new Set(combos.flatMap((c) => Object.keys(c)))];
  for (const a of study.prune?.across ?? []) if (!axes.includes(a)) problems.push(`prune.across: '${a}' is not an axis of the grid (its axes: ${axes.join(', ') || 'none'})`);
  const seen = new Map<string, Record<string, unknown>>();
  for (const coordinates of combos) {
    const raw = structuredClone(study.base) as Record<string, unknown>;
    // The study's device is each trial's (a grid axis over `device` still overrides it).
    if (study.device !== undefined) raw.device = study.device;
    for (const [path, value] of Object.entries(coordinates)) setPath(raw, path, value);
    let config: TrainConfig;
    try {
      config = parseTrainConfig(raw, `trial ${canonicalJson(coordinates)}`);
    } catch (error) {
      if (error instanceof ConfigError) {
        problems.push(...error.problems.map((p) => `grid point ${canonicalJson(coordinates)}: ${p}`));
        continue;
      }
      throw error;
    }
    const n = trainingSetSize(config.data);
    if (typeof config.batchSize === 'number' && n !== undefined && config.sampling === 'reshuffle' && config.batchSize > n) {
      problems.push(`grid point ${canonicalJson(coordinates)}: batchSize: ${config.batchSize} exceeds the ${n} training examples of ${config.data.name} (use 'full' for full-batch gradient descent)`);
      continue;
    }
    const key = trialKey(config, sgdlabVersion);
    if (seen.has(key)) continue; // two grid points resolving to the same configuration run once
    seen.set(key, coordinates);
    trials.push({ key, coordinates, config });
  }
  if (problems.length > 0) throw new ConfigError(problems.slice(0, 20).concat(problems.length > 20 ? [`… and ${problems.length - 20} more`] : []), `study '${study.name}'`);
  return trials;
}
