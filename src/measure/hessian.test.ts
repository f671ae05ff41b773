/**
 * Hessian tools against independent references: the analytic Hessian of linear regression
 * (H = XᵀX/N for the ½-squared loss), and the dense Hessian of a small network built entry by
 * entry with double backward (not through Objective.hessianVectorProduct).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { assertClose } from '../tensor/testing.js';
import { buildModel, type Module } from '../nn/index.js';
import { Objective, hessianTrace, spectralDensity, topEigenvalues } from './index.js';

const flat = (v: T.Tensor[]) => T.cat(v.map((t) => t.flatten()), 0);
const unflat = (x: T.Tensor, like: T.Tensor[]) => {
  let offset = 0;
  return like.map((p) => {
    const part = x.narrow(0, offset, p.numel).reshape(p.shape);
    offset += p.numel;
    return part;
  });
};
const descending = (t: T.Tensor) => (t.toArray() as number[]).sort((a, b) => b - a);

function linearRegression(): { model: Module; x: T.Tensor; y: T.Tensor; H: T.Tensor } {
  const g = new T.Generator(11);
  const x = T.keep(T.randn([500, 6], { generator: g }).mul(T.tensor([3, 2, 1.5, 1, 0.5, 0.2])));
  const y = T.keep(T.randn([500, 1], { generator: g }));
  const model = buildModel({ name: 'linear-regression' }, { inputShape: [6], outputs: 1 }, g);
  const H = T.keep(T.tidy(() => x.t().matmul(x).div(500)));
  return { model, x, y, H };
}

test('linear regression: H·v and the top eigenvalues equal those of XᵀX/N', () => {
  const { model, x, y, H } = linearRegression();
  const objective = new Objective(model, x, y, 'half-mse', { chunkSize: 128 });
  T.tidy(() => {
    const v = [T.randn([1, 6], { generator: new T.Generator(1) })];
    assertClose(objective.hessianVectorProduct(v)[0]!.flatten(), H.matmul(v[0]!.flatten()), { rtol: 1e-4, atol: 1e-4 });
    const exact = descending(T.eigh(H).eigenvalues);
    const lanczos = topEigenvalues(objective, { topK: 3 });
    lanczos.eigenvalues.forEach((e, i) => assert.ok(Math.abs(e - exact[i]!) < 1e-3 * exact[0]!, `lanczos ${i}: ${e} vs ${exact[i]}`));
    assert.equal(lanczos.method, 'lanczos');
    assert.ok(lanczos.hvps <= 6 + 3, `Lanczos on a 6-dimensional problem needs at most 6 products (and one per reported residual), used ${lanczos.hvps}`);
    // Residuals are the true ‖Hu − λu‖, checked with the dense H: at convergence near zero; after 3 of 6 steps not.
    const early = topEigenvalues(objective, { topK: 2, maxIter: 3, returnEigenvectors: true });
    early.eigenvalues.forEach((e, i) => {
      const u = early.eigenvectors![i]![0]!.flatten();
      const dense = H.matmul(u).sub(u.mul(e)).norm().item();
      assert.ok(Math.abs(early.residuals[i]! - dense) < 1e-4 * Math.max(dense, 1), `residual ${i}: ${early.residuals[i]} vs dense ${dense}`);
      assert.ok(dense > 1e-3, `after 3 steps the pair ${i} has not converged (dense residual ${dense})`);
    });
    T.dispose(early.eigenvectors!.flat());
    lanczos.residuals.forEach((r) => assert.ok(r < 1e-4 * exact[0]!, `converged residual ${r}`));
    const power = topEigenvalues(objective, { topK: 2, method: 'power', maxIter: 500, tol: 1e-7 });
    power.eigenvalues.forEach((e, i) => assert.ok(Math.abs(e - exact[i]!) < 2e-3 * exact[0]!, `power ${i}: ${e} vs ${exact[i]}`));
  });
  model.dispose();
  T.dispose([x, y, H]);
});

test('small network: Lanczos, power iteration, Hutchinson and SLQ against the dense Hessian', () => {
  const g = new T.Generator(3);
  const model = buildModel({ name: 'mlp', widths: [5], activation: 'tanh' }, { inputShape: [8], outputs: 3 }, g);
  const x = T.keep(T.randn([64, 8], { generator: g }));
  const y = T.keep(T.randint(0, 3, [64], { generator: g }));
  const objective = new Objective(model, x, y, 'cross-entropy', { chunkSize: 20 });
  const params = model.parameters();
  const n = params.reduce((s, p) => s + p.numel, 0);
  T.tidy(() => {
    // The dense Hessian, row by row: ∂(∇f)_i/∂θ.
    const loss = T.crossEntropy(model.forward(x), y);
    const grad = flat(T.gradients([loss], params, { createGraph: true }));
    const rows = Array.from({ length: n }, (_, i) => flat(T.gradients([grad.select(0, i)], params, { retainGraph: true })));
    const H = T.stack(rows, 0).double();
    const Hs = H.add(H.t()).div(2);
    const exact = descending(T.eigh(Hs).eigenvalues);
    const trace = (Hs.flatten().slice(0, 0, undefined, n + 1).sum().item());
    // H·v
    const v = T.randn([n], { generator: new T.Generator(4) });
    assertClose(flat(objective.hessianVectorProduct(unflat(v, params))).double(), Hs.matmul(v.double()), { rtol: 1e-3, atol: 1e-5 });
    // Lanczos with n steps is exact; the top three match the dense eigenvalues.
    const lanczos = topEigenvalues(objective, { topK: 3, maxIter: n, returnEigenvectors: true });
    lanczos.eigenvalues.forEach((e, i) => assert.ok(Math.abs(e - exact[i]!) < 1e-3 * Math.abs(exact[0]!), `lanczos ${i}: ${e} vs ${exact[i]}`));
    const u = flat(lanczos.eigenvectors![0]!).double();
    assertClose(Hs.matmul(u), u.mul(lanczos.eigenvalues[0]!), { rtol: 1e-2, atol: 1e-4 });
    T.dispose(lanczos.eigenvectors!.flat());
    const power = topEigenvalues(objective, { method: 'power', maxIter: 1000, tol: 1e-8 });
    assert.ok(Math.abs(power.eigenvalues[0]! - exact[0]!) < 1e-2 * Math.abs(exact[0]!), `power: ${power.eigenvalues[0]} vs ${exact[0]}`);
    // Hutchinson: within 4 standard errors of the exact trace.
    const h = hessianTrace(objective, { probes: 400, seed: 5 });
    assert.equal(h.hvps, 400);
    assert.ok(Math.abs(h.trace - trace) < 4 * h.standardError, `trace ${h.trace} ± ${h.standardError} vs ${trace}`);
    // SLQ with n steps: every node of weight > 1e-6 is an eigenvalue, weights sum to 1, the density integrates to 1.
    const d = spectralDensity(objective, { steps: n, probes: 2, seed: 6 });
    const all = T.eigh(Hs).eigenvalues.toArray() as number[];
    for (const q of d.quadrature) {
      assert.ok(Math.abs(q.weights.reduce((a, b) => a + b, 0) - 1) < 1e-9);
      q.nodes.forEach((node, j) => {
        if (q.weights[j]! > 1e-6) assert.ok(all.some((e) => Math.abs(e - node) < 1e-3 * Math.max(1, Math.abs(exact[0]!))), `node ${node} is not an eigenvalue`);
      });
    }
    const dt = d.grid[1]! - d.grid[0]!;
    assert.ok(Math.abs(d.density.reduce((a, b) => a + b, 0) * dt - 1) < 0.02);
  });
  assert.equal(model.training, true, 'measurement restores the training mode');
  // Every vector the solvers created was freed: only the model, data and test tensors remain.
  const live = T.memory().numTensors;
  T.tidy(() => { topEigenvalues(objective, { topK: 2 }); hessianTrace(objective, { probes: 3 }); spectralDensity(objective, { steps: 5 }); topEigenvalues(objective, { method: 'power', maxIter: 3 }); });
  assert.equal(T.memory().numTensors, live, 'the Hessian tools leaked tensors');
  assert.ok(objective.cost.hessianVectorProducts > 400 && objective.cost.seconds > 0);
  model.dispose();
  T.dispose([x, y]);
});

test('batch norm is in evaluation mode during measurement (running statistics), then restored', () => {
  const g = new T.Generator(8);
  const model = buildModel({ name: 'mlp', widths: [4], batchNorm: true }, { inputShape: [3], outputs: 2 }, g);
  const x = T.keep(T.randn([10, 3], { generator: g }));
  const y = T.keep(T.randint(0, 2, [10], { generator: g }));
  const objective = new Objective(model, x, y, 'cross-entropy', { chunkSize: 3 });
  // Eval-mode BN makes examples independent, so chunking does not change the value.
  const whole = new Objective(model, x, y, 'cross-entropy', { chunkSize: 10 }).value();
  assert.ok(Math.abs(objective.value() - whole) < 1e-6);
  const running = T.tidy(() => model.stateDict().get('2.running_mean')!.toArray());
  T.tidy(() => void objective.hessianVectorProduct(model.parameters().map((p) => T.onesLike(p))));
  assert.deepEqual(T.tidy(() => model.stateDict().get('2.running_mean')!.toArray()), running, 'running statistics must not change');
  assert.equal(model.training, true);
  model.dispose();
  T.dispose([x, y]);
});
