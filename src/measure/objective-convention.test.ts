/**
 * The objective under the 'batch' batch-norm convention (Keskar et al. 2017's): against PyTorch and scipy
 * (fixtures from tools/reference/make_batchnorm_convention_fixtures.py: f, ∇f, the dense Hessian's top
 * eigenvalue and L-BFGS-B's iterates for φ, all in float64 from the same float32 weights), against finite
 * differences, and the property that makes the convention matter: a shift of a pre-batch-norm bias, the
 * same for every example, cancels under 'batch' and not under 'running'.
 *
 * Tolerances. sgdlab evaluates in float32 (u = 2⁻²⁴ ≈ 6e-8); the reference is exact to float64. f is a mean
 * of N = 96 per-example losses, each from three layers of sums of ≤ 8 products plus batch norm's sums over
 * the ≤ 96 examples of a batch: a forward error bound of about (96 + 3·8 + 10)·u ≈ 130u ≈ 8e-6 relative
 * (the bound; observed errors are ~1e-7). The gradient takes the same sums backwards, and batch norm's
 * backward divides by σ ≥ √(min variance) (the smallest batch standard deviation here is ≈ 0.3): about 3×
 * the forward bound relative to ‖∇f‖∞, so 3e-5·‖∇f‖∞. λ_max: Lanczos's 30 steps converge to float32
 * precision on a 187-dimensional problem with the relative gap (λ₁ − λ₂)/λ₁ ≈ 0.35; each Hessian-vector
 * product carries the gradient's relative error, so 1e-4 relative.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { buildModel, type Module } from '../nn/index.js';
import { readFixture } from '../tensor/testing.js';
import { lbfgsb } from './lbfgsb-native.js';
import { Objective, keskarSharpness, topEigenvalues, type ObjectiveOptions } from './index.js';

interface Phi { f0: number; maxLoss: number; phi: number; iterates: { x: number[]; f: number }[]; nit: number; nfev: number; message: string }
interface Fixture {
  x: number[]; xShape: number[]; y: number[];
  state: Record<string, { shape: number[]; data: number[] }>;
  parameters: string[]; chunk: number; clip: number; epsilon: number;
  batch: { loss: number; gradient: number[]; hessianTop: number[] };
  batchChunks: { loss: number; gradient: number[] };
  batchClipped: { loss: number; gradient: number[] };
  running: { loss: number; gradient: number[] };
  sharpness: Record<'batch' | 'running', Phi>;
}
const fixture = readFixture<Fixture>(import.meta.url, 'fixtures/batchnorm-convention.json');
const spec = { name: 'mlp' as const, widths: [8, 8], batchNorm: true };

/** The fixture's network (sgdlab's mlp with batch norm) holding its float32 state. */
function fixtureModel(): Module {
  const m = buildModel(spec, { inputShape: [6], outputs: 3 }, new T.Generator(0));
  const tensors = new Map(Object.entries(fixture.state).map(([k, v]) => [k, T.tensor(v.data, { shape: v.shape, dtype: k.endsWith('num_batches_tracked') ? 'int64' : 'float32' })]));
  m.loadStateDict(tensors);
  T.dispose([...tensors.values()]);
  return m;
}

/** Runs body on an objective over the fixture's data, freeing everything afterwards. */
function withObjective<R>(options: ObjectiveOptions, body: (o: Objective, model: Module) => R, model = fixtureModel()): R {
  const x = T.tensor(fixture.x, { shape: fixture.xShape });
  const y = T.tensor(fixture.y, { dtype: 'int64' });
  try {
    return body(new Objective(model, x, y, 'cross-entropy', options), model);
  } finally {
    model.dispose();
    T.dispose([x, y]);
  }
}

const flatGradient = (o: Objective) => T.tidy(() => {
  const { value, gradient } = o.valueAndGradient();
  return { value, gradient: Array.from(T.cat(gradient.map((g) => g.flatten()), 0).data() as Float32Array) };
});
const maxAbs = (a: readonly number[]) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

function assertMatches(got: { value: number; gradient: number[] }, want: { loss: number; gradient: number[] }, what: string) {
  assert.ok(Math.abs(got.value - want.loss) <= 8e-6 * Math.abs(want.loss), `${what}: f ${got.value} vs PyTorch ${want.loss}`);
  const scale = maxAbs(want.gradient);
  const err = maxAbs(got.gradient.map((g, i) => g - want.gradient[i]!));
  assert.ok(err <= 3e-5 * scale, `${what}: ‖∇f − ∇f_PyTorch‖∞ = ${err} (‖∇f‖∞ = ${scale})`);
  return `f off by ${(Math.abs(got.value - want.loss) / Math.abs(want.loss)).toExponential(1)} relative, ∇f by ${(err / scale).toExponential(1)} of ‖∇f‖∞`;
}

test("'batch', the whole set as one batch: f and ∇f equal PyTorch's (train() mode, momentum 0, one batch); the running statistics are untouched", (t) => {
  withObjective({ batchNorm: 'batch' }, (o, model) => {
    const buffers = () => T.tidy(() => [...model.stateDict()].filter(([k]) => /running|num_batches/.test(k)).map(([k, b]) => [k, b.toArray()]));
    const before = buffers();
    t.diagnostic(assertMatches(flatGradient(o), fixture.batch, "'batch'"));
    T.tidy(() => o.hessianVectorProduct(o.params.map((p) => T.onesLike(p))));
    assert.ok(Math.abs(o.value() - fixture.batch.loss) <= 8e-6 * fixture.batch.loss);
    assert.deepEqual(buffers(), before);
    assert.deepEqual(o.convention, { batchNorm: 'batch', batchNormBatch: 'all', probabilityClip: null });
  });
});

test("'batch' in chunks of 40 (40, 40 and a last chunk of 16, each normalized by its own statistics): f and ∇f equal PyTorch's", (t) => {
  withObjective({ batchNorm: 'batch', batchNormBatch: fixture.chunk }, (o) => {
    const r = flatGradient(o);
    t.diagnostic(assertMatches(r, fixture.batchChunks, `'batch' in chunks of ${fixture.chunk}`));
    // The chunking is visible: the whole-set value differs by far more than the tolerance.
    assert.ok(Math.abs(r.value - fixture.batch.loss) > 1e-3);
  });
});

test('probability clipping (Keras 1): f and ∇f equal PyTorch\'s −log clip(p_y, c, 1 − c), whose clipped examples have zero gradient', (t) => {
  withObjective({ batchNorm: 'batch', probabilityClip: fixture.clip }, (o) => {
    t.diagnostic(assertMatches(flatGradient(o), fixture.batchClipped, `'batch' clipped at ${fixture.clip}`));
    assert.deepEqual(o.convention, { batchNorm: 'batch', batchNormBatch: 'all', probabilityClip: fixture.clip });
  });
});

test("'running' (evaluation mode): f and ∇f equal PyTorch's eval-mode values, which differ from 'batch'", (t) => {
  withObjective({}, (o) => {
    t.diagnostic(assertMatches(flatGradient(o), fixture.running, "'running'"));
    assert.ok(Math.abs(fixture.running.loss - fixture.batch.loss) > 0.1);
    assert.deepEqual(o.convention, { batchNorm: 'running', batchNormBatch: null, probabilityClip: null });
  });
});

test("λ_max under 'batch' (Lanczos on the objective's Hessian-vector products) equals the largest eigenvalue of PyTorch's dense Hessian", (t) => {
  withObjective({ batchNorm: 'batch' }, (o) => {
    const [lambda] = topEigenvalues(o, { topK: 1, seed: 0 }).eigenvalues;
    const want = fixture.batch.hessianTop[0]!;
    assert.ok(Math.abs(lambda! - want) <= 1e-4 * want, `λ_max ${lambda} vs ${want}`);
    t.diagnostic(`λ_max off by ${(Math.abs(lambda! - want) / want).toExponential(1)} relative`);
  });
});

/**
 * L-BFGS-B's iterates for φ against scipy's, iteration by iteration. The two runs see the same problem
 * but f and ∇f differ by sgdlab's float32 rounding (relative ≤ 8e-6 and 3e-5 above), and θ + y is rounded
 * to float32 (≤ u·|θ_i|, below 1e-5 of the box half-width ε(|θ_i| + 1) for ε = 0.05). L-BFGS-B's step is
 * a continuous function of f and g away from ties in its line search and active set, so iterates agree to
 * a few times those relative errors of the box: 1e-3 of the half-width per coordinate leaves a margin; a
 * tie broken differently would show as an error of order the half-width itself.
 */
for (const convention of ['batch', 'running'] as const) {
  test(`φ under '${convention}' (ε = ${fixture.epsilon}, full space, L-BFGS-B): scipy's iterates, then keskarSharpness's φ`, (t) => {
    const want = fixture.sharpness[convention];
    withObjective({ batchNorm: convention }, (o) => {
      const theta = T.keep(T.tidy(() => T.cat(o.params.map((p) => p.detach().flatten()), 0)));
      const half = Array.from(T.tidy(() => theta.abs().add(1).mul(fixture.epsilon).double().data() as Float64Array));
      const setParams = (v: T.Tensor) => T.noGrad(() => {
        let offset = 0;
        for (const p of o.params) {
          p.copy_(v.narrow(0, offset, p.numel).reshape(p.shape));
          offset += p.numel;
        }
      });
      const iterates: Float64Array[] = [];
      const r = lbfgsb({
        x0: new Float64Array(half.length), lower: Float64Array.from(half, (h) => -h), upper: Float64Array.from(half),
        evaluate: (y) => T.tidy(() => {
          setParams(theta.add(T.tensor(y, { dtype: 'float64' }).float()));
          const { value, gradient } = flatGradient(o);
          return { f: -value, g: Float64Array.from(gradient, (g) => -g) };
        }),
      }, { maxIter: 10, onIterate: (it) => iterates.push(it.x.slice()) });
      T.tidy(() => setParams(theta));
      theta.dispose();
      assert.equal(iterates.length, want.iterates.length);
      let largest = 0;
      want.iterates.forEach((expected, k) => {
        const worst = maxAbs(expected.x.map((v, i) => (iterates[k]![i]! - v) / half[i]!));
        largest = Math.max(largest, worst);
        assert.ok(worst <= 1e-3, `iteration ${k + 1}: largest |y − y_scipy| is ${worst} of the half-width`);
      });
      assert.equal(r.message, want.message);
      const phi = keskarSharpness(o, { epsilon: fixture.epsilon, solver: 'lbfgsb', randomStarts: 0 });
      // φ = (f_max − f₀)/(1 + f₀)·100: f's relative error 8e-6 becomes 8e-6·f_max/(f_max − f₀) ≤ 4e-5 of φ here.
      assert.ok(Math.abs(phi.phi - want.phi) <= 1e-4 * want.phi, `φ ${phi.phi} vs scipy's ${want.phi}`);
      t.diagnostic(`iterates off by at most ${largest.toExponential(1)} of the half-width; φ ${phi.phi} vs scipy's ${want.phi}`);
    });
  });
}

/**
 * Finite differences of f and ∇f along a random unit direction v under 'batch', on a smooth network (tanh,
 * so no kink lies between θ − hv and θ + hv): (f(θ + hv) − f(θ − hv))/2h against ∇fᵀv, and
 * (∇f(θ + hv) − ∇f(θ − hv))ᵀv/2h against vᵀHv. With h = 1e-2: rounding contributes at most 2·δ/(2h), δ the
 * float32 error of f (or ∇fᵀv), ≤ 4u·|f| ≈ 2.7e-7 here, so ≤ 2.7e-5; truncation h²/6·|∂³f/∂v³| ≤ 1.7e-5 for
 * third derivatives ≤ 1 along a unit direction (the errors measured are ~1e-6). Both checks: 5e-5. Batch norm's
 * statistics left out of the graph would change ∇fᵀv at first order (the 'running' value differs in sign here).
 */
test("'batch': the gradient and Hessian-vector products are those of f, batch statistics included (finite differences)", (t) => {
  const model = buildModel({ ...spec, activation: 'tanh' }, { inputShape: [6], outputs: 3 }, new T.Generator(4));
  withObjective({ batchNorm: 'batch' }, (o) => T.tidy(() => {
    const g = new T.Generator(9);
    const raw = o.params.map((p) => T.randn(p.shape, { generator: g }));
    const norm = Math.sqrt(T.listDot(raw, raw).item());
    const v = raw.map((r) => r.div(norm));
    const h = 1e-2;
    const dot = (a: T.Tensor[]) => T.listDot(a, v).item();
    const directional = dot(o.valueAndGradient().gradient);
    const curvature = dot(o.hessianVectorProduct(v));
    const step = (s: number) => T.noGrad(() => T.listAdd_(o.params, v, s));
    step(h);
    const [fPlus, gPlus] = [o.value(), dot(o.valueAndGradient().gradient)];
    step(-2 * h);
    const [fMinus, gMinus] = [o.value(), dot(o.valueAndGradient().gradient)];
    step(h);
    const fd = (fPlus - fMinus) / (2 * h);
    const fdCurvature = (gPlus - gMinus) / (2 * h);
    assert.ok(Math.abs(fd - directional) <= 5e-5, `∇fᵀv ${directional}, finite difference ${fd}`);
    assert.ok(Math.abs(fdCurvature - curvature) <= 5e-5, `vᵀHv ${curvature}, finite difference ${fdCurvature}`);
    t.diagnostic(`∇fᵀv ${directional} (finite difference off by ${Math.abs(fd - directional).toExponential(1)}), vᵀHv ${curvature} (off by ${Math.abs(fdCurvature - curvature).toExponential(1)})`);
  }), model);
});

/**
 * Why the convention matters: adding δ_j to the bias of unit j before a batch norm shifts that unit's
 * pre-activation by δ_j for every example, which the batch's mean subtracts exactly; so under 'batch' f does
 * not change (up to float32 rounding of the shifted sums, ≤ 4u·|δ|/σ_min relative ≈ 1e-6 with |δ| ≤ 1.5 and
 * σ_min ≈ 0.3) and its gradient in those biases is 0 (to the same rounding, relative to ‖∇f‖∞). Under
 * 'running', the fixed running mean does not follow the shift: f changes.
 */
test("a shift of a pre-batch-norm bias, the same for every example, leaves 'batch' f unchanged (zero gradient there) and changes 'running' f", () => {
  const preNorm = ['1.bias', '4.bias'];
  const at = preNorm.map((k) => fixture.parameters.indexOf(k));
  const shifted = (batchNorm: 'batch' | 'running') => withObjective({ batchNorm }, (o) => T.tidy(() => {
    const { value, gradient } = o.valueAndGradient();
    const scale = Math.max(...gradient.map((gr) => gr.abs().max().item()));
    const biasGradient = Math.max(...at.map((i) => gradient[i]!.abs().max().item()));
    T.noGrad(() => at.forEach((i) => o.params[i]!.add_(T.randn(o.params[i]!.shape, { generator: new T.Generator(20 + i) }).mul(0.5))));
    return { before: value, after: o.value(), biasGradient: biasGradient / scale };
  }));
  const batch = shifted('batch');
  assert.ok(Math.abs(batch.after - batch.before) <= 1e-6 * batch.before, `'batch': f ${batch.before} → ${batch.after}`);
  assert.ok(batch.biasGradient <= 1e-5, `'batch': the pre-batch-norm biases' gradient is ${batch.biasGradient} of ‖∇f‖∞`);
  const running = shifted('running');
  assert.ok(Math.abs(running.after - running.before) > 1e-2, `'running': f ${running.before} → ${running.after}`);
  assert.ok(running.biasGradient > 1e-2, `'running': the pre-batch-norm biases' gradient is ${running.biasGradient} of ‖∇f‖∞`);
});

test('a bad convention is an error naming the field, the value and what is allowed', () => {
  const bad = (options: ObjectiveOptions, message: RegExp) => assert.throws(() => withObjective(options, () => undefined), message);
  bad({ batchNorm: 'eval' as 'batch' }, /^RangeError: batchNorm must be running or batch, got eval$/);
  bad({ batchNormBatch: 10 }, /^RangeError: batchNormBatch \(10\) applies to batchNorm 'batch' only, but batchNorm is 'running'$/);
  bad({ batchNorm: 'batch', batchNormBatch: 0 }, /^RangeError: batchNormBatch must be 'all' or a positive integer, got 0$/);
  bad({ probabilityClip: 0.5 }, /^RangeError: probabilityClip must be in \(0, 0\.5\), got 0\.5$/);
  const x = T.zeros([2, 1]);
  const model = buildModel({ name: 'linear-regression' }, { inputShape: [1], outputs: 1 }, new T.Generator(0));
  assert.throws(() => new Objective(model, x, x, 'mse', { probabilityClip: 1e-7 }), /^RangeError: probabilityClip applies to the cross-entropy loss only, but the loss is mse$/);
  model.dispose();
  x.dispose();
});
