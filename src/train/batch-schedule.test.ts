/**
 * Dynamic sampling: the batch sizes, steps and examples a schedule prescribes, taken exactly; the
 * learning rate kept or coupled; Byrd et al.'s norm test on a case where ‖Var‖₁/(|B|‖ĝ‖²) is known in
 * closed form; and snapshots that resume a run — schedule, samplers, generators, optimizer — bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../tensor/index.js';
import { assertClose } from '../tensor/testing.js';
import { makeDataset, prepareData, type DataSplits } from '../data/index.js';
import { parseTrainConfig, train, type TrainConfigInput, type TrainOptions, type TrainResult } from './index.js';

const mnist = (overrides: Partial<TrainConfigInput> = {}): TrainConfigInput => ({
  model: { name: 'mlp', widths: [32], batchNorm: true },
  data: { name: 'mnist', subset: 1000 },
  optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 },
  batchSize: 50,
  budget: { steps: 10 },
  eval: { every: 1000, trainSubset: 100 },
  ...overrides,
});
// One MNIST subset for every run here (the configurations' data spec), loaded once.
let shared: DataSplits | undefined;
const mnistData = () => (shared ??= prepareData({ name: 'mnist', subset: 1000 }));
const run = (overrides: Partial<TrainConfigInput>, options: TrainOptions = {}) => train(parseTrainConfig(mnist(overrides)), { data: mnistData(), ...options });
const sizes = (r: TrainResult) => r.history.steps.map((s) => s.batchSize);
const repeat = (b: number, k: number) => new Array<number>(k).fill(b);

test('a step schedule over an epoch budget: 30 steps of 50, then 7 of 200 and a last one cut to the 100 examples left — exactly 3 epochs', () => {
  const { result, model } = run({ budget: { epochs: 3 }, batchSchedule: { kind: 'step', milestones: [0.5], factor: 4 } });
  model.dispose();
  assert.deepEqual(sizes(result), [...repeat(50, 30), ...repeat(200, 7), 100]);
  assert.equal(result.steps, 38);
  assert.equal(result.examples, 3000);
  assert.equal(result.epochs, 3);
  assert.deepEqual(result.batchSchedule, { largestBatchSize: 200, changes: [{ step: 30, batchSize: 200 }] });
});

test('geometric growth over a step budget, B₀·(to/B₀)^(k/K), and ×factor every k steps up to a cap; steps exact', () => {
  const over = run({ batchSize: 10, batchSchedule: { kind: 'geometric', to: 80 } });
  assert.deepEqual(sizes(over.result), [10, 12, 15, 19, 23, 28, 35, 43, 53, 65]);
  assert.deepEqual(over.result.batchSchedule, { largestBatchSize: 65, changes: [] }, 'geometric growth records its sizes per step only');
  assert.equal(over.result.examples, 303);
  assert.equal(over.result.epochs, 0.303);
  const every = run({ batchSize: 8, budget: { steps: 12 }, batchSchedule: { kind: 'geometric', factor: 2, every: 3, max: 40 } });
  assert.deepEqual(sizes(every.result), [...repeat(8, 3), ...repeat(16, 3), ...repeat(32, 3), ...repeat(40, 3)]);
  for (const r of [over, every]) r.model.dispose();
});

test('a schedule that keeps the batch draws what a plain run draws, bit for bit (the permutation stream equals reshuffling when B divides N)', () => {
  const plain = run({ budget: { steps: 45 } });
  const kept = run({ budget: { steps: 45 }, batchSchedule: { kind: 'step', milestones: [0.5], batchSizes: [50] } });
  assert.deepEqual(kept.result.history.steps.map((s) => s.loss), plain.result.history.steps.map((s) => s.loss));
  for (const r of [plain, kept]) r.model.dispose();
});

test('the learning rate is kept (Smith et al. 2018) or scaled with B/B₀, on top of its own schedule', () => {
  const lrs = (couple: 'none' | 'linear' | 'sqrt') => {
    const { result, model } = run({
      budget: { steps: 8 }, optimizer: { name: 'sgd', lr: 0.01 }, schedule: { kind: 'step', milestones: [0.75], gamma: 0.1 },
      batchSchedule: { kind: 'step', milestones: [0.5], factor: 4, couple },
    });
    model.dispose();
    return result.history.steps.map((s) => s.lr);
  };
  const close = (got: number[], want: number[]) => want.forEach((w, i) => assert.ok(Math.abs(got[i]! - w) < 1e-12, `step ${i}: ${got[i]} ≠ ${w}`));
  close(lrs('none'), [0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.001, 0.001]);
  close(lrs('linear'), [0.01, 0.01, 0.01, 0.01, 0.04, 0.04, 0.004, 0.004]);
  close(lrs('sqrt'), [0.01, 0.01, 0.01, 0.01, 0.02, 0.02, 0.002, 0.002]);
});

/**
 * x_i = e_i (one-hot), y_i = 1, a linear model without bias and ½-squared loss: the per-example gradients
 * g_i = (w_i − 1)e_i are orthogonal, and for any batch of distinct examples (and any w, any grouping into
 * m ≥ 2 groups) the estimate gives ‖Var‖₁/(|B|·‖ĝ‖²) = 1 exactly. So with θ < 1 the test always fails and
 * the batch becomes ⌈|B|/θ²⌉; with θ > 1 it never grows.
 */
function oneHot(n: number): DataSplits {
  const train = makeDataset(T.eye(n), T.ones([n, 1]), undefined);
  const test = makeDataset(T.eye(n), T.ones([n, 1]), undefined);
  return { description: `one-hot ×${n}`, train, test };
}

test("Byrd et al.'s norm test grows the batch where the variance condition is known in closed form", () => {
  const data = oneHot(1024);
  const config = (theta: number, groups: number) => parseTrainConfig({
    model: { name: 'linear-regression' }, data: { name: 'linear-regression' }, loss: 'half-mse', optimizer: { name: 'sgd', lr: 0.5 },
    batchSize: 2, budget: { steps: 6 }, eval: { every: 1000 }, batchSchedule: { kind: 'adaptive', theta, groups },
  });
  try {
    for (const groups of [1024, 2, 5]) {
      const { result, model } = train(config(0.6, groups), { data });
      model.dispose();
      // 2 → ⌈2/0.36⌉ = 6 → 17 → 48 → 134 → 373
      assert.deepEqual(sizes(result), [2, 6, 17, 48, 134, 373], `groups ${groups}`);
      for (const s of result.history.steps) assert.ok(Math.abs(s.normTest! - 1) < 1e-5, `groups ${groups}, step ${s.step}: ratio ${s.normTest}`);
    }
    const { result, model } = train(config(1.5, 8), { data });
    model.dispose();
    assert.deepEqual(sizes(result), repeat(2, 6));
  } finally {
    T.dispose([data.train.x, data.train.y, data.test.x, data.test.y]);
  }
});

test('a run stopped after a snapshot and resumed is the run that never stopped, bit for bit: schedule, samplers, dropout, augmentation, attacks, optimizer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-snapshot-'));
  const cases: [string, Partial<TrainConfigInput>][] = [
    ['step schedule, dropout, rotations, PGD with random starts, Adam', {
      model: { name: 'mlp', widths: [32], batchNorm: true, dropout: 0.2 }, optimizer: { name: 'adam', lr: 1e-3 },
      data: { name: 'mnist', subset: 1000, augment: { rotation: 10, translation: 0.2 } },
      adversarial: { attack: 'pgd', epsilon: 0.1, steps: 2, fraction: 0.5 }, batchSize: 40, budget: { epochs: 1 },
      batchSchedule: { kind: 'step', milestones: [0.4], factor: 3 },
    }],
    ['adaptive schedule, SGD with momentum, proximal steps, an epoch budget', {
      optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9, proximal: { lambda: 1e-3, innerSteps: 2 } }, batchSize: 20, budget: { epochs: 1 },
      batchSchedule: { kind: 'adaptive', theta: 0.5, groups: 4, max: 100 },
    }],
  ];
  for (const [name, overrides] of cases) {
    const config = (save: string) => parseTrainConfig(mnist({ ...overrides, save, snapshotEvery: 4, eval: { every: 5, trainSubset: 100 } }));
    const whole = train(config(join(dir, `${name}-whole`)), { data: mnistData() });
    let stopAt = 0;
    assert.throws(() => train(config(join(dir, `${name}-stopped`)), { data: mnistData(), hooks: { onStep: ({ step }) => { stopAt = step; if (step === 9) throw new Error('stopped'); } } }), /stopped/);
    assert.equal(stopAt, 9);
    const resumed = train(config(join(dir, `${name}-stopped`)), { data: mnistData(), resume: true });
    assert.deepEqual(resumed.result.history.steps, whole.result.history.steps, name);
    assert.deepEqual(resumed.result.history.evals.map((e) => e.test), whole.result.history.evals.map((e) => e.test), name);
    for (const k of ['steps', 'examples', 'epochs', 'batchSchedule', 'test', 'train'] as const) assert.deepEqual(resumed.result[k], whole.result[k], `${name}: ${k}`);
    T.tidy(() => {
      for (const [k, v] of whole.model.stateDict()) assertClose(resumed.model.stateDict().get(k)!, v, { rtol: 0, atol: 0 }, `${name}: ${k}`);
    });
    assert.ok(whole.result.batchSchedule!.changes.length > 0, `${name}: the batch grew`);
    // The schedule and the attack were in effect (else resuming would be trivially the same): the batch sizes
    // actually drawn, and the first step's loss against the same run without the attack.
    if (overrides.batchSchedule!.kind === 'step') {
      // By hand: milestone 0.4 of 1 epoch of 1,000 examples = 400 examples = 10 steps of 40, then 600 in 5 steps of 3·40 = 120.
      assert.deepEqual(sizes(whole.result), [...repeat(40, 10), ...repeat(120, 5)], name);
    } else assert.ok(Math.max(...sizes(whole.result)) > 20, `${name}: batches drawn larger than 20: ${sizes(whole.result).join(' ')}`);
    if (overrides.adversarial) {
      const { adversarial: _, ...withoutAttack } = overrides;
      let cleanLoss = Number.NaN;
      assert.throws(() => train(parseTrainConfig(mnist({ ...withoutAttack, eval: { every: 5, trainSubset: 100 } })), { data: mnistData(), hooks: { onStep: ({ metrics }) => { cleanLoss = metrics.loss; throw new Error('first step'); } } }), /first step/);
      assert.ok(whole.result.history.steps[0]!.loss > cleanLoss + 1e-3, `${name}: first loss ${whole.result.history.steps[0]!.loss} on the attacked batch vs ${cleanLoss} without the attack`);
    }
    // The final checkpoint carries the schedule's state.
    const sidecar = JSON.parse(readFileSync(join(dir, `${name}-stopped`, 'model.json'), 'utf8'));
    assert.deepEqual(sidecar.batchSchedule.changes, whole.result.batchSchedule!.changes);
    assert.equal(sidecar.batchSchedule.examples, whole.result.examples);
    for (const r of [whole, resumed]) r.model.dispose();
  }
  assert.throws(() => run({ ...cases[1]![1], seed: 3, save: join(dir, `${cases[1]![0]}-stopped`), snapshotEvery: 4, eval: { every: 5, trainSubset: 100 } }, { resume: true }),
    /snapshot .*snapshot\.json was written by another configuration \(it differs in seed\)/);
});

test('bad schedules name the field, the value and what is allowed', () => {
  const cases: [Partial<TrainConfigInput>, RegExp][] = [
    [{ batchSchedule: { kind: 'step', milestones: [0.5] } }, /batchSchedule\.factor: give exactly one of factor and batchSizes/],
    [{ batchSchedule: { kind: 'step', milestones: [0.5, 0.7], batchSizes: [100] } }, /batchSchedule\.batchSizes: needs one batch size per milestone \(2\)/],
    [{ batchSchedule: { kind: 'step', milestones: [0.7, 0.5], factor: 2 } }, /batchSchedule\.milestones: must increase/],
    [{ batchSchedule: { kind: 'step', milestones: [1.5], factor: 2 } }, /batchSchedule\.milestones\.0: .* \(got 1\.5\)/],
    [{ batchSchedule: { kind: 'geometric', to: 100, factor: 2 } }, /batchSchedule\.factor: give exactly one of to .* and factor/],
    [{ batchSchedule: { kind: 'geometric', to: 100, every: 2 } }, /batchSchedule\.every: goes with factor/],
    [{ batchSchedule: { kind: 'adaptive', theta: 0 } }, /batchSchedule\.theta: .* \(got 0\)/],
    [{ batchSchedule: { kind: 'adaptive', theta: 0.5, groups: 1 } }, /batchSchedule\.groups: .* \(got 1\)/],
    [{ batchSchedule: { kind: 'doubling' } as never }, /batchSchedule\.kind: .*'step' \| 'geometric' \| 'adaptive' \(got "doubling"\)/],
  ];
  for (const [overrides, pattern] of cases) assert.throws(() => parseTrainConfig(mnist(overrides)), pattern);
  const runtime: [Partial<TrainConfigInput>, RegExp][] = [
    [{ batchSchedule: { kind: 'step', milestones: [0.5], factor: 2 }, warmStart: { batchSize: 10, epochs: 1 } }, /batchSchedule: a batch schedule and warmStart cannot be combined/],
    [{ batchSchedule: { kind: 'step', milestones: [0.5], factor: 2 }, batchSize: 'full' }, /batchSchedule: needs a numeric batchSize to grow from, not 'full'/],
    [{ batchSchedule: { kind: 'adaptive', theta: 0.5, max: 5000 } }, /batchSchedule\.max: 5000 exceeds the 1000 training examples/],
    [{ batchSchedule: { kind: 'adaptive', theta: 0.5, max: 20 } }, /batchSchedule\.max: 20 is below the initial batch size 50/],
    [{ snapshotEvery: 5 }, /snapshotEvery: snapshots are written into the save directory; set save/],
  ];
  mnistData();
  const before = T.memory().numTensors;
  for (const [overrides, pattern] of runtime) assert.throws(() => run(overrides), pattern);
  assert.equal(T.memory().numTensors, before, 'a rejected configuration leaks nothing');
});
