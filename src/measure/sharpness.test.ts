/**
 * Keskar ε-sharpness against independent references: on a quadratic (linear regression at its
 * exact minimum) the box-constrained maximum is at a vertex of the box, found by enumerating all
 * vertices; on a trained network φ is at least the value at the best of many random corners.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { buildModel } from '../nn/index.js';
import { parseTrainConfig, train } from '../train/index.js';
import { Objective, keskarSharpness } from './index.js';

function quadratic() {
  const g = new T.Generator(21);
  const d = 5;
  const x = T.keep(T.randn([200, d], { generator: g }).mul(T.tensor([2, 1.5, 1, 0.7, 0.4])));
  const wStar = T.tensor([[0.8, -0.5, 0.3, 1.2, -0.9]]);
  const y = T.keep(x.matmul(wStar.t()));
  const model = buildModel({ name: 'linear-regression' }, { inputShape: [d], outputs: 1 }, g);
  T.noGrad(() => model.parameters()[0]!.copy_(wStar));
  const H = T.keep(T.tidy(() => x.t().matmul(x).div(200).double()));
  return { model, x, y, H, w: (wStar.toArray() as number[][])[0]!, d };
}

/** max over the vertices z ∈ {±e}^p of ½ (Mz)ᵀ H (Mz): the exact box maximum of a convex quadratic. */
function vertexMax(H: T.Tensor, e: number[], M?: T.Tensor): number {
  const p = e.length;
  let best = -Infinity;
  for (let mask = 0; mask < 1 << p; mask++) {
    const z = T.tensor(e.map((v, i) => (mask & (1 << i) ? v : -v)), { dtype: 'float64' });
    const y = M ? M.matmul(z) : z;
    best = Math.max(best, 0.5 * H.matmul(y).dot(y).item());
    z.dispose();
    if (M) y.dispose();
  }
  return best;
}

test('full space: on a quadratic at its minimum, φ equals the vertex maximum; the zero start reports that it did not move', () => {
  const q = quadratic();
  const objective = new Objective(q.model, q.x, q.y, 'half-mse');
  T.tidy(() => {
    const eps = 1e-2;
    const exact = vertexMax(q.H, q.w.map((w) => eps * (Math.abs(w) + 1)));
    const r = keskarSharpness(objective, { epsilon: eps, randomStarts: 6, maxIter: 30, seed: 1 });
    assert.ok(r.loss < 1e-10, `f(x) = ${r.loss}`);
    assert.ok(Math.abs(r.phi - exact * 100) < 1e-4 * exact * 100, `φ ${r.phi} vs exact ${exact * 100}`);
    assert.equal(r.dimension, 5);
    assert.equal(r.coordinatesAtBound, 5);
    const zero = r.starts[0]!;
    assert.equal(zero.start, 'zero');
    assert.equal(zero.moved, false, 'at an exact minimum the gradient is zero: the zero start cannot move');
    assert.equal(zero.phi, 0);
    // The model's weights are restored.
    assert.deepEqual((q.model.parameters()[0]!.toArray() as number[][])[0]!.map((v) => Math.round(v * 1e6) / 1e6), q.w.map((v) => Math.round(v * 1e6) / 1e6));
  });
  q.model.dispose();
  T.dispose([q.x, q.y, q.H]);
});

for (const distribution of ['normal', 'uniform'] as const) {
  test(`random subspace, A ${distribution}: φ equals the maximum over the vertices of the p-dimensional box C_ε`, () => {
    const q = quadratic();
    const objective = new Objective(q.model, q.x, q.y, 'half-mse');
    T.tidy(() => {
      const eps = 5e-2;
      const p = 3;
      const r = keskarSharpness(objective, { epsilon: eps, subspace: p, subspaceDistribution: distribution, randomStarts: 6, maxIter: 30, seed: 2 });
      // Rebuild the same A (the first draw from the same seed: standard normal, or uniform in [0, 1)) and its box independently.
      const draw = distribution === 'normal' ? T.randn : T.rand;
      const A = draw([5, p], { generator: new T.Generator(2) }).double();
      if (distribution === 'uniform') assert.ok(A.min().item() >= 0 && A.max().item() < 1);
      const coords = T.pinv(A).matmul(T.tensor(q.w, { dtype: 'float64' })).toArray() as number[];
      const exact = vertexMax(q.H, coords.map((c) => eps * (Math.abs(c) + 1)), A);
      assert.equal(r.space, 'random-subspace');
      assert.equal(r.subspaceDistribution, distribution);
      assert.equal(r.dimension, 3);
      assert.ok(Math.abs(r.phi - exact * 100) < 1e-3 * exact * 100, `φ ${r.phi} vs exact ${exact * 100}`);
    });
    q.model.dispose();
    T.dispose([q.x, q.y, q.H]);
  });
}

test('on a trained network φ is at least the value at the best of 30 random corners of the box', () => {
  const { model } = train(parseTrainConfig({
    model: { name: 'mlp', widths: [12] },
    data: { name: 'gaussian-classification', gaussianClassification: { dim: 6, classes: 3 }, trainSize: 300, testSize: 50 },
    optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9 }, batchSize: 30, budget: { steps: 100 },
  }));
  const g = new T.Generator(5);
  const data = T.tidy(() => {
    const means = T.randn([3, 6], { generator: g });
    const y = T.randint(0, 3, [300], { generator: g });
    return { x: T.keep(means.indexSelect(0, y).add(T.randn([300, 6], { generator: g }))), y: T.keep(y) };
  });
  const objective = new Objective(model, data.x, data.y, 'cross-entropy');
  const eps = 1e-3;
  const r = keskarSharpness(objective, { epsilon: eps, randomStarts: 2, seed: 3 });
  const params = model.parameters();
  const original = params.map((p) => T.keep(p.detach().clone()));
  let bestCorner = -Infinity;
  for (let k = 0; k < 30; k++) {
    T.noGrad(() => T.tidy(() => params.forEach((p, i) => {
      const sign = T.rand(p.shape, { generator: g }).lt(0.5).float().mul(2).sub(1);
      p.copy_(original[i]!.add(sign.mul(original[i]!.abs().add(1).mul(eps))));
    })));
    bestCorner = Math.max(bestCorner, ((objective.value() - r.loss) / (1 + r.loss)) * 100);
  }
  T.noGrad(() => T.listCopy_(params, original));
  assert.ok(r.phi >= bestCorner, `φ ${r.phi} < best random corner ${bestCorner}`);
  assert.ok(r.moved && r.starts.every((s) => s.moved));
  assert.ok(r.starts.every((s) => s.iterations >= 1), JSON.stringify(r.starts));
  T.dispose([...original, data.x, data.y]);
  model.dispose();
});
