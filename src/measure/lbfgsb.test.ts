/** The bound-constrained quasi-Newton method on problems with known solutions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { minimizeBox } from './lbfgsb.js';

const vec = (v: number[]) => T.tensor(v, { dtype: 'float64' });

/** The exact minimizer of ½xᵀQx − bᵀx on a box, by enumerating which coordinates sit at which bound (KKT). */
function exactBoxQP(Q: number[][], b: number[], l: number[], u: number[]): { x: number[]; f: number } {
  const n = b.length;
  let best = { x: [] as number[], f: Infinity };
  for (let code = 0; code < 3 ** n; code++) {
    const state = Array.from({ length: n }, (_, i) => Math.floor(code / 3 ** i) % 3); // 0 free, 1 lower, 2 upper
    const x = state.map((s, i) => (s === 1 ? l[i]! : s === 2 ? u[i]! : 0));
    const freeIdx = state.map((s, i) => (s === 0 ? i : -1)).filter((i) => i >= 0);
    if (freeIdx.length > 0) {
      const sol = T.tidy(() => {
        const A = T.tensor(freeIdx.map((i) => freeIdx.map((j) => Q[i]![j]!)), { dtype: 'float64' });
        const rhs = T.tensor(freeIdx.map((i) => b[i]! - state.reduce((acc, s, j) => acc + (s === 0 ? 0 : Q[i]![j]! * x[j]!), 0)), { dtype: 'float64' });
        return T.solve(A, rhs.unsqueeze(1)).squeeze(1).toArray() as number[];
      });
      freeIdx.forEach((i, k) => (x[i] = sol[k]!));
    }
    if (x.some((v, i) => v < l[i]! - 1e-12 || v > u[i]! + 1e-12)) continue;
    const f = 0.5 * x.reduce((acc, xi, i) => acc + xi * x.reduce((s, xj, j) => s + Q[i]![j]! * xj, 0), 0) - b.reduce((s, bi, i) => s + bi * x[i]!, 0);
    if (f < best.f) best = { x, f };
  }
  return best;
}

test('box-constrained convex quadratics: the minimizer found equals the one from the KKT enumeration', () => {
  const problems = [
    { Q: [[4, 1, 0], [1, 3, 0.5], [0, 0.5, 2]], b: [5, -6, 1], l: [-1, -1, -1], u: [1, 1, 0.2] },
    { Q: [[2, 0.9, 0, 0], [0.9, 1, 0.3, 0], [0, 0.3, 3, 1], [0, 0, 1, 5]], b: [3, 2, -4, 8], l: [0, 0, 0, 0], u: [0.5, 2, 1, 1] },
  ];
  for (const p of problems) {
    T.tidy(() => {
      const Q = T.tensor(p.Q, { dtype: 'float64' });
      const b = vec(p.b);
      const result = minimizeBox({
        x0: T.zeros([p.b.length], { dtype: 'float64' }), lower: vec(p.l), upper: vec(p.u),
        evaluate: (x) => ({ f: Q.matmul(x).dot(x).mul(0.5).sub(b.dot(x)).item(), g: Q.matmul(x).sub(b) }),
      }, { maxIter: 100, pgtol: 1e-10 });
      const exact = exactBoxQP(p.Q, p.b, p.l, p.u);
      (result.x.toArray() as number[]).forEach((v, i) => assert.ok(Math.abs(v - exact.x[i]!) < 1e-6, `x[${i}] = ${v}, exact ${exact.x[i]}`));
      assert.ok(Math.abs(result.f - exact.f) < 1e-9);
      assert.ok(result.atBound >= 1);
      result.x.dispose();
    });
  }
});

test('Rosenbrock with bounds x ≤ 0.5: the constrained minimum (0.5, 0.25)', () => {
  T.tidy(() => {
    const result = minimizeBox({
      x0: vec([-1.2, 1]), lower: vec([-2, -2]), upper: vec([0.5, 2]),
      evaluate: (v) => {
        const [x, y] = v.toArray() as [number, number];
        return { f: 100 * (y - x * x) ** 2 + (1 - x) ** 2, g: vec([-400 * x * (y - x * x) - 2 * (1 - x), 200 * (y - x * x)]) };
      },
    }, { maxIter: 200, pgtol: 1e-9 });
    const [x, y] = result.x.toArray() as [number, number];
    assert.ok(Math.abs(x - 0.5) < 1e-6 && Math.abs(y - 0.25) < 1e-5, `(${x}, ${y}) after ${result.iterations} iterations: ${result.reason}`);
    assert.equal(result.atBound, 1);
    result.x.dispose();
  });
});

test('maximizing ½yᵀHy on a box (the sharpness problem): from a flat start it reports not moving; from a random start it reaches a corner', () => {
  T.tidy(() => {
    const h = vec([3, 1, 0.5, 2]);
    const e = vec([0.1, 0.2, 0.3, 0.05]);
    const problem = (x0: T.Tensor) => ({ x0, lower: e.neg(), upper: e, evaluate: (y: T.Tensor) => ({ f: -0.5 * h.mul(y).dot(y).item(), g: h.mul(y).neg() }) });
    // At y = 0 the gradient is exactly zero: the method must say so instead of reporting a maximum.
    const flat = minimizeBox(problem(T.zeros([4], { dtype: 'float64' })));
    assert.equal(flat.moved, false);
    assert.equal(flat.iterations, 0);
    assert.match(flat.reason, /stationary point/);
    // From a random point inside the box it climbs to a corner, where ½Σ h_i e_i² is the maximum.
    const start = T.rand([4], { dtype: 'float64', generator: new T.Generator(1) }).sub(0.5).mul(e);
    const r = minimizeBox(problem(start), { maxIter: 10 });
    const best = 0.5 * (3 * 0.01 + 1 * 0.04 + 0.5 * 0.09 + 2 * 0.0025);
    assert.ok(Math.abs(-r.f - best) < 1e-12, `max ${-r.f}, expected ${best}`);
    assert.equal(r.atBound, 4);
    assert.ok(r.moved && r.iterations <= 3);
    flat.x.dispose();
    r.x.dispose();
  });
});

test('a nearly flat start (gradient 1e-9) still moves to the boundary, as at a deeply converged minimum', () => {
  T.tidy(() => {
    const h = vec([2, 1]);
    const g0 = vec([1e-9, -1e-9]);
    const e = vec([0.01, 0.01]);
    const r = minimizeBox({ x0: T.zeros([2], { dtype: 'float64' }), lower: e.neg(), upper: e, evaluate: (y) => ({ f: -(g0.dot(y).item() + 0.5 * h.mul(y).dot(y).item()), g: g0.add(h.mul(y)).neg() }) });
    assert.ok(r.moved);
    assert.equal(r.atBound, 2);
    assert.ok(-r.f > 0.5 * (2e-4 + 1e-4) * 0.99);
    r.x.dispose();
  });
});

test('float32, with coordinates whose gradient is exactly zero (dead ReLU units): the first step still reaches the box', () => {
  // f(x) = −cᵀx on [−1, 1]⁴ with c = (2, 0, −1, 0): the minimizer is (1, anything, −1, anything) and f = −3.
  // A NaN in the first step's length (0/0 on the zero coordinates) once made this report "no decrease" at x = 0.
  T.tidy(() => {
    const c = T.tensor([2, 0, -1, 0]);
    const r = minimizeBox({
      x0: T.zeros([4]), lower: T.full([4], -1), upper: T.full([4], 1),
      evaluate: (x) => ({ f: -c.dot(x).item(), g: c.neg() }),
    }, { maxIter: 5 });
    assert.equal(r.moved, true, r.reason);
    assert.equal(r.f, -3);
    assert.deepEqual((r.x.toArray() as number[]).filter((_, i) => i % 2 === 0), [1, -1]);
  });
});
