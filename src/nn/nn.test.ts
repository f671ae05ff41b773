/** Modules, the zoo, initializations, ghost batch norm and state dicts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { assertClose } from '../tensor/testing.js';
import { BatchNorm, MODEL_NAMES, buildModel, fans, initWeight, Linear, type ModelSpec } from './index.js';

test('keskar-f1 has PyTorch\'s state-dict names and 1,462,794 parameters', () => {
  const m = buildModel({ name: 'keskar-f1' }, { inputShape: [1, 28, 28], outputs: 10 }, new T.Generator(0));
  // 784·512 + 512 + 2·512 (BN) + 4·(512·512 + 512 + 2·512) + 512·10 + 10
  assert.equal(m.numParameters(), 784 * 512 + 512 + 1024 + 4 * (512 * 512 + 512 + 1024) + 5130);
  const keys = [...m.stateDict().keys()];
  assert.deepEqual(keys.slice(0, 7), ['1.weight', '1.bias', '2.weight', '2.bias', '2.running_mean', '2.running_var', '2.num_batches_tracked']);
  assert.equal(keys.at(-1), '16.bias');
  m.dispose();
});

test('every zoo model builds and maps a batch to the right output shape', () => {
  const cases: [ModelSpec, number[], number][] = [
    [{ name: 'mlp', widths: [8, 8], activation: 'tanh', batchNorm: true, dropout: 0.1 }, [1, 28, 28], 10],
    [{ name: 'keskar-f1' }, [1, 28, 28], 10],
    [{ name: 'keskar-c1' }, [1, 28, 28], 10],
    [{ name: 'keskar-c1' }, [3, 32, 32], 100],
    [{ name: 'lenet5' }, [1, 28, 28], 10],
    [{ name: 'lenet5' }, [3, 32, 32], 10],
    [{ name: 'linear-regression' }, [7], 1],
    [{ name: 'logistic-regression' }, [1, 28, 28], 10],
    [{ name: 'deep-linear', widths: [5, 5, 5] }, [6], 2],
    [{ name: 'wrn', depth: 10, widen: 1 }, [3, 32, 32], 10],
  ];
  assert.deepEqual(new Set(cases.map(([s]) => s.name)), new Set(MODEL_NAMES));
  for (const [spec, inputShape, outputs] of cases) {
    T.tidy(() => {
      const m = buildModel(spec, { inputShape, outputs }, new T.Generator(0));
      const y = m.forward(T.randn([4, ...inputShape], { generator: new T.Generator(1) }));
      assert.deepEqual(y.shape, [4, outputs], spec.name);
      // One gradient step must work on a CPU too (wrn included).
      const [g] = T.gradients([y.square().mean()], [m.parameters()[0]!]);
      assert.ok(g!.isfinite().logicalNot().sum().item() === 0, `${spec.name}: non-finite gradient`);
      m.dispose();
    });
  }
});

test('unknown model names and bad fields are rejected with what is allowed', () => {
  assert.throws(() => buildModel({ name: 'resnet' as 'mlp' }, { inputShape: [2], outputs: 2 }, new T.Generator(0)), /unknown model 'resnet'; known models: mlp, keskar-f1, keskar-c1, lenet5, linear-regression, logistic-regression, deep-linear, wrn/);
  assert.throws(() => buildModel({ name: 'wrn', depth: 12 }, { inputShape: [3, 32, 32], outputs: 10 }, new T.Generator(0)), /depth must be 6n \+ 4/);
  assert.throws(() => buildModel({ name: 'keskar-c1' }, { inputShape: [784], outputs: 10 }, new T.Generator(0)), /needs image inputs/);
});

test('initializations have the variances their formulas give', () => {
  T.tidy(() => {
    const g = new T.Generator(0);
    const w = T.empty([400, 500]);
    const { fanIn, fanOut } = fans(w.shape);
    assert.deepEqual([fanIn, fanOut], [500, 400]);
    const check = (scheme: Parameters<typeof initWeight>[1], std: number, bound?: number) => {
      initWeight(w, scheme, g);
      const s = w.std().item();
      assert.ok(Math.abs(s / std - 1) < 0.01, `${scheme.scheme}: std ${s}, expected ${std}`);
      if (bound !== undefined) assert.ok(w.abs().max().item() <= bound, `${scheme.scheme}: exceeds ${bound}`);
    };
    check({ scheme: 'default' }, 1 / Math.sqrt(500) / Math.sqrt(3), 1 / Math.sqrt(500));
    check({ scheme: 'xavier-uniform' }, Math.sqrt(2 / 900), Math.sqrt(6 / 900));
    check({ scheme: 'xavier-normal' }, Math.sqrt(2 / 900));
    check({ scheme: 'kaiming-uniform' }, Math.sqrt(2 / 500), Math.sqrt(6 / 500));
    check({ scheme: 'kaiming-normal' }, Math.sqrt(2 / 500));
    check({ scheme: 'normal', std: 0.05 }, 0.05);
    const lin = new Linear(500, 10, { generator: g });
    assert.ok(lin.bias!.abs().max().item() <= 1 / Math.sqrt(500));
    lin.dispose();
  });
});

test('ghost batch norm normalizes each chunk with its own statistics', () => {
  T.tidy(() => {
    const x = T.randn([12, 3], { generator: new T.Generator(2) }).mul(3).add(1);
    const ghost = new BatchNorm(3, { ghostBatchSize: 4 });
    const y = ghost.forward(x);
    const chunks = x.split(4, 0).map((c) => T.batchNorm(c, { training: true }));
    assertClose(y, T.cat(chunks, 0), { rtol: 1e-5, atol: 1e-5 });
    // Each 4-example chunk of the output has mean 0 and (population) variance 1.
    for (const c of y.split(4, 0)) {
      assertClose(c.mean(0), [0, 0, 0], { atol: 1e-5 });
      assertClose(c.var(0, { correction: 0 }), [1, 1, 1], { rtol: 1e-3, atol: 1e-3 });
    }
    assert.equal(ghost.numBatchesTracked.item(), 3);
    // In evaluation mode the running statistics are used, whatever the ghost size.
    ghost.eval();
    const e = ghost.forward(x);
    assertClose(e, T.batchNorm(x, { runningMean: ghost.runningMean, runningVar: ghost.runningVar, training: false }), { rtol: 1e-6, atol: 1e-6 });
    ghost.dispose();
  });
});

test('loadStateDict names missing, unexpected and mis-shaped entries', () => {
  const m = buildModel({ name: 'mlp', widths: [4] }, { inputShape: [3], outputs: 2 }, new T.Generator(0));
  T.tidy(() => {
    const state = new Map(m.stateDict());
    state.delete('1.bias');
    state.set('extra', T.zeros([1]));
    assert.throws(() => m.loadStateDict(state), /missing: 1\.bias; unexpected: extra/);
    const wrong = new Map(m.stateDict());
    wrong.set('1.weight', T.zeros([5, 3]));
    assert.throws(() => m.loadStateDict(wrong), /'1\.weight' has shape \[5, 3\] but the model expects \[4, 3\]/);
  });
  m.dispose();
});
