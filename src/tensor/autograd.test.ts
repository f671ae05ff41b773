/**
 * Autograd: backward and grad, grad mode, and exact Hessian-vector products by double backward,
 * checked against the closed-form Hessian of a quadratic and finite differences of gradients.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from './index.js';
import { assertClose } from './testing.js';

test('backward accumulates ∂loss/∂w into .grad (d/dw Σw² = 2w)', () => {
  T.tidy(() => {
    const w = T.tensor([1, -2, 3]).requiresGrad_();
    w.square().sum().backward();
    assertClose(w.grad!, [2, -4, 6]);
    w.square().sum().backward();
    assertClose(w.grad!, [4, -8, 12]); // accumulated, as in PyTorch
    w.grad = undefined;
    assert.equal(w.grad, undefined);
  });
});

test('a graph is freed after backward unless retainGraph is set', () => {
  T.tidy(() => {
    const w = T.tensor([1, 2]).requiresGrad_();
    const y = w.exp().sum();
    y.backward({ retainGraph: true });
    y.backward();
    assert.throws(() => y.backward(), /backward\(float32\[\]\):.*(second time|freed)/s);
  });
});

test('noGrad records nothing; enableGrad re-enables inside it', () => {
  T.tidy(() => {
    const w = T.tensor([1, 2]).requiresGrad_();
    const y = T.noGrad(() => w.mul(2));
    assert.equal(y.requiresGrad, false);
    assert.equal(T.isGradEnabled(), true);
    const z = T.noGrad(() => T.enableGrad(() => w.mul(2)));
    assert.equal(z.requiresGrad, true);
    assert.throws(() => T.noGrad(() => { throw new Error('x'); }));
    assert.equal(T.isGradEnabled(), true, 'grad mode restored after a throw');
  });
});

test('grad with allowUnused returns undefined for inputs the output ignores', () => {
  T.tidy(() => {
    const a = T.tensor([1, 2]).requiresGrad_();
    const b = T.tensor([3]).requiresGrad_();
    const [ga, gb] = T.grad([a.sum()], [a, b], { allowUnused: true });
    assertClose(ga!, [1, 1]);
    assert.equal(gb, undefined);
    assert.throws(() => T.grad([a.sum()], [b]), /grad/);
  });
});

/** H·v by double backward: ∇_w ⟨∇_w L, v⟩. */
function hessianVectorProduct(loss: (w: T.Tensor) => T.Tensor, w: T.Tensor, v: T.Tensor): T.Tensor {
  const [g] = T.gradients([loss(w)], [w], { createGraph: true });
  const [hv] = T.gradients([T.listDot([g!], [v])], [w]);
  return hv!;
}

test('Hessian-vector product equals A·v for the quadratic ½wᵀAw + bᵀw', () => {
  T.tidy(() => {
    const g = new T.Generator(3);
    const m = T.randn([6, 6], { dtype: 'float64', generator: g });
    const A = m.matmul(m.t()).add(T.eye(6, 6, { dtype: 'float64' }));
    const b = T.randn([6], { dtype: 'float64', generator: g });
    const w = T.randn([6], { dtype: 'float64', generator: g }).requiresGrad_();
    const v = T.randn([6], { dtype: 'float64', generator: g });
    const loss = (x: T.Tensor) => x.matmul(A).dot(x).mul(0.5).add(b.dot(x));
    assertClose(hessianVectorProduct(loss, w, v), A.matmul(v), { rtol: 1e-12, atol: 1e-12 });
  });
});

test('Hessian-vector product of a small network equals finite differences of its gradient', () => {
  T.tidy(() => {
    const g = new T.Generator(5);
    const x = T.randn([8, 4], { dtype: 'float64', generator: g });
    const y = T.randint(0, 3, [8], { generator: g });
    const w = T.randn([3, 4], { dtype: 'float64', generator: g }).mul(0.5).requiresGrad_();
    const v = T.randn([3, 4], { dtype: 'float64', generator: g });
    const loss = (p: T.Tensor) => T.crossEntropy(T.linear(x, p).tanh().mul(2), y);
    const hv = hessianVectorProduct(loss, w, v);
    const eps = 1e-5;
    const gradAt = (p: T.Tensor) => {
      const q = p.detach().requiresGrad_();
      return T.gradients([loss(q)], [q])[0]!;
    };
    const numeric = gradAt(w.detach().add(v, eps)).sub(gradAt(w.detach().sub(v, eps))).div(2 * eps);
    assertClose(hv, numeric, { rtol: 1e-6, atol: 1e-8 });
  });
});
