/**
 * Which pruned trials a changed rule reopens, on cases worked out by hand: none under the rule that
 * stopped them (more values stored since never reverse a decision), all without a rule, a trial the
 * relaxed rule ranks in its top 1/η at the same rung, a trial whose step is no rung of the new rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, parseStudy, type RungValue, type StoredTrial } from './index.js';
import { pruneSchema } from './pruning.js';
import { prunedToReopen } from './reopen-pruned.js';

const rule = (reductionFactor: number) => pruneSchema.parse({ rule: 'asha', unit: 'steps', gracePeriod: 10, reductionFactor });
const study = (prune?: object) => parseStudy({ name: 's', base: {}, grid: {}, ...(prune ? { prune } : {}) });
const trial = (key: string, status: StoredTrial['status'], pruned?: { step: number; spec: string; metric?: string }): StoredTrial => ({
  study: 's', key, coordinates: { 'optimizer.lr': key, batchSize: 32 }, config: {} as StoredTrial['config'], status, worker: null, attempt: 1,
  startedAt: null, finishedAt: null, seconds: null, error: null, checkpoint: null,
  result: pruned ? { steps: pruned.step, epochs: pruned.step / 10, pruned: { step: pruned.step, rung: 0, metric: pruned.metric ?? 'validationAccuracy', value: 0, rule: 'asha', spec: pruned.spec } } : { steps: 100 },
});
const rows = (values: Record<string, [number, number][]>) => new Map(Object.entries(values).map(([key, vs]) => [key, vs.map(([step, value]): RungValue => ({ key, step, value }))]));

test('a relaxed ASHA reopens what it ranks in its top 1/η at the same rung; the rule that decided reopens nothing', () => {
  // Stopped at step 10 (rung 0 of both rules) by η = 4. Rung 0 now: 0.6, 0.5 (p), 0.4, 0.3, 0.2 (q): with η = 2 the top 2 of 5 continue.
  const strict = canonicalJson(rule(4));
  const trials = [trial('a', 'completed'), trial('p', 'pruned', { step: 10, spec: strict }), trial('c', 'completed'), trial('d', 'completed'), trial('q', 'pruned', { step: 10, spec: strict })];
  const values = rows({ a: [[10, 0.6], [20, 0.7]], p: [[10, 0.5]], c: [[10, 0.4]], d: [[10, 0.3]], q: [[10, 0.2]] });
  assert.deepEqual(prunedToReopen(study(rule(2)), trials, values), ['p']);
  assert.deepEqual(prunedToReopen(study(rule(4)), trials, values), [], 'the same rule: its decisions stand');
  assert.deepEqual(prunedToReopen(study(), trials, values), ['p', 'q'], 'no rule: every pruned trial');
});

test('a trial stopped at a step that is no rung of the new rule, or on another metric, reopens', () => {
  // η = 2 stopped it at step 20 (rung 1); η = 3 has rungs 10, 30, 90: 20 is none of them.
  const trials = [trial('a', 'completed'), trial('p', 'pruned', { step: 20, spec: canonicalJson(rule(2)) }), trial('m', 'pruned', { step: 10, spec: '{}', metric: 'trainLoss' })];
  const values = rows({ a: [[10, 0.9], [20, 0.9]], p: [[10, 0.1], [20, 0.1]], m: [[10, 0.1]] });
  assert.deepEqual(prunedToReopen(study(rule(3)), trials, values), ['p', 'm']);
});
