/**
 * Measuring under several objectives (measure.objectives): a store written by the previous release
 * (fixtures/keskar-smoke-cf8a17a.db, one objective, the default) gets exactly its stored measurement
 * jobs back, from its own study and from today's keskar smoke size, which adds one job per hessian and
 * sharpness job under Keskar's objective; each job measures under its own objective.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openStore } from './store-factory.js';
import { measurementJobs } from './results.js';
import { measurementTarget, objectiveOf } from './loss-levels.js';
import { builtinStudy } from './builtin/index.js';
import { parseStudy, type Study } from './schema.js';
import type { StoredTrial } from './store.js';

const FIXTURE = fileURLToPath(new URL('../../../src/study/fixtures/keskar-smoke-cf8a17a.db', import.meta.url));

/** The fixture's study, trials and measurement jobs; the jobs read with SQLite alone (the independent account of what was stored). */
async function fixture(): Promise<{ study: Study; trials: StoredTrial[]; stored: string[] }> {
  const path = join(mkdtempSync(join(tmpdir(), 'sgdlab-objectives-')), 'keskar-smoke.db');
  copyFileSync(FIXTURE, path);
  const db = new Database(path, { readonly: true });
  const stored = (db.prepare('SELECT key, kind, spec FROM measurement_jobs').all() as { key: string; kind: string; spec: string }[]).map((j) => `${j.key} ${j.kind} ${j.spec}`).sort();
  db.close();
  const store = await openStore(path);
  try {
    return { study: (await store.getStudy('keskar'))!.study, trials: await store.trials('keskar'), stored };
  } finally {
    await store.close();
  }
}

const lines = (jobs: { key: string; kind: string; spec: string }[]) => jobs.map((j) => `${j.key} ${j.kind} ${j.spec}`).sort();
const KESKAR = { batchNorm: 'batch', batchNormBatch: 'all', probabilityClip: 1e-7 };

test("a store of the previous release keeps its measurement jobs: its own study's, and today's smoke size's running ones", async () => {
  const { study, trials, stored } = await fixture();
  assert.equal(stored.length, 22);
  assert.deepEqual(lines(measurementJobs(study, trials)), stored);
  // The same study with its one objective as a list of one, the default, asks for the same jobs.
  assert.deepEqual(lines(measurementJobs(parseStudy({ ...study, measure: { ...study.measure, objectives: [{ batchNorm: 'running' }] } }), trials)), stored);

  const today = measurementJobs(builtinStudy('keskar', 'smoke'), trials);
  const running = today.filter((j) => objectiveOf(j.spec) === undefined);
  assert.deepEqual(lines(running), stored);
  // Keskar's objective: every hessian and sharpness job again (final and at each loss level), its spec the running one's plus the objective.
  const keskar = today.filter((j) => objectiveOf(j.spec) !== undefined);
  const twins = stored.filter((s) => / (hessian|sharpness) /.test(s));
  assert.equal(twins.length, 18);
  assert.deepEqual(keskar.map((j) => {
    const { objective, ...rest } = JSON.parse(j.spec) as { objective: unknown };
    assert.deepEqual(objective, KESKAR);
    return `${j.key} ${j.kind} ${JSON.stringify(rest)}`;
  }).sort(), twins);
});

test('a job measures under the objective its spec names; options naming two objectives, or one twice, are refused', async () => {
  const { trials } = await fixture();
  const study = builtinStudy('keskar', 'smoke');
  const jobs = measurementJobs(study, trials).filter((j) => j.kind === 'sharpness' && JSON.parse(j.spec).level === undefined);
  const trial = trials.find((t) => t.key === jobs[0]!.key)!;
  const objectives = jobs.filter((j) => j.key === trial.key).map((j) => measurementTarget(study.measure!, trial, j.spec).measure);
  assert.deepEqual(objectives.map((m) => m.objective ?? 'the default').sort((a, b) => Number(a !== 'the default') - Number(b !== 'the default')), ['the default', KESKAR]);
  assert.ok(objectives.every((m) => m.objectives === undefined));
  assert.ok(objectives.every((m) => m.subset === 200));

  const base = { name: 'x', base: {}, measure: { what: ['hessian'] } };
  const problems = (measure: object) => {
    try {
      parseStudy({ ...base, measure: { ...base.measure, ...measure } }, 'study.yaml');
      return [];
    } catch (error) {
      return (error as { problems?: string[] }).problems;
    }
  };
  assert.deepEqual(problems({ objective: { batchNorm: 'batch' }, objectives: [{ batchNorm: 'running' }] }), ['measure: give `objective` (one) or `objectives` (a list), not both (got {"what":["hessian"],"objective":{"batchNorm":"batch"},"objectives":[{"batchNorm":"running"}]})']);
  assert.deepEqual(problems({ objectives: [{}, { batchNorm: 'batch' }, { batchNorm: 'running' }] }), ['measure.objectives.2: the objective {"batchNorm":"running"} is the same as an earlier entry (the default: running statistics, no clipping) (got {"batchNorm":"running"})']);
});
