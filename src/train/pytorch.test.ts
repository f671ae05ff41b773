/**
 * Training against PyTorch (fixtures from tools/reference/make_training_fixtures.py): the same
 * model, initial weights (read from a safetensors file PyTorch wrote), data and minibatch order;
 * 100 steps of SGD with momentum and weight decay, Nesterov SGD, Adam and AdamW. The loss at
 * every step and the final state dict (weights and batch-norm statistics) must agree within
 * float32 tolerance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import * as T from '../tensor/index.js';
import { assertClose, readFixture } from '../tensor/testing.js';
import { buildModel, loadSafetensors } from '../nn/index.js';
import { Adam, SGD, type Optimizer } from '../optim/index.js';
import { batchGradient } from './gradient.js';

interface Fixture {
  torch: string;
  x: number[];
  xShape: number[];
  y: number[];
  order: number[][];
  runs: Record<string, { losses: number[]; final: Record<string, { shape: number[]; data: number[] }> }>;
}
const fixture = readFixture<Fixture>(import.meta.url, 'fixtures/training.json');
const initPath = join(dirname(fileURLToPath(import.meta.url)).replace(/([/\\])dist([/\\])src([/\\])/, '$1src$3'), 'fixtures', 'init.safetensors');

const OPTIMIZERS: Record<string, (p: T.Tensor[]) => Optimizer> = {
  sgd_momentum: (p) => new SGD(p, { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 }),
  sgd_nesterov: (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true }),
  adam: (p) => new Adam(p, { lr: 1e-3 }),
  adamw: (p) => new Adam(p, { lr: 1e-3, weightDecay: 0.01, decoupled: true }),
};

for (const [name, reference] of Object.entries(fixture.runs)) {
  test(`${name}: 100 steps match PyTorch ${fixture.torch}`, () => {
    const before = T.memory().numTensors;
    const init = loadSafetensors(initPath);
    const model = buildModel({ name: 'mlp', widths: [16], batchNorm: true }, { inputShape: [20], outputs: 4 }, new T.Generator(0));
    const x = T.keep(T.tensor(fixture.x, { shape: fixture.xShape }));
    const y = T.keep(T.tensor(fixture.y, { dtype: 'int64' }));
    try {
      assert.deepEqual([...model.stateDict().keys()].sort(), [...init.tensors.keys()].sort(), 'state-dict keys differ from PyTorch\'s');
      model.loadStateDict(init.tensors);
      const params = model.parameters();
      const optimizer = OPTIMIZERS[name]!(params);
      const losses: number[] = [];
      for (const batch of fixture.order) {
        T.tidy(() => {
          const idx = T.tensor(batch, { dtype: 'int64' });
          optimizer.step(() => {
            const g = batchGradient(model, params, 'cross-entropy', x.indexSelect(0, idx), y.indexSelect(0, idx), 1 << 20);
            losses.push(g.loss);
            return g.grads;
          });
        });
      }
      optimizer.dispose();
      T.tidy(() => assertClose(T.tensor(losses), reference.losses, { rtol: 1e-4, atol: 1e-5 }, 'losses'));
      for (const [key, t] of model.stateDict()) {
        const expected = reference.final[key]!;
        T.tidy(() => assertClose(t.double(), T.tensor(expected.data, { dtype: 'float64', shape: expected.shape }), { rtol: 1e-3, atol: 2e-5 }, key));
      }
    } finally {
      model.dispose();
      T.dispose([x, y, ...init.tensors.values()]);
    }
    assert.equal(T.memory().numTensors, before, 'tensors leaked');
  });
}
