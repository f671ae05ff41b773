/**
 * Packed trials against the second method that defines them: K separate runs of the ordinary trainer
 * (train(), same configurations and seeds). Losses, gradient norms, evaluations and final weights must
 * agree within float32 rounding of a reordered computation:
 *
 *   A batched product sums each inner product of length n in another order than the single-model one;
 *   with unit roundoff u = 2⁻²⁴ the two results differ by at most γ_n ≈ n·u relative to Σ|aᵢbᵢ| ≤ ‖a‖‖b‖
 *   (Higham, Accuracy and Stability of Numerical Algorithms, §3.1). n is the longest sum of a step: the
 *   input width, a hidden width, or the batch B (a weight gradient sums over the examples). A training
 *   step that is not unstable carries an earlier difference forward without amplifying it, so after S
 *   steps the difference is at most about S·n·u relative to the size of the tensor (atol = tol·max|e|).
 *   Here tol = S·n·u is 1.9e-3 for MNIST (n = 784, S = 40) and 1.2e-4 for the 20-dimensional data
 *   (n = B = 50; 2.4e-4 with B = 100); the differences seen are about 1e-7 to 1e-6. A member given another member's seed,
 *   another minibatch order, or another optimizer rule differs at order 1e-2 and more, far outside.
 *
 * One case needs care: with batch norm, a linear layer's bias before it has gradient 0 in exact arithmetic
 * (the batch mean removes it), so its computed gradient is pure rounding noise, which Adam divides by its
 * own root mean square and turns into steps of size lr in a random direction. The two methods then agree on
 * everything but those biases (and the running means they shift). Adam with batch norm is therefore checked
 * on the model with bias: false, which is what batch-normalized networks use anyway; and on data without
 * constant input features (MNIST's blank border pixels, constant after normalization, make the first
 * layer's weights on them equally noise-driven under batch norm).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { assertClose } from '../tensor/testing.js';
import { disposeSplits, prepareData, type DataSpec } from '../data/index.js';
import { ConfigError, parseTrainConfig, type TrainConfig, type TrainConfigInput } from './config.js';
import { train, type TrainResult } from './trainer.js';
import { PackedRun, packKey, packingProblems, trainPacked, type PackRung } from './packed.js';

const U = 2 ** -24;
const STEPS = 40;
const BATCH = 50;
const MNIST: DataSpec = { name: 'mnist', subset: 1000 };
const GAUSSIAN: DataSpec = { name: 'gaussian-classification', gaussianClassification: { dim: 20, classes: 4 }, trainSize: 1000, testSize: 500 };

type Optimizer = TrainConfigInput['optimizer'];

function member(data: DataSpec, model: TrainConfigInput['model'], optimizer: Optimizer, seed: number, overrides: Partial<TrainConfigInput> = {}): TrainConfig {
  // eval.every 10: the packed evaluations during training are compared too.
  return parseTrainConfig({ model, data, optimizer, batchSize: BATCH, budget: { steps: STEPS }, eval: { every: 10 }, seed, ...overrides });
}

/** Relative tolerance S·n·u (see the header), n the longest inner product of a step. */
const tolerance = (n: number) => STEPS * n * U;

function assertSameRun(packed: TrainResult, separate: TrainResult, tol: number, what: string): void {
  assert.equal(packed.status, separate.status, `${what}: status`);
  assert.equal(packed.steps, separate.steps, `${what}: steps`);
  assert.equal(packed.examples, separate.examples, `${what}: examples`);
  assert.equal(packed.history.steps.length, separate.history.steps.length, `${what}: recorded steps`);
  const close = (a: number, e: number, field: string) => assert.ok(Math.abs(a - e) <= tol * Math.abs(e), `${what}: ${field} ${a}, separate run ${e} (relative tolerance ${tol.toExponential(2)})`);
  packed.history.steps.forEach((s, i) => {
    const e = separate.history.steps[i]!;
    assert.equal(s.step, e.step);
    assert.equal(s.lr, e.lr, `${what}: learning rate at step ${s.step}`);
    close(s.loss, e.loss, `loss at step ${s.step}`);
    close(s.gradNorm, e.gradNorm, `gradient norm at step ${s.step}`);
  });
  assert.deepEqual(packed.history.evals.map((e) => e.step), separate.history.evals.map((e) => e.step), `${what}: evaluation steps`);
  packed.history.evals.forEach((e, i) => {
    const s = separate.history.evals[i]!;
    close(e.train.loss, s.train.loss, `training loss at evaluation ${e.step}`);
    close(e.test.loss, s.test.loss, `test loss at evaluation ${e.step}`);
    assert.equal(e.test.examples, s.test.examples);
  });
}

function assertSameWeights(packed: Map<string, T.Tensor>, separate: Map<string, T.Tensor>, tol: number, what: string): void {
  assert.deepEqual([...packed.keys()], [...separate.keys()], `${what}: state-dict names`);
  T.tidy(() => {
    for (const [name, e] of separate) {
      const scale = e.dtype === 'int64' ? 0 : e.abs().max().item();
      assertClose(packed.get(name)!, e, { rtol: tol, atol: tol * scale }, `${what}: ${name}`);
    }
  });
}

/** Trains the members packed and one by one on the same prepared data, and compares every member. */
function comparePackedWithSeparate(dataSpec: DataSpec, model: TrainConfigInput['model'], optimizers: readonly Optimizer[], n: number, overrides: Partial<TrainConfigInput> = {}): void {
  const data = prepareData(dataSpec);
  try {
    const configs = optimizers.map((o, k) => member(dataSpec, model, o, k, overrides));
    const packed = trainPacked(configs, { data });
    const separate = configs.map((c) => train(c, { data }));
    configs.forEach((_, k) => {
      assertSameRun(packed[k]!.result, separate[k]!.result, tolerance(n), `member ${k}`);
      assertSameWeights(packed[k]!.model.stateDict(), separate[k]!.model.stateDict(), tolerance(n), `member ${k}`);
    });
    for (const r of [...packed, ...separate]) r.model.dispose();
  } finally {
    disposeSplits(data);
  }
}

// Three members differing in seed, learning rate, momentum, dampening and weight decay.
const SGD: Optimizer[] = [{ name: 'sgd', lr: 0.05 }, { name: 'sgd', lr: 0.1, weightDecay: 5e-4 }, { name: 'sgd', lr: 0.02 }];
const MOMENTUM: Optimizer[] = [{ name: 'sgd', lr: 0.05, momentum: 0.9 }, { name: 'sgd', lr: 0.1, momentum: 0.5, dampening: 0.1, weightDecay: 1e-3 }, { name: 'sgd', lr: 0.02 }];
const ADAM: Optimizer[] = [{ name: 'adam', lr: 1e-3 }, { name: 'adam', lr: 3e-3, beta1: 0.8, weightDecay: 1e-4 }, { name: 'adam', lr: 1e-4, beta2: 0.99, eps: 1e-6 }];

test('packed SGD equals three separate runs (MNIST images, no batch norm)', () => {
  comparePackedWithSeparate(MNIST, { name: 'mlp', widths: [32, 16] }, SGD, 784);
});

test('packed SGD with batch norm equals three separate runs, each with its own batch statistics', () => {
  comparePackedWithSeparate(MNIST, { name: 'mlp', widths: [32, 16], batchNorm: true }, SGD, 784);
});

test('packed momentum SGD (momentum, dampening, weight decay per member) equals separate runs, with and without batch norm', () => {
  comparePackedWithSeparate(MNIST, { name: 'mlp', widths: [32, 16] }, MOMENTUM, 784);
  comparePackedWithSeparate(MNIST, { name: 'mlp', widths: [32, 16], batchNorm: true }, MOMENTUM, 784);
});

test('packed Adam (learning rate, betas, eps, weight decay per member) equals separate runs, with and without batch norm', () => {
  comparePackedWithSeparate(GAUSSIAN, { name: 'mlp', widths: [32, 16] }, ADAM, BATCH);
  comparePackedWithSeparate(GAUSSIAN, { name: 'mlp', widths: [32, 16], batchNorm: true, bias: false }, ADAM, BATCH);
});

test('packed AdamW (decoupled weight decay per member) equals separate runs', () => {
  comparePackedWithSeparate(GAUSSIAN, { name: 'mlp', widths: [32, 16] }, ADAM.map((o) => ({ ...o, name: 'adamw' as const, weightDecay: (o.weightDecay ?? 0) + 1e-2 })), BATCH);
});

test('micro-batches, ghost batch norm, a learning-rate schedule and sampling with replacement are those of the separate runs', () => {
  // B = 100 in micro-batches of 64 + 36 (each its own batch-norm batch, as in train()), ghost batches of 32 within them.
  const overrides: Partial<TrainConfigInput> = { batchSize: 100, microBatchSize: 64, schedule: { kind: 'cosine' }, warmup: { steps: 5 } };
  comparePackedWithSeparate(MNIST, { name: 'mlp', widths: [32, 16], batchNorm: true, ghostBatchSize: 32 }, MOMENTUM, 784, overrides);
  comparePackedWithSeparate(GAUSSIAN, { name: 'mlp', widths: [32, 16] }, SGD, 100, { ...overrides, sampling: 'replacement' });
});

test('a diverging member ends as its separate run does, and leaves the other members as their separate runs', () => {
  const before = T.memory().numTensors;
  const data = prepareData(MNIST);
  try {
    const model = { name: 'mlp' as const, widths: [32, 16] };
    const configs = [{ name: 'sgd', lr: 0.05 }, { name: 'sgd', lr: 1e4 }, { name: 'sgd', lr: 0.02, momentum: 0.9 }].map((o, k) => member(MNIST, model, o as Optimizer, k));
    const packed = trainPacked(configs, { data });
    const separate = configs.map((c) => train(c, { data }));
    const diverged = packed[1]!.result;
    assert.equal(separate[1]!.result.status, 'diverged');
    assert.equal(diverged.status, 'diverged');
    assert.ok(diverged.steps < STEPS, `the diverging member stopped at step ${diverged.steps}`);
    assert.equal(diverged.steps, separate[1]!.result.steps);
    assert.match(diverged.reason!, new RegExp(`^the training loss was \\S+ at step ${diverged.steps - 1} \\(limit 100000\\)$`));
    // Its weights are those after the diverging step's update, as train() leaves them.
    assertSameRun(diverged, separate[1]!.result, tolerance(784), 'the diverging member');
    assertSameWeights(packed[1]!.model.stateDict(), separate[1]!.model.stateDict(), tolerance(784), 'the diverging member');
    for (const k of [0, 2]) {
      assert.equal(packed[k]!.result.status, 'completed');
      assertSameRun(packed[k]!.result, separate[k]!.result, tolerance(784), `member ${k}`);
      assertSameWeights(packed[k]!.model.stateDict(), separate[k]!.model.stateDict(), tolerance(784), `member ${k}`);
    }
    for (const r of [...packed, ...separate]) r.model.dispose();
  } finally {
    disposeSplits(data);
  }
  assert.equal(T.memory().numTensors, before, 'every tensor of the pack is freed');
});

test('a member ended at a rung ends as train() with its budget cut at that step, leaves the pack, and the others end as their full runs', () => {
  const before = T.memory().numTensors;
  const data = prepareData(MNIST);
  try {
    // Batch norm and momentum (member 2's too, so that it would notice member 1's buffer): the running
    // statistics and the momentum buffers lose the ended member's rows, and member 2 moves to its slot.
    // The periodic evaluations on half the training set: the rung's is on all of it, as train()'s at a pause.
    const optimizers: Optimizer[] = [MOMENTUM[0]!, MOMENTUM[1]!, { name: 'sgd', lr: 0.02, momentum: 0.8 }];
    const configs = optimizers.map((o, k) => member(MNIST, { name: 'mlp', widths: [32, 16], batchNorm: true }, o, k, { eval: { every: 10, trainSubset: 500 } }));
    // Rungs at steps 15 and 25, between the periodic evaluations (every 10), so that the cut run's evaluation steps are the ended member's.
    const run = new PackedRun(configs, { data, pauseAfter: ({ step }) => step === 15 || step === 25 });
    const rungs: PackRung[] = [];
    const members: number[][] = [];
    let ended: ReturnType<PackedRun['endAtRung']> = [];
    let rest: ReturnType<PackedRun['finish']> = [];
    try {
      for (let rung = run.advance(); rung !== undefined; rung = run.advance()) {
        rungs.push(rung);
        members.push(run.parameters.map((p) => p.shape[0]!));
        if (rung.step === 25) {
          ended = run.endAtRung([1]);
          members.push(run.parameters.map((p) => p.shape[0]!));
        }
      }
      assert.throws(() => run.endAtRung([0]), /not at a rung/);
      rest = run.finish();
    } finally {
      run.dispose();
    }
    assert.deepEqual(rungs.map((r) => [r.step, r.members.map((m) => m.index)]), [[15, [0, 1, 2]], [25, [0, 1, 2]]]);
    // Every stacked parameter (linear and batch-norm weights and biases) had 3 members until the rung, 2 after it.
    assert.equal(members[0]!.length, 10);
    assert.deepEqual(members, [3, 3, 2].map((k) => members[0]!.map(() => k)));
    const tol = tolerance(784);
    // The ended member: train() of its configuration with the budget cut at the rung (its final evaluation is the rung's).
    assert.deepEqual(ended.map((e) => e.index), [1]);
    const cut = train({ ...configs[1]!, budget: { steps: 25 } }, { data });
    const at = ended[0]!.result;
    assertSameRun(at, cut.result, tol, 'the member ended at the rung');
    assertSameWeights(ended[0]!.model.stateDict(), cut.model.stateDict(), tol, 'the member ended at the rung');
    assert.equal(at.stopped, 'ended at the rung after step 25');
    const atRung = rungs[1]!.members.find((m) => m.index === 1)!.evaluation;
    assert.equal(atRung.train.examples, 1000, "the rung's evaluation is on the whole training set, as train()'s final one");
    for (const split of ['train', 'test'] as const) {
      assert.equal(at[split].loss, atRung[split].loss);
      assert.ok(Math.abs(atRung[split].loss - cut.result[split].loss) <= tol * cut.result[split].loss, `${split} loss at the rung ${atRung[split].loss}, cut run ${cut.result[split].loss}`);
    }
    // The others: their uninterrupted runs (the rungs' evaluations are not in their histories, as a resumed run's are not).
    assert.deepEqual(rest.map((r) => r.index), [0, 2]);
    for (const r of rest) {
      const separate = train(configs[r.index]!, { data });
      assertSameRun(r.result, separate.result, tol, `member ${r.index}`);
      assertSameWeights(r.model.stateDict(), separate.model.stateDict(), tol, `member ${r.index}`);
      separate.model.dispose();
    }
    for (const r of [...ended, ...rest, cut]) r.model.dispose();
  } finally {
    disposeSplits(data);
  }
  assert.equal(T.memory().numTensors, before, 'every tensor of the pack is freed');
});

test('members that differ in more than seed and optimizer hyperparameters are refused, naming the field', () => {
  const a = member(GAUSSIAN, { name: 'mlp', widths: [8] }, { name: 'sgd', lr: 0.1 }, 0);
  const b = parseTrainConfig({ ...a, batchSize: 25 });
  assert.equal(packKey(a), packKey(member(GAUSSIAN, { name: 'mlp', widths: [8] }, { name: 'sgd', lr: 0.3, momentum: 0.9 }, 7)));
  assert.notEqual(packKey(a), packKey(b));
  assert.throws(() => trainPacked([a, b]), (e: unknown) => e instanceof ConfigError && /member 1: differs from member 0 in 'batchSize'/.test(e.message));
  const dropout = parseTrainConfig({ ...a, model: { name: 'mlp', widths: [8], dropout: 0.5 } });
  assert.deepEqual(packingProblems(dropout), ['model.dropout: 0.5 cannot be packed (each member would draw its masks from its own model stream); use 0']);
  assert.throws(() => trainPacked([dropout]), /member 0: model\.dropout/);
  assert.match(packingProblems(parseTrainConfig({ ...a, model: { name: 'lenet5' } })).join(), /model\.name: 'lenet5' cannot be packed; packable models: mlp/);
});
