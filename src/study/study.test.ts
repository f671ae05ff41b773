/** Study files: the catalogue of bad files with the messages a user sees, grid expansion, and trial keys. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { axisValues, expandTrials, measurementValues, objectiveKey, parseStudy, splitObjectiveLabel, trialKey } from './index.js';
import type { ObjectiveConventionRecord } from './records.js';

const GOOD = `
name: smith-fmnist
base:
  model: { name: mlp, widths: [64] }
  data: { name: fashion-mnist, validation: 5000 }
  optimizer: { name: sgd, lr: 0.1, momentum: 0.9 }
  batchSize: 64
  budget: { epochs: 1 }
grid:
  batchSize: { from: 16, to: 256, factor: 2 }
  optimizer.lr: [0.05, 0.1, 0.2]
  seed: [0, 1]
budgets: [{ epochs: 2 }, { steps: 500 }]
select: validationAccuracy
`;

const load = (text: string) => parseStudy(parse(text), 'study.yaml');
const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (error) {
    return (error as { problems?: string[] }).problems ?? [(error as Error).message];
  }
  return [];
};

test('a study expands to the product of its axes and budgets, each a valid training configuration', () => {
  const trials = expandTrials(load(GOOD), '0.1.0');
  assert.equal(trials.length, 5 * 3 * 2 * 2);
  assert.deepEqual([...new Set(trials.map((t) => t.config.batchSize))], [16, 32, 64, 128, 256]);
  const t = trials.find((x) => x.config.batchSize === 32 && x.config.optimizer.lr === 0.2 && x.config.seed === 1 && 'steps' in x.config.budget)!;
  assert.deepEqual(t.config.optimizer, { name: 'sgd', lr: 0.2, momentum: 0.9 });
  assert.deepEqual(t.coordinates, { batchSize: 32, 'optimizer.lr': 0.2, seed: 1, budget: { steps: 500 } });
  assert.equal(new Set(trials.map((x) => x.key)).size, trials.length);
});

test('log-spaced axes are exact powers (factors of 2) and include the end point', () => {
  assert.deepEqual(axisValues({ from: 16, to: 4096, factor: 2 }), [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]);
  assert.deepEqual(axisValues({ from: 0.001, to: 0.008, factor: 2 }), [0.001, 0.002, 0.004, 0.008]);
});

test('trial keys depend on the resolved configuration and version only: field order does not matter, editing the grid keeps the other keys', () => {
  const a = expandTrials(load(GOOD), '0.1.0');
  const reordered = expandTrials(load(GOOD.replace('optimizer: { name: sgd, lr: 0.1, momentum: 0.9 }', 'optimizer: { momentum: 0.9, lr: 0.1, name: sgd }')), '0.1.0');
  assert.deepEqual(reordered.map((t) => t.key).sort(), a.map((t) => t.key).sort());
  const widened = expandTrials(load(GOOD.replace('seed: [0, 1]', 'seed: [0, 1, 2]')), '0.1.0');
  assert.equal(widened.length, 90);
  const old = new Set(a.map((t) => t.key));
  assert.equal(widened.filter((t) => old.has(t.key)).length, 60, 'the 60 trials of seeds 0 and 1 keep their keys');
  assert.notEqual(trialKey(a[0]!.config, '0.1.0'), trialKey(a[0]!.config, '0.2.0'), 'a new sgdlab version is a new trial');
});

test('bad study files: each message names the field, the value and what is allowed', () => {
  const cases: [string, string[]][] = [
    [GOOD.replace('name: smith-fmnist', 'name: "my study!"'), ['name: a study name uses letters, digits, ".", "_" and "-", starting with a letter or digit (got "my study!")']],
    [GOOD.replace('select: validationAccuracy', 'select: accuracy'), ['select: Invalid option: expected one of "validationAccuracy"|"testAccuracy"|"trainLoss" (got "accuracy")']],
    [GOOD.replace('seed: [0, 1]', 'seed: []'), ['grid.seed: a grid axis needs at least one value (got [])']],
    [GOOD.replace('budgets: [{ epochs: 2 }, { steps: 500 }]', 'budgets: [{ epochs: 2, steps: 5 }]'), ['budgets.0: Invalid input (got {"epochs":2,"steps":5})']],
    [GOOD + 'sweep: true\n', ["(top level): unknown field(s) 'sweep'"]],
    [GOOD.replace('{ from: 16, to: 256, factor: 2 }', '{ from: 256, to: 16, factor: 2 }'), ['grid.batchSize: `to` must be at least `from` (got {"from":256,"to":16,"factor":2})']],
    [GOOD + 'measure: { what: [hessian, curvature] }\n', ['measure.what.1: Invalid option: expected one of "hessian"|"sharpness"|"noise"|"interpolate"|"gradientVariance" (got "curvature")']],
    [GOOD + 'measure: { what: [sharpness], sharpness: { space: [full, 0] } }\n', ['measure.sharpness.space.1: Too small: expected number to be >0 (got 0)']],
    [GOOD + 'measure: { what: [hessian], hessian: { topk: 3 } }\n', ["measure.hessian: unknown field(s) 'topk'"]],
    [GOOD + 'measure: { what: [hessian], objective: { batchNorm: eval } }\n', ['measure.objective.batchNorm: Invalid option: expected one of "running"|"batch" (got "eval")']],
    [GOOD + 'measure: { what: [hessian], objective: { batchNormBatch: 100 } }\n', ['measure.objective: `batchNormBatch` applies to `batchNorm: batch` only (got {"batchNormBatch":100})']],
    [GOOD + 'measure: { what: [sharpness], sharpness: { subspaceDistribution: gaussian } }\n', ['measure.sharpness.subspaceDistribution: Invalid option: expected one of "normal"|"uniform" (got "gaussian")']],
    [GOOD + 'measure: { what: [gradientVariance], gradientVariance: { degree: held-out, sequences: 2000, sequencesByModel: { mlp: 6 } } }\n', ["measure.gradientVariance.degree: 'held-out' splits the sequences into two halves and needs at least 8 of them, but a trial would get 6 (got \"held-out\")"]],
  ];
  for (const [text, expected] of cases) assert.deepEqual(problemsOf(() => load(text)), expected);
  // Problems only visible once the grid is applied to the base configuration.
  assert.deepEqual(problemsOf(() => expandTrials(load(GOOD.replace('seed: [0, 1]', 'seed: [0, -1]')), '0.1.0')).slice(0, 1),
    ['grid point {"batchSize":16,"budget":{"epochs":2},"optimizer.lr":0.05,"seed":-1}: seed: Too small: expected number to be >=0 (got -1)']);
  assert.deepEqual(problemsOf(() => expandTrials(load(GOOD.replace('name: mlp', 'name: resnet')), '0.1.0')).slice(0, 1),
    ['grid point {"batchSize":16,"budget":{"epochs":2},"optimizer.lr":0.05,"seed":0}: model.name: Invalid option: expected one of "mlp"|"keskar-f1"|"keskar-c1"|"lenet5"|"linear-regression"|"logistic-regression"|"deep-linear"|"wrn" (got "resnet")']);
  assert.deepEqual(problemsOf(() => expandTrials(load(GOOD.replace('name: fashion-mnist', 'name: imagenet')), '0.1.0')).slice(0, 1)[0]?.includes('data.name: Invalid option: expected one of "mnist"|"fashion-mnist"'), true);
  assert.deepEqual(problemsOf(() => expandTrials(load(GOOD.replace('{ from: 16, to: 256, factor: 2 }', '[64, 100000]')), '0.1.0')).slice(0, 1),
    ['grid point {"batchSize":100000,"budget":{"epochs":2},"optimizer.lr":0.05,"seed":0}: batchSize: 100000 exceeds the 55000 training examples of fashion-mnist (use \'full\' for full-batch gradient descent)']);
});

test('reading studies and trials does not load libtorch (the results CLI must not need the addon)', async () => {
  const { spawnSync } = await import('node:child_process');
  const study = new URL('./index.js', import.meta.url).pathname;
  const script = `
    const { expandTrials, parseStudy, openStore } = await import(${JSON.stringify(study)});
    const s = parseStudy({ name: 'x', base: { model: { name: 'mlp' }, data: { name: 'mnist' }, optimizer: { name: 'sgd', lr: 0.1 }, batchSize: 32, budget: { steps: 1 } }, grid: { seed: [0, 1] } });
    const store = await openStore(':memory:');
    await store.upsertStudy(s, expandTrials(s, '0'));
    const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8');
    console.log(JSON.stringify({ trials: (await store.trials('x')).length, libtorch: /libtorch|sgdlab_torch/.test(maps) }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { trials: 2, libtorch: false });
});

test("the objective's batch-norm convention: the default adds nothing to a measurement's key or names, 'batch' and clipping do", () => {
  const measure = (objective: string) => load(`${GOOD}measure: { what: [hessian, sharpness]${objective} }\n`).measure!;
  assert.deepEqual(objectiveKey(measure('')), {});
  assert.deepEqual(objectiveKey(measure(', objective: { batchNorm: running }')), {});
  assert.deepEqual(objectiveKey(measure(', objective: { batchNorm: batch }')), { objective: { batchNorm: 'batch', batchNormBatch: 'all' } });
  assert.deepEqual(objectiveKey(measure(', objective: { batchNorm: batch, batchNormBatch: 256, probabilityClip: 1.0e-7 }')), { objective: { batchNorm: 'batch', batchNormBatch: 256, probabilityClip: 1e-7 } });
  const hessian = (objective?: ObjectiveConventionRecord) => measurementValues({ kind: 'hessian', result: { eigenvalues: [3], ...(objective ? { objective } : {}) } });
  assert.deepEqual(hessian(), { lambdaMax: 3 });
  assert.deepEqual(hessian({ batchNorm: 'running', batchNormBatch: null, probabilityClip: null }), { lambdaMax: 3 });
  assert.deepEqual(hessian({ batchNorm: 'batch', batchNormBatch: 'all', probabilityClip: 1e-7 }), { 'lambdaMax BN batch clip 1e-7': 3 });
  const sharpness = measurementValues({ kind: 'sharpness', result: { values: [{ epsilon: 0.001, space: 100, phi: 2, solver: 'lbfgsb', subspaceDistribution: 'uniform' }], objective: { batchNorm: 'batch', batchNormBatch: 1000, probabilityClip: null } } });
  assert.deepEqual(sharpness, { 'phi(eps=0.001, p=100 uniform) BN batch/1000 L-BFGS-B': 2 });
  // Figures and tables split a name back into its quantity and objective.
  assert.deepEqual(splitObjectiveLabel('phi(eps=0.001, p=100 uniform) BN batch/1000 L-BFGS-B'), { quantity: 'phi(eps=0.001, p=100 uniform) L-BFGS-B', objective: 'BN batch/1000' });
  assert.deepEqual(splitObjectiveLabel('lambdaMax BN batch clip 1e-7'), { quantity: 'lambdaMax', objective: 'BN batch clip 1e-7' });
  const runningClipped = Object.keys(measurementValues({ kind: 'sharpness', result: { values: [{ epsilon: 0.001, space: 'full', phi: 2, firstOrder: 1, solver: 'projected' }], objective: { batchNorm: 'running', batchNormBatch: null, probabilityClip: 0.001 } } }));
  assert.deepEqual(runningClipped.map(splitObjectiveLabel), [{ quantity: 'phi(eps=0.001, full)', objective: 'clip 0.001' }, { quantity: 'phi(eps=0.001, full) first-order', objective: 'clip 0.001' }]);
  assert.deepEqual(splitObjectiveLabel('phi(eps=0.001, full)'), { quantity: 'phi(eps=0.001, full)', objective: '' });
});
