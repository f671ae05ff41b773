/**
 * Training against PyTorch (fixtures from tools/reference/make_training_fixtures.py): the same
 * model, initial weights (read from a safetensors file PyTorch wrote), data and minibatch order;
 * 100 steps of SGD with momentum and weight decay, Nesterov SGD, Adam and AdamW. Compared: what the
 * mathematics determines, within float32 tolerance: the loss at every step, the final weights and
 * batch-norm statistics, and the function the final network computes (its train-mode outputs on
 * all the fixture's inputs).
 *
 * Not compared element by element: Adam's and AdamW's 1.bias, the bias of the Linear layer that
 * batch norm follows. Its gradient is zero in exact arithmetic (batch norm subtracts the batch
 * mean, so the network's function does not depend on it); what is computed is rounding noise whose
 * sign depends on the BLAS kernels, and Adam divides that noise by its own running RMS into steps
 * of size lr (PyTorch itself, run with OPENBLAS_CORETYPE=SkylakeX instead of the Zen kernels, ends
 * 0.005 away). What is true of it is checked instead: its gradient is rounding noise at every step,
 * the outputs are unchanged, and 2.running_mean (which averages the bias in) agrees once the same
 * running average of the bias is taken out. SGD's update is linear in the gradient, so there the
 * noise stays noise-sized (bounded below) and 1.bias is compared like every other tensor.
 *
 * Tolerances, from an error model rather than from what passed: every step computes sums of at
 * most n = max(B, fan-in) = 32 float32 terms (the batch reductions of the backward pass, the
 * 20-term dot products of the forward), so each step's result carries a relative error of at most
 * n·u (u = 2⁻²⁴, float32's unit roundoff); the learning rates keep the steps contracting or
 * neutral (lr·λ < 1), so those errors add up over the steps rather than grow: after t steps the
 * state is determined to t·n·u relative to its scale (normwise: ‖a − e‖∞ ≤ τ·‖e‖∞, an element that
 * happens to be near zero is not held to a relative tolerance of its own). Between two BLAS kernel
 * sets PyTorch itself differs by about 100× less than these bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import * as T from '../tensor/index.js';
import { readFixture } from '../tensor/testing.js';
import { buildModel, loadSafetensors } from '../nn/index.js';
import { Adam, SGD, type Optimizer } from '../optim/index.js';
import { batchGradient } from './gradient.js';

interface Fixture {
  torch: string;
  x: number[];
  xShape: number[];
  y: number[];
  order: number[][];
  runs: Record<string, {
    losses: number[];
    final: Record<string, { shape: number[]; data: number[] }>;
    /** The final network's train-mode logits on all the fixture's inputs (N × 4, row-major). */
    outputs: number[];
    /** 2.running_mean − c, c the running average (momentum 0.1) of 1.bias at each step's forward. */
    runningMeanLessBias: number[];
  }>;
}
const fixture = readFixture<Fixture>(import.meta.url, 'fixtures/training.json');
const initPath = join(dirname(fileURLToPath(import.meta.url)).replace(/([/\\])dist([/\\])src([/\\])/, '$1src$3'), 'fixtures', 'init.safetensors');

/** float32's unit roundoff. */
const U = 2 ** -24;
const STEPS = fixture.order.length;
const BATCH = fixture.order[0]!.length;
const N = fixture.xShape[0]!;
/** The longest float32 accumulation of a step: the batch reductions (B = 32) or the forward's dot products (20). */
const DEPTH = Math.max(BATCH, fixture.xShape[1]!);
/** Batch norm's momentum (PyTorch's default, sgdlab's too). */
const BN_MOMENTUM = 0.1;

const OPTIMIZERS: Record<string, { make: (p: T.Tensor[]) => Optimizer; /** SGD: the update is lr/(1 − momentum) times the gradient at most */ linear?: { lr: number; momentum: number } }> = {
  sgd_momentum: { make: (p) => new SGD(p, { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 }), linear: { lr: 0.05, momentum: 0.9 } },
  sgd_nesterov: { make: (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true }), linear: { lr: 0.05, momentum: 0.9 } },
  adam: { make: (p) => new Adam(p, { lr: 1e-3 }) },
  adamw: { make: (p) => new Adam(p, { lr: 1e-3, weightDecay: 0.01, decoupled: true }) },
};

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const values = (t: T.Tensor) => Array.from(t.double().data() as Float64Array);

/** ‖got − want‖∞ ≤ tol (tol absolute); returns the ratio ‖got − want‖∞ / tol for the diagnostics. */
function assertWithin(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): number {
  assert.equal(got.length, want.length, `${what}: ${got.length} values, expected ${want.length}`);
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= worst)) { worst = d; at = i; }
  }
  assert.ok(worst <= tol, `${what}: element ${at} is ${got[at]}, expected ${want[at]} (off by ${worst}; tolerance ${tol})`);
  return worst / tol;
}

for (const [name, reference] of Object.entries(fixture.runs)) {
  test(`${name}: 100 steps match PyTorch ${fixture.torch} in everything the mathematics determines`, (t) => {
    const before = T.memory().numTensors;
    const init = loadSafetensors(initPath);
    const model = buildModel({ name: 'mlp', widths: [16], batchNorm: true }, { inputShape: [20], outputs: 4 }, new T.Generator(0));
    const x = T.keep(T.tensor(fixture.x, { shape: fixture.xShape }));
    const y = T.keep(T.tensor(fixture.y, { dtype: 'int64' }));
    const { make, linear } = OPTIMIZERS[name]!;
    const ratios: Record<string, number> = {};
    const note = (what: string, r: number) => { ratios[what] = Math.max(ratios[what] ?? 0, r); };
    try {
      assert.deepEqual([...model.stateDict().keys()].sort(), [...init.tensors.keys()].sort(), 'state-dict keys differ from PyTorch\'s');
      model.loadStateDict(init.tensors);
      const named = model.namedParameters();
      const params = named.map(([, p]) => p);
      const biasIndex = named.findIndex(([n]) => n === '1.bias');
      const weightIndex = named.findIndex(([n]) => n === '1.weight');
      const bias = params[biasIndex]!;
      const optimizer = make(params);
      const losses: number[] = [];
      const biasAverage = new Float64Array(bias.numel); // c_t, as the fixture's
      let largestBiasGradient = 0;
      fixture.order.forEach((batch, step) => {
        T.tidy(() => {
          const b = values(bias);
          b.forEach((v, j) => { biasAverage[j] = (1 - BN_MOMENTUM) * biasAverage[j]! + BN_MOMENTUM * v; });
          const idx = T.tensor(batch, { dtype: 'int64' });
          optimizer.step(() => {
            const g = batchGradient(model, params, 'cross-entropy', x.indexSelect(0, idx), y.indexSelect(0, idx), 1 << 20);
            losses.push(g.loss);
            // 1.bias's gradient is Σ_i ∂L/∂h_i over the batch of the pre-batch-norm activations' gradients,
            // which batch norm makes sum to zero: what is computed is the rounding error of that sum, at most
            // about B·u times its terms. 1.weight's gradient Σ_i ∂L/∂h_i·x_iᵀ is made of the same terms times
            // inputs of order 1 without cancelling, so a real bias gradient (batch norm failing to centre)
            // would be of 1.weight's order; noise is ≤ B·u ≈ 2e-6 of it. Bound: 4·B·u (a factor 4 for the
            // few roundings of each term before the sum).
            const gb = maxAbs(g.grads[biasIndex]!.data() as Float32Array);
            const gw = maxAbs(g.grads[weightIndex]!.data() as Float32Array);
            largestBiasGradient = Math.max(largestBiasGradient, gb);
            note('1.bias gradient / (4·B·u·‖1.weight gradient‖∞)', gb / (4 * BATCH * U * gw));
            assert.ok(gb <= 4 * BATCH * U * gw, `step ${step + 1}: ‖∇ 1.bias‖∞ = ${gb} is not rounding noise next to ‖∇ 1.weight‖∞ = ${gw}`);
            return g.grads;
          });
        });
      });
      optimizer.dispose();

      // The loss at step t (after t − 1 updates) comes from logits z determined to t·n·u of their scale
      // (the state to (t − 1)·n·u, the forward adds n·u). Cross-entropy's conditioning: its gradient in z is
      // softmax − onehot, of ℓ1 norm 2(1 − p_y) ≤ 2L (as L = −log p_y ≥ 1 − p_y), so |ΔL| ≤ 2L·‖Δz‖∞: relative
      // to L, even where it has fallen near zero (SGD's, 0.009). The logits grow during training, so their
      // scale is bounded by the final ones' (the fixture's outputs), and by 1.
      const logitScale = Math.max(1, maxAbs(reference.outputs));
      reference.losses.forEach((want, k) => {
        const tol = 2 * Math.abs(want) * (k + 1) * DEPTH * U * logitScale;
        note('losses', Math.abs(losses[k]! - want) / tol);
        assert.ok(Math.abs(losses[k]! - want) <= tol, `loss at step ${k + 1}: ${losses[k]} vs PyTorch ${want} (tolerance ${tol})`);
      });

      const state = model.stateDict();
      const stateTol = (want: ArrayLike<number>) => STEPS * DEPTH * U * maxAbs(want);
      for (const [key, t] of state) {
        const want = reference.final[key]!;
        assert.deepEqual(t.shape, want.shape, `${key}: shape`);
        if (key.endsWith('num_batches_tracked')) {
          assert.equal(Number(t.item()), want.data[0], key);
          continue;
        }
        if (!linear && (key === '1.bias' || key === '2.running_mean')) continue; // below
        // Under SGD, 1.bias also moves by its noise gradient: at most lr/(1 − momentum) times the largest
        // noise per step, over the steps; 2.running_mean averages the bias, so it inherits that too.
        const noise = key === '1.bias' || key === '2.running_mean' ? STEPS * (linear!.lr / (1 - linear!.momentum)) * largestBiasGradient : 0;
        note(key, T.tidy(() => assertWithin(values(t), want.data, stateTol(want.data) + noise, key)));
      }

      // 2.running_mean − c is the running average of mean(W_t·x) alone: determined like the weights.
      T.tidy(() => {
        const rm = values(state.get('2.running_mean')!);
        const got = rm.map((v, j) => v - biasAverage[j]!);
        note('2.running_mean − c', assertWithin(got, reference.runningMeanLessBias, stateTol(reference.runningMeanLessBias), '2.running_mean less the running average of 1.bias'));
      });
      // The function the network computes, without the bias's undetermined shift: train-mode outputs on
      // all N inputs (batch norm's batch statistics; last, as it updates the running ones). The N-term
      // statistics add N·u to the state's (STEPS·n·u), relative to the size of the logits.
      T.tidy(() => {
        const out = values(T.noGrad(() => model.forward(x)));
        assert.equal(out.length, N * 4);
        const tol = (STEPS * DEPTH + N) * U * maxAbs(reference.outputs);
        note('train-mode outputs', assertWithin(out, reference.outputs, tol, 'train-mode outputs on the fixture\'s inputs'));
      });
      t.diagnostic(`largest |error| / tolerance: ${Object.entries(ratios).map(([k, r]) => `${k} ${r.toExponential(1)}`).join(', ')}`);
    } finally {
      model.dispose();
      T.dispose([x, y, ...init.tensors.values()]);
    }
    assert.equal(T.memory().numTensors, before, 'tensors leaked');
  });
}
