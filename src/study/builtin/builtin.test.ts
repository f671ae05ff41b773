/**
 * The built-in studies: every size is a valid study, every one has a smoke run (smith and ziyin here,
 * the longer ones in builtin-NAME.test.ts), `builtin list/show` print them, and bad names or sizes say what exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BUILTIN_SIZES, BUILTIN_STUDIES, builtinStudy, expandTrials, measureOptionsFor, parseStudy, seriesOf } from '../index.js';
import { sgdlabCli } from '../testing.js';
import { SMOKE_TEST_FILES, smokeRun, smokeTitle } from './smoke-testing.js';

const sgdlab = sgdlabCli;
const dir = mkdtempSync(join(tmpdir(), 'sgdlab-builtin-'));

test('every size of every built-in study is a valid study whose trials expand', () => {
  for (const b of BUILTIN_STUDIES) {
    for (const size of BUILTIN_SIZES) {
      const study = builtinStudy(b.name, size);
      assert.equal(study.name, b.name);
      assert.ok(expandTrials(study, '0.0.0').length > 0);
    }
    assert.ok(expandTrials(builtinStudy(b.name, 'smoke'), '0').length <= expandTrials(builtinStudy(b.name, 'quick'), '0').length);
  }
});

for (const name of ['smith', 'ziyin']) test(smokeTitle(name), async () => {
  await smokeRun(name);
});

test('every built-in study has its smoke test, in the file that SMOKE_TEST_FILES names', () => {
  assert.deepEqual(Object.keys(SMOKE_TEST_FILES).sort(), BUILTIN_STUDIES.map((b) => b.name).sort());
  const here = new URL('.', import.meta.url).pathname;
  for (const [name, file] of Object.entries(SMOKE_TEST_FILES)) assert.ok(existsSync(join(here, file)), `${name}: ${file}`);
});

test('builtin list and show; bad names and sizes name what exists', () => {
  const list = sgdlab('builtin', 'list');
  assert.equal(list.status, 0, list.stderr);
  for (const b of BUILTIN_STUDIES) assert.match(list.stdout, new RegExp(`^${b.name} — `, 'm'));
  const shown = sgdlab('builtin', 'show', 'keskar', '--size', 'smoke');
  assert.deepEqual(parseStudy(parse(shown.stdout)), builtinStudy('keskar', 'smoke'), 'show prints a study file that parses back to the same study');
  const bad = sgdlab('run', '--builtin', 'hoffer', '--db', join(dir, 'x.db'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, new RegExp(`--builtin: 'hoffer' is not a built-in study; built-in studies: ${BUILTIN_STUDIES.map((x) => x.name).join(', ')}`));
  const size = sgdlab('run', '--builtin', 'keskar', '--size', 'huge', '--db', join(dir, 'x.db'));
  assert.equal(size.status, 2);
  assert.match(size.stderr, /--size: 'huge' must be one of smoke, quick, full, paper/);
  assert.match(sgdlab('run', '--db', join(dir, 'x.db')).stderr, /give a study file \(sgdlab run STUDY\.yaml\) or a built-in study/);
});

test('keskar paper: the Fig. 4 sweep B = 256 … 6,000 × 3 seeds, each trained until its epoch loss stops improving (at most 100 epochs); SB and LB saved at loss levels; measured with both solvers, under both objectives', () => {
  const study = builtinStudy('keskar', 'paper');
  const trials = expandTrials(study, '0');
  const plateau = { patience: 5, minDelta: 0.01, mode: 'rel', on: 'epoch' };
  assert.deepEqual(trials.map((t): [number, number] => [Number(t.config.batchSize), t.config.seed]).sort((a, b) => a[0] - b[0] || a[1] - b[1]),
    [256, 512, 1024, 2048, 4096, 6000].flatMap((b) => [0, 1, 2].map((seed) => [b, seed])));
  assert.ok(trials.every((t) => JSON.stringify(t.config.stopAt) === JSON.stringify({ plateau }) && JSON.stringify(t.config.budget) === '{"epochs":100}' && t.config.data.subset === undefined && t.config.model.name === 'keskar-f1'));
  // Loss-level checkpoints (Fig. 6) on SB and LB only: their measurements are half the run's time.
  assert.deepEqual(trials.filter((t) => t.config.checkpointAt !== undefined).map((t) => [t.config.batchSize, t.config.checkpointAt!.trainLoss.join()]).sort((a, b) => Number(a[0]) - Number(b[0])),
    [0, 1, 2].map(() => [256, '0.1,0.03,0.01,0.003,0.001']).concat([0, 1, 2].map(() => [6000, '0.1,0.03,0.01,0.003,0.001'])));
  // Saving checkpoints changes no training: SB and LB are on the same series (one line in Fig. 4) as the batch sizes between.
  assert.deepEqual([...new Set(trials.map((t) => seriesOf(t.coordinates)))], ['']);
  assert.equal(study.measure!.subset, undefined, 'the final minima on all 60,000 examples');
  assert.deepEqual(study.measure!.levels, { what: ['hessian', 'sharpness'], subset: 10000 });
  assert.deepEqual(study.measure!.sharpness.solver, ['lbfgsb', 'projected']);
  // Tables 3 and 4 at SB and LB (λ_max; φ at two ε, full and 100-dimensional), Fig. 4's φ(1e-3, full) alone between.
  const of = (b: number) => measureOptionsFor(study.measure!, b);
  assert.deepEqual([256, 6000].map((b) => [of(b).what, of(b).sharpness.epsilon, of(b).sharpness.space]), [256, 6000].map(() => [['hessian', 'sharpness'], [1e-3, 5e-4], ['full', 100]]));
  assert.deepEqual([512, 1024, 2048, 4096].map((b) => [of(b).what, of(b).sharpness]), [512, 1024, 2048, 4096].map(() => [['sharpness'], { ...study.measure!.sharpness, epsilon: [1e-3], space: ['full'] }]));
  // Under running statistics and Keskar's objective (batches of 10,000: the memory of 60,000 at once), except quick (`npm start`'s time).
  const keskar = { batchNorm: 'batch', batchNormBatch: 10000, probabilityClip: 1e-7 };
  assert.deepEqual(['smoke', 'quick', 'full', 'paper'].map((size) => builtinStudy('keskar', size).measure!.objectives), [[{ batchNorm: 'running' }, { ...keskar, batchNormBatch: 'all' }], undefined, [{ batchNorm: 'running' }, keskar], [{ batchNorm: 'running' }, keskar]]);
  assert.equal(builtinStudy('keskar', 'quick').measure!.objective, undefined);
});

test('keskar full adds C1 on CIFAR-10 exactly when the binary files are present', () => {
  const previous = process.env.SGDLAB_CIFAR10_DIR;
  const cifar = mkdtempSync(join(tmpdir(), 'sgdlab-cifar-'));
  try {
    process.env.SGDLAB_CIFAR10_DIR = join(cifar, 'absent');
    const without = expandTrials(builtinStudy('keskar', 'full'), '0');
    assert.equal(without.filter((t) => t.config.model.name === 'keskar-c1').length, 0);
    process.env.SGDLAB_CIFAR10_DIR = cifar;
    writeFileSync(join(cifar, 'data_batch_1.bin'), Buffer.alloc(3073));
    const c1 = expandTrials(builtinStudy('keskar', 'full'), '0').filter((t) => t.config.model.name === 'keskar-c1');
    assert.deepEqual([...new Set(c1.map((t) => t.config.batchSize))], [256, 5000]);
    assert.equal(c1.length, 10);
    assert.ok(c1.every((t) => t.config.data.name === 'cifar10' && t.config.data.dir === cifar));
  } finally {
    if (previous === undefined) delete process.env.SGDLAB_CIFAR10_DIR;
    else process.env.SGDLAB_CIFAR10_DIR = previous;
  }
});
