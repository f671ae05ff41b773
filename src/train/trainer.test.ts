/** The trainer: reproducibility, divergence, accumulation, sampling modes and budgets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { assertClose } from '../tensor/testing.js';
import { buildModel } from '../nn/index.js';
import { batchGradient, parseTrainConfig, train, type TrainConfigInput } from './index.js';

const small = (overrides: Partial<TrainConfigInput> = {}): TrainConfigInput => ({
  model: { name: 'mlp', widths: [32], batchNorm: true, dropout: 0.2 },
  data: { name: 'mnist', subset: 1000 },
  optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 },
  batchSize: 50,
  budget: { steps: 25 },
  ...overrides,
});

test('the same configuration and seed give the same numbers, bit for bit; another seed does not', () => {
  const a = train(parseTrainConfig(small()));
  const b = train(parseTrainConfig(small()));
  const c = train(parseTrainConfig(small({ seed: 1 })));
  assert.deepEqual(a.result.history.steps.map((s) => s.loss), b.result.history.steps.map((s) => s.loss));
  assert.deepEqual(a.result.test, b.result.test);
  T.tidy(() => {
    for (const [k, v] of a.model.stateDict()) assertClose(b.model.stateDict().get(k)!, v, { rtol: 0, atol: 0 }, k);
  });
  assert.notDeepEqual(a.result.history.steps.map((s) => s.loss), c.result.history.steps.map((s) => s.loss));
  for (const r of [a, b, c]) r.model.dispose();
});

test('a diverging learning rate ends the run as diverged, not as a crash', () => {
  const before = T.memory().numTensors;
  const { result, model } = train(parseTrainConfig(small({ model: { name: 'mlp', widths: [32] }, optimizer: { name: 'sgd', lr: 1e4 } })));
  assert.equal(result.status, 'diverged');
  assert.match(result.reason!, /the training loss was (NaN|Infinity|\d.*) at step \d+/);
  assert.ok(result.steps < 25);
  model.dispose();
  assert.equal(T.memory().numTensors, before);
});

test('accumulated micro-batches give the one-shot gradient (no batch norm), within float32 rounding', () => {
  T.tidy(() => {
    const model = buildModel({ name: 'mlp', widths: [24, 24] }, { inputShape: [10], outputs: 3 }, new T.Generator(3));
    const g = new T.Generator(4);
    const params = model.parameters();
    const x = T.randn([96, 10], { generator: g });
    const y = T.randint(0, 3, [96], { generator: g });
    const whole = batchGradient(model, params, 'cross-entropy', x, y, 96);
    const pieces = batchGradient(model, params, 'cross-entropy', x, y, 20);
    assert.ok(Math.abs(whole.loss - pieces.loss) < 1e-6, `${whole.loss} vs ${pieces.loss}`);
    whole.grads.forEach((w, i) => assertClose(pieces.grads[i]!, w, { rtol: 1e-5, atol: 1e-7 }, `gradient ${i}`));
    model.dispose();
  });
});

test('with batch norm, accumulating micro-batches equals ghost batch norm of that size', () => {
  T.tidy(() => {
    const spec = { name: 'mlp' as const, widths: [16], batchNorm: true };
    const plain = buildModel(spec, { inputShape: [8], outputs: 3 }, new T.Generator(5));
    const ghost = buildModel({ ...spec, ghostBatchSize: 16 }, { inputShape: [8], outputs: 3 }, new T.Generator(5));
    const g = new T.Generator(6);
    const x = T.randn([64, 8], { generator: g });
    const y = T.randint(0, 3, [64], { generator: g });
    const accumulated = batchGradient(plain, plain.parameters(), 'cross-entropy', x, y, 16);
    const ghosted = batchGradient(ghost, ghost.parameters(), 'cross-entropy', x, y, 64);
    ghosted.grads.forEach((w, i) => assertClose(accumulated.grads[i]!, w, { rtol: 1e-4, atol: 1e-6 }, `gradient ${i}`));
    assertClose(plain.stateDict().get('2.running_mean')!, ghost.stateDict().get('2.running_mean')!, { rtol: 1e-5, atol: 1e-6 });
    plain.dispose();
    ghost.dispose();
  });
});

test('full-batch gradient descent, sampling with replacement, and fresh synthetic samples all run', () => {
  const runs = [
    small({ batchSize: 'full', budget: { steps: 3 }, model: { name: 'mlp', widths: [16] } }),
    small({ sampling: 'replacement', budget: { epochs: 1 } }),
    {
      model: { name: 'linear-regression' },
      data: { name: 'linear-regression', linearRegression: { dim: 5, labelNoise: 0.5 } },
      optimizer: { name: 'sgd', lr: 0.1 },
      batchSize: 8,
      sampling: 'fresh',
      budget: { steps: 200 },
    } satisfies TrainConfigInput,
  ];
  const [full, replacement, fresh] = runs.map((r) => train(parseTrainConfig(r)));
  assert.equal(full!.result.batchSize, 1000);
  assert.equal(full!.result.steps, 3);
  assert.equal(replacement!.result.steps, 20);
  assert.equal(fresh!.result.status, 'completed');
  // Online SGD on y = uᵀx + ε reaches the noise floor: ½σ² = 0.125 plus a small excess.
  assert.ok(fresh!.result.test.loss < 0.2, `test loss ${fresh!.result.test.loss}`);
  assert.equal(fresh!.result.test.accuracy, null);
  for (const r of [full, replacement, fresh]) r!.model.dispose();
});

test('schedules and scaling rules set the learning rate of every step', () => {
  const { result, model } = train(parseTrainConfig(small({
    batchSize: 100,
    budget: { steps: 10 },
    optimizer: { name: 'sgd', lr: 0.1 },
    scaling: { rule: 'linear', baseBatchSize: 50 },
    schedule: { kind: 'step', milestones: [0.5], gamma: 0.1 },
    warmup: { steps: 2 },
  })));
  model.dispose();
  assert.equal(result.baseLr, 0.2);
  const lrs = result.history.steps.map((s) => s.lr);
  [0.1, 0.2, 0.2, 0.2, 0.2, 0.02, 0.02, 0.02, 0.02, 0.02].forEach((want, i) => assert.ok(Math.abs(lrs[i]! - want) < 1e-12, `step ${i}: ${lrs[i]} ≠ ${want}`));
});

test('evaluation every k steps, with a validation set', () => {
  const { result, model } = train(parseTrainConfig(small({ data: { name: 'mnist', subset: 1000, validation: 200 }, eval: { every: 10 } })));
  model.dispose();
  assert.deepEqual(result.history.evals.map((e) => e.step), [10, 20, 25]);
  assert.equal(result.validation!.examples, 200);
  assert.equal(result.train.examples, 800);
});

test('warm start (Keskar et al.\'s piggybacking): the warm phase is a run at the warm batch size, then the budget runs at batchSize', () => {
  // 1,000 examples: the warm phase is 2 epochs at B = 50 (40 steps), then 25 steps at B = 250.
  const warm = train(parseTrainConfig(small({ batchSize: 250, warmStart: { batchSize: 50, epochs: 2 } })));
  const plain = train(parseTrainConfig(small({ batchSize: 50, budget: { steps: 40 } })));
  const large = train(parseTrainConfig(small({ batchSize: 250 })));
  assert.equal(warm.result.steps, 40 + 25);
  assert.equal(warm.result.epochs, 2 + 25 / 4);
  const losses = warm.result.history.steps.map((s) => s.loss);
  assert.deepEqual(losses.slice(0, 40), plain.result.history.steps.map((s) => s.loss), 'the warm phase is bit for bit the plain run at B = 50');
  assert.notDeepEqual(losses.slice(40), large.result.history.steps.map((s) => s.loss), 'the large-batch phase continues from the warm weights');
  assert.throws(() => train(parseTrainConfig(small({ warmStart: { batchSize: 5000, epochs: 1 } }))), /warmStart\.batchSize: 5000 exceeds the 1000 training examples/);
  for (const r of [warm, plain, large]) r.model.dispose();
});
