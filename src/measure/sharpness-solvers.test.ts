/**
 * Keskar sharpness with both inner solvers, and φ's first-order part, against closed forms on linear
 * regression (f(w) = (1/2N)‖Xw − y‖², ∇f = Xᵀ(Xw − y)/N, H = XᵀX/N, all computed here in float64 from
 * the data): φ₁ = Σ_j |(Aᵀ∇f)_j|·ε(|(A⁺w)_j| + 1)/(1 + f)·100, and φ against the values of the
 * quadratic at the box's vertices (where a convex function's box maxima lie). At a minimum whose gradient is below pgtol,
 * L-BFGS-B stops at iteration 0 with its own message while the projected maximizer moves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { buildModel } from '../nn/index.js';
import { Objective, keskarSharpness, DEFAULT_SHARPNESS_SOLVER } from './index.js';

const d = 5;
const N = 200;

/** Linear regression on fixed data, its weights set to w (float32 model, float64 references). */
function setup(w: number[]) {
  const g = new T.Generator(31);
  const x = T.keep(T.randn([N, d], { generator: g }).mul(T.tensor([1.5, 1.2, 1, 0.7, 0.5])));
  const teacher = T.tensor([[0.8, -0.5, 0.3, 1.2, -0.9]]);
  const y = T.keep(T.tidy(() => x.matmul(teacher.t()).add(T.randn([N, 1], { generator: g }).mul(0.3))));
  const model = buildModel({ name: 'linear-regression' }, { inputShape: [d], outputs: 1 }, g);
  T.noGrad(() => model.parameters()[0]!.copy_(T.tensor([w])));
  const X = x.double().toArray() as number[][];
  const Y = (y.double().toArray() as number[][]).map((r) => r[0]!);
  const residual = X.map((row, i) => row.reduce((s, v, j) => s + v * w[j]!, 0) - Y[i]!);
  const f = residual.reduce((s, r) => s + r * r, 0) / (2 * N);
  const grad = w.map((_, j) => X.reduce((s, row, i) => s + row[j]! * residual[i]!, 0) / N);
  const H = w.map((_, a) => w.map((_, b) => X.reduce((s, row) => s + row[a]! * row[b]!, 0) / N));
  return { model, x, y, f, grad, H, dispose: () => { model.dispose(); T.dispose([x, y]); } };
}

/** f(w + My) − f(w) = gᵀMy + ½(My)ᵀH(My) at every vertex of the box (the maximum of a convex quadratic on a box is among them). */
function vertexValues(grad: number[], H: number[][], half: number[], M?: number[][]): number[] {
  const out: number[] = [];
  for (let mask = 0; mask < 1 << half.length; mask++) {
    const z = half.map((h, i) => (mask & (1 << i) ? h : -h));
    const v = M ? M.map((row) => row.reduce((s, a, j) => s + a * z[j]!, 0)) : z;
    const lin = grad.reduce((s, gi, i) => s + gi * v[i]!, 0);
    const quad = v.reduce((s, vi, i) => s + vi * H[i]!.reduce((t, h, j) => t + h * v[j]!, 0), 0);
    out.push(lin + 0.5 * quad);
  }
  return out;
}
const vertexMax = (grad: number[], H: number[][], half: number[], M?: number[][]) => Math.max(...vertexValues(grad, H, half, M));

/** A local maximizer ends at some vertex, not always the best one: φ must be one of the vertex values, and not far below the best. */
function assertAtVertex(phi: number, values: number[], f: number, what: string): void {
  const percent = values.map((v) => (v / (1 + f)) * 100);
  assert.ok(percent.some((v) => Math.abs(phi - v) <= 1e-3 * Math.abs(v)), `${what}: φ ${phi} is no vertex value (${percent.map((v) => v.toPrecision(5)).join(', ')})`);
  assert.ok(phi >= 0.75 * Math.max(...percent), `${what}: φ ${phi} is far below the maximum ${Math.max(...percent)}`);
}

const close = (a: number, b: number, rel: number, what: string) => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${what}: ${a} vs ${b}`);

test('first-order part, full space: ε·Σ|g_i|(|w_i| + 1)/(1 + f)·100 from the closed-form gradient; φ is the vertex maximum by both solvers', () => {
  const w = [0.3, 0.1, -0.4, 0.9, 0.2];
  const s = setup(w);
  const eps = 1e-2;
  const half = w.map((v) => eps * (Math.abs(v) + 1));
  const expectedFirstOrder = (half.reduce((acc, h, i) => acc + Math.abs(s.grad[i]!) * h, 0) / (1 + s.f)) * 100;
  const expectedPhi = (vertexMax(s.grad, s.H, half) / (1 + s.f)) * 100;
  for (const solver of ['lbfgsb', 'projected'] as const) {
    const r = keskarSharpness(new Objective(s.model, s.x, s.y, 'half-mse'), { epsilon: eps, solver, maxIter: 30, randomStarts: 0 });
    assert.equal(r.solver, solver);
    close(r.loss, s.f, 1e-5, 'f(w)');
    close(r.firstOrder, expectedFirstOrder, 1e-5, `${solver}: first-order part`);
    close(r.phi, expectedPhi, 1e-4, `${solver}: φ`);
    assert.ok(r.phi > r.firstOrder, 'a convex loss adds curvature to the linear term');
    assert.equal(r.coordinatesAtBound, d);
    assert.equal(r.starts[0]!.moved, true);
  }
  s.dispose();
});

test('first-order part in a random subspace: Σ|(Aᵀ∇f)_j|·ε(|(A⁺w)_j| + 1)/(1 + f)·100 with the same seeded A', () => {
  const w = [0.3, 0.1, -0.4, 0.9, 0.2];
  const s = setup(w);
  const eps = 5e-2;
  const p = 3;
  const r = keskarSharpness(new Objective(s.model, s.x, s.y, 'half-mse'), { epsilon: eps, subspace: p, solver: 'lbfgsb', maxIter: 30, seed: 4 });
  // A is the first draw of the seed's generator (keskarSharpness's convention), rebuilt here.
  const A = T.tidy(() => T.randn([d, p], { generator: new T.Generator(4) }).double().toArray() as number[][]);
  const coords = T.tidy(() => T.pinv(T.tensor(A, { dtype: 'float64' })).matmul(T.tensor(w, { dtype: 'float64' })).toArray() as number[]);
  const half = coords.map((c) => eps * (Math.abs(c) + 1));
  const projected = half.map((_, j) => A.reduce((acc, row, i) => acc + row[j]! * s.grad[i]!, 0));
  close(r.firstOrder, (half.reduce((acc, h, j) => acc + Math.abs(projected[j]!) * h, 0) / (1 + s.f)) * 100, 1e-4, 'first-order part');
  assertAtVertex(r.phi, vertexValues(s.grad, s.H, half, A), s.f, 'φ');
  assert.equal(r.space, 'random-subspace');
  s.dispose();
});

test('at a minimum (gradient below pgtol) L-BFGS-B stops at iteration 0 and reports it; the projected maximizer moves to a vertex; so does L-BFGS-B from random starts', () => {
  // The exact least-squares minimizer w* = (XᵀX)⁻¹Xᵀy, in float32: the gradient is rounding noise.
  const probe = setup([0, 0, 0, 0, 0]);
  const wStar = T.tidy(() => T.solve(probe.x.double().t().matmul(probe.x.double()), probe.x.double().t().matmul(probe.y.double())).squeeze(1).toArray() as number[]);
  probe.dispose();
  const s = setup(wStar);
  assert.ok(Math.max(...s.grad.map(Math.abs)) < 1e-6, `‖∇f‖∞ = ${Math.max(...s.grad.map(Math.abs))}`);
  const eps = 1e-2;
  const half = wStar.map((v) => eps * (Math.abs(v) + 1));
  const exact = (vertexMax(s.grad, s.H, half) / (1 + s.f)) * 100;
  const paper = keskarSharpness(new Objective(s.model, s.x, s.y, 'half-mse'), { epsilon: eps, solver: 'lbfgsb' });
  assert.equal(paper.phi, 0);
  assert.equal(paper.moved, false);
  assert.equal(paper.iterations, 0);
  assert.equal(paper.starts[0]!.reason, 'CONVERGENCE: NORM_OF_PROJECTED_GRADIENT_<=_PGTOL');
  assert.ok(paper.firstOrder < 1e-3 * exact, `first-order part ${paper.firstOrder} is negligible against φ ${exact}`);
  const ours = keskarSharpness(new Objective(s.model, s.x, s.y, 'half-mse'), { epsilon: eps, solver: 'projected' });
  assert.equal(ours.moved, true);
  assertAtVertex(ours.phi, vertexValues(s.grad, s.H, half), s.f, 'projected');
  assert.equal(ours.coordinatesAtBound, d);
  // L-BFGS-B with random starts in the box finds it too.
  const restarted = keskarSharpness(new Objective(s.model, s.x, s.y, 'half-mse'), { epsilon: eps, solver: 'lbfgsb', randomStarts: 2, maxIter: 30, seed: 1 });
  assertAtVertex(restarted.phi, vertexValues(s.grad, s.H, half), s.f, 'L-BFGS-B from random starts');
  assert.deepEqual(restarted.starts.map((st) => st.moved), [false, true, true]);
  s.dispose();
});

test("an unknown solver is an error naming the choices; the default is the documented 'projected' (README), and it is what runs", () => {
  const s = setup([0.1, 0.1, 0.1, 0.1, 0.1]);
  assert.throws(() => keskarSharpness(new Objective(s.model, s.x, s.y, 'half-mse'), { epsilon: 1e-3, solver: 'bfgs' as 'lbfgsb' }), /solver must be one of lbfgsb, projected, got bfgs/);
  assert.equal(DEFAULT_SHARPNESS_SOLVER, 'projected', 'README and docs/REPRODUCTIONS.md name projected the default');
  const byDefault = keskarSharpness(new Objective(s.model, s.x, s.y, 'half-mse'), { epsilon: 1e-3, maxIter: 1 });
  assert.equal(byDefault.solver, 'projected');
  // Not just the label: the run is the projected solver's (its stop message), not L-BFGS-B's ('STOP: TOTAL NO. of ITERATIONS …').
  const projected = keskarSharpness(new Objective(s.model, s.x, s.y, 'half-mse'), { epsilon: 1e-3, maxIter: 1, solver: 'projected' });
  const lbfgsb = keskarSharpness(new Objective(s.model, s.x, s.y, 'half-mse'), { epsilon: 1e-3, maxIter: 1, solver: 'lbfgsb' });
  assert.deepEqual([byDefault.phi, byDefault.starts[0]!.reason], [projected.phi, projected.starts[0]!.reason]);
  assert.notEqual(byDefault.starts[0]!.reason, lbfgsb.starts[0]!.reason);
  assert.match(lbfgsb.starts[0]!.reason, /^STOP: TOTAL NO\. of ITERATIONS/);
  s.dispose();
});
