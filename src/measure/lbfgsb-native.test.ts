/**
 * The linked L-BFGS-B against scipy's fmin_l_bfgs_b (fixtures from tools/reference/make_lbfgsb_fixtures.py,
 * Debian's python3-scipy): the same problems evaluated with the same float64 arithmetic give the same
 * iterates, iteration by iteration, to 1e-8 relative, with scipy's stopping messages, iteration and
 * evaluation counts. Bad problems (infeasible or NaN bounds, wrong sizes, NaN objectives) are clear
 * errors, never a Fortran abort, and the native entry points survive garbage.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { readFixture } from '../tensor/testing.js';
import { native, type LbfgsbHandle } from '../native/index.js';
import { lbfgsb, lbfgsbWorkspaceDoubles, type LbfgsbProblem } from './lbfgsb-native.js';

interface Network { inputs: number[][]; targets: number[]; theta0: number[]; hidden: number; classes: number }
interface Case {
  name: string; kind: 'quadratic' | 'rosenbrock2' | 'driver1' | 'mlp' | 'mlp-sharpness'; note: string;
  x0: number[]; lower: (number | null)[]; upper: (number | null)[];
  options: { m: number; factr: number; pgtol: number; maxiter: number };
  iterates: { x: number[]; f: number }[]; x: number[]; f: number; message: string; nit: number; nfev: number; warnflag: number;
  Q?: number[][]; b?: number[]; network?: Network; epsilon?: number;
}
const fixture = readFixture<{ scipy: string; cases: Case[] }>(import.meta.url, 'fixtures/lbfgsb-scipy.json');

type FG = (x: Float64Array) => { f: number; g: Float64Array };

/** The objectives, written with the same operations in the same order as the generating script. */
function quadratic(Q: number[][], b: number[]): FG {
  const n = b.length;
  return (x) => {
    const qx = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += Q[i]![j]! * x[j]!;
      qx[i] = s;
    }
    let f = 0;
    for (let i = 0; i < n; i++) f += 0.5 * x[i]! * qx[i]! - b[i]! * x[i]!;
    return { f, g: qx.map((v, i) => v - b[i]!) };
  };
}

const rosenbrock2: FG = (x) => {
  const a = x[0]!, c = x[1]!;
  const r = c - a * a;
  return { f: 100 * r * r + (1 - a) * (1 - a), g: Float64Array.of(-400 * a * r - 2 * (1 - a), 200 * r) };
};

const driver1: FG = (x) => {
  const n = x.length;
  let t1 = x[1]! - x[0]! * x[0]!;
  const g = new Float64Array(n);
  g[0] = 2 * (x[0]! - 1) - 16 * x[0]! * t1;
  let f = 0.25 * (x[0]! - 1) * (x[0]! - 1);
  for (let i = 1; i < n - 1; i++) {
    const t2 = t1;
    t1 = x[i + 1]! - x[i]! * x[i]!;
    g[i] = 8 * t2 - 16 * x[i]! * t1;
    f += t2 * t2;
  }
  f += t1 * t1;
  f = 4 * f;
  g[n - 1] = 8 * t1;
  return { f, g };
};

/** The tiny MLP in sgdlab's float64 tensors (libtorch, as the script's PyTorch): θ = [W1, b1, W2, b2]. */
function mlp(net: Network, sign = 1, offset?: Float64Array): FG {
  const x = T.keep(T.tensor(net.inputs, { dtype: 'float64' }));
  const y = T.keep(T.tensor(net.targets, { dtype: 'int64' }));
  const h = net.hidden, d = net.inputs[0]!.length, c = net.classes;
  return (v) => T.tidy(() => {
    const theta = T.tensor(offset ? v.map((yi, i) => offset[i]! + yi) : v.slice(), { dtype: 'float64' }).requiresGrad_();
    const w1 = theta.narrow(0, 0, h * d).reshape([h, d]);
    const b1 = theta.narrow(0, h * d, h);
    const w2 = theta.narrow(0, h * d + h, c * h).reshape([c, h]);
    const b2 = theta.narrow(0, h * d + h + c * h, c);
    const loss = T.crossEntropy(T.linear(T.tanh(T.linear(x, w1, b1)), w2, b2), y);
    const [g] = T.gradients([loss], [theta]);
    return { f: sign * loss.item(), g: (g!.data() as Float64Array).map((gi) => sign * gi) };
  });
}

function objectiveOf(c: Case): FG {
  if (c.kind === 'quadratic') return quadratic(c.Q!, c.b!);
  if (c.kind === 'rosenbrock2') return rosenbrock2;
  if (c.kind === 'driver1') return driver1;
  if (c.kind === 'mlp') return mlp(c.network!);
  return mlp(c.network!, -1, Float64Array.from(c.network!.theta0));
}

const bound = (v: number | null, side: number) => (v === null ? side * Infinity : v);
const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** float64's machine epsilon, L-BFGS-B's epsmch. */
const EPSMCH = 2 ** -52;
/**
 * Smallest relative distance of a stopping test from its threshold for the count comparisons to be
 * determined. The two runs differ only by float64 rounding in the BLAS calls inside L-BFGS-B (OpenBLAS's
 * kernels, which differ between machines) and in libtorch's float64 evaluation of the network: sums of at
 * most 51 terms over at most 40 iterations, ≤ 51·40·2⁻⁵³ ≈ 2e-13 relative in x and f (2.5e-13 seen
 * between kernel sets). That moves the relative reduction (f_{k−1} − f_k)/max(|f_{k−1}|, |f_k|, 1) by
 * ≤ 2·2e-13 = 2e-4 of its threshold factr·epsmch = 2.2e-9, and the projected gradient (≥ pgtol = 1e-5
 * where it is tested against it) by ≤ ‖∇²f‖·2e-13·‖x‖ ≪ 1e-3 of it. A stop closer than this to its
 * threshold would be decided by rounding: its iteration and evaluation counts would not be scipy's to
 * reproduce, and the fixture should change instead of the comparison.
 */
const STOP_MARGIN = 1e-3;

/**
 * Checks that every stopping decision the run took is well away from its threshold, L-BFGS-B's order of
 * tests at each new iterate: the projected gradient ‖proj g‖∞ ≤ pgtol, then (f_{k−1} − f_k)/max(|f_{k−1}|,
 * |f_k|, 1) ≤ factr·epsmch; then the iteration limit. Returns the closest call, for the diagnostics.
 */
function assertStopsWellConditioned(c: Case, f0: number, iterates: { f: number; pg: number }[]): string {
  const reductionThreshold = c.options.factr * EPSMCH;
  let closest = Infinity, where = 'none';
  const check = (k: number, what: string, value: number, threshold: number, stops: boolean) => {
    const margin = stops ? 1 - value / threshold : value / threshold - 1;
    if (margin < closest) { closest = margin; where = `${what} at iteration ${k}, ${stops ? 'below' : 'above'} its threshold by ${(100 * margin).toPrecision(2)}%`; }
    assert.ok(margin >= STOP_MARGIN, `${c.name} iteration ${k}: ${what} ${value} is within ${STOP_MARGIN} (relative) of its threshold ${threshold}: the stop is decided by rounding`);
  };
  iterates.forEach((it, i) => {
    const k = i + 1, last = k === iterates.length;
    const byGradient = last && c.message.includes('PGTOL');
    check(k, 'the projected gradient', it.pg, c.options.pgtol, byGradient);
    if (byGradient) return;
    const before = i === 0 ? f0 : iterates[i - 1]!.f;
    const reduction = (before - it.f) / Math.max(Math.abs(before), Math.abs(it.f), 1);
    check(k, 'the relative reduction of f', reduction, reductionThreshold, last && c.message.includes('REL_REDUCTION'));
  });
  return where;
}

for (const c of fixture.cases) {
  test(`${c.name} (${c.note}): scipy ${fixture.scipy}'s iterates, iteration by iteration, to 1e-8 relative`, (t) => {
    const iterates: { x: Float64Array; f: number; pg: number }[] = [];
    const r = lbfgsb({
      x0: Float64Array.from(c.x0), lower: Float64Array.from(c.lower, (v) => bound(v, -1)), upper: Float64Array.from(c.upper, (v) => bound(v, 1)),
      evaluate: objectiveOf(c),
    }, { memory: c.options.m, factr: c.options.factr, pgtol: c.options.pgtol, maxIter: c.options.maxiter, onIterate: (it) => iterates.push({ x: it.x.slice(), f: it.f, pg: it.projectedGradientNorm }) });
    const closest = assertStopsWellConditioned(c, r.history[0]!, iterates);
    assert.equal(r.iterations, c.nit, `iterations (${r.message})`);
    assert.equal(iterates.length, c.iterates.length);
    let worst = 0;
    c.iterates.forEach((expected, k) => {
      const got = iterates[k]!;
      const scale = Math.max(maxAbs(expected.x), 1e-300);
      const err = maxAbs(got.x.map((v, i) => v - expected.x[i]!));
      worst = Math.max(worst, err / scale);
      assert.ok(err <= 1e-8 * scale, `${c.name} iteration ${k + 1}: ‖x − x_scipy‖∞ = ${err} (‖x_scipy‖∞ = ${scale})`);
      assert.ok(Math.abs(got.f - expected.f) <= 1e-8 * Math.max(Math.abs(expected.f), 1e-300), `${c.name} iteration ${k + 1}: f ${got.f} vs ${expected.f}`);
    });
    assert.equal(r.message, c.message);
    assert.equal(r.evaluations, c.nfev);
    assert.equal(r.status, ['converged', 'limit', 'abnormal'][c.warnflag]);
    assert.ok(Math.abs(r.f - c.f) <= 1e-8 * Math.max(Math.abs(c.f), 1e-300), `final f ${r.f} vs ${c.f}`);
    assert.equal(r.moved, c.nit > 0);
    t.diagnostic(`${c.nit} iterations, ${r.evaluations} evaluations, ${r.message}; largest ‖x − x_scipy‖∞/‖x_scipy‖∞ over the iterates: ${worst}${worst === 0 ? ' (bit-identical)' : ''}; closest stopping test: ${closest}`);
  });
}

test('the stationary start stops at iteration 0 on pgtol, reports that it did not move, and f0 = f', () => {
  const c = fixture.cases.find((k) => k.name === 'quadratic-stationary-start')!;
  const r = lbfgsb({ x0: Float64Array.from(c.x0), lower: Float64Array.from(c.lower as number[]), upper: Float64Array.from(c.upper as number[]), evaluate: objectiveOf(c) });
  assert.equal(r.message, 'CONVERGENCE: NORM_OF_PROJECTED_GRADIENT_<=_PGTOL');
  assert.equal(r.iterations, 0);
  assert.equal(r.moved, false);
  assert.equal(r.f, r.f0);
  assert.ok(r.projectedGradientNorm <= 1e-5);
});

test('Keskar\'s box maximization on the tiny MLP ends with every coordinate on the box (a vertex)', () => {
  const c = fixture.cases.find((k) => k.name === 'mlp-sharpness')!;
  const r = lbfgsb({ x0: Float64Array.from(c.x0), lower: Float64Array.from(c.lower as number[]), upper: Float64Array.from(c.upper as number[]), evaluate: objectiveOf(c) }, { maxIter: 10 });
  assert.equal(r.atBound, c.x0.length);
  assert.ok(-r.f > -r.f0, 'the loss rose');
});

const quad: FG = (x) => ({ f: x.reduce((s, v) => s + v * v, 0), g: x.map((v) => 2 * v) });
const problem = (over: Partial<LbfgsbProblem> = {}): LbfgsbProblem => ({ x0: new Float64Array([0.5, 0.5, 0.5]), lower: new Float64Array([-1, -1, -1]), upper: new Float64Array([1, 1, 1]), evaluate: quad, ...over });

test('bad bounds and starts are clear errors that name the coordinate and the values', () => {
  assert.throws(() => lbfgsb(problem({ lower: new Float64Array([-1, 2, -1]), upper: new Float64Array([1, 1, 1]) })), /^RangeError: L-BFGS-B: no feasible point: lower\[1\] = 2 > upper\[1\] = 1$/);
  assert.throws(() => lbfgsb(problem({ lower: new Float64Array([-1, -1, Infinity]), upper: new Float64Array([1, 1, Infinity]) })), /no feasible point: lower\[2\] = Infinity > upper\[2\] = Infinity/);
  assert.throws(() => lbfgsb(problem({ upper: new Float64Array([1, NaN, 1]) })), /L-BFGS-B: bound \[1\] is NaN \(lower -1, upper NaN\)/);
  assert.throws(() => lbfgsb(problem({ x0: new Float64Array([0, NaN, 0]) })), /x0\[1\] is NaN \(the start must be finite\)/);
  assert.throws(() => lbfgsb(problem({ lower: new Float64Array([-1, -1]) })), /x0 has 3 entries but lower has 2 and upper 3/);
  assert.throws(() => lbfgsb(problem({ x0: new Float64Array(0), lower: new Float64Array(0), upper: new Float64Array(0) })), /x0 is empty/);
  assert.throws(() => lbfgsb(problem(), { memory: 0 }), /m \(correction pairs kept\) must be an integer in 1\.\.1000, got 0/);
  assert.throws(() => lbfgsb(problem(), { factr: -1 }), /factr must be a finite number ≥ 0, got -1/);
  assert.throws(() => lbfgsb(problem(), { pgtol: NaN }), /pgtol must be a finite number ≥ 0, got NaN/);
  assert.throws(() => lbfgsb(problem(), { maxIter: 0 }), /maxIter must be a positive integer, got 0/);
  // Infinite bounds on the feasible side are fine: unbounded coordinates (nbd = 0, 1, 3).
  const free = lbfgsb(problem({ lower: new Float64Array([-Infinity, 0.25, -Infinity]), upper: new Float64Array([Infinity, Infinity, -0.125]) }));
  assert.deepEqual(Array.from(free.x).map((v) => Math.round(v * 1e6) / 1e6), [0, 0.25, -0.125]);
  assert.equal(free.atBound, 2);
});

test('a NaN or infinite objective or gradient is a clear error at the evaluation where it appears', () => {
  let calls = 0;
  const nanAtThird: FG = (x) => (++calls === 3 ? { f: NaN, g: x.map(() => 0) } : quad(x));
  assert.throws(() => lbfgsb(problem({ evaluate: nanAtThird })), /^RangeError: L-BFGS-B: the objective is NaN at evaluation 3 \(FG_LNSRCH\); L-BFGS-B needs finite values$/);
  assert.throws(() => lbfgsb(problem({ evaluate: (x) => ({ f: Infinity, g: x.slice() }) })), /the objective is Infinity at evaluation 1 \(FG_START\)/);
  assert.throws(() => lbfgsb(problem({ evaluate: (x) => ({ f: 1, g: Float64Array.of(0, -Infinity, 0) }) })), /gradient\[1\] is -Infinity at evaluation 1/);
  assert.throws(() => lbfgsb(problem({ evaluate: (x) => ({ f: 1, g: x.subarray(0, 2) }) })), /the gradient has 2 entries, expected 3/);
  assert.throws(() => lbfgsb(problem({ evaluate: () => ({ f: 1, g: [0, 0, 0] as unknown as Float64Array }) })), /'g' must be a Float64Array/);
});

test('the native steps refuse misuse: finished, disposed, stopped outside NEW_X, or not a solver', () => {
  const N = native();
  const s = N.lbfgsbCreate(new Float64Array([0.5]), new Float64Array([-1]), new Float64Array([1]), 10, 1e7, 1e-5);
  assert.equal(N.lbfgsbInfo(s).workspaceDoubles, lbfgsbWorkspaceDoubles(1, 10));
  assert.throws(() => N.lbfgsbStop(s, 'early'), /can be stopped only at a new iterate \(task NEW_X\), not at START/);
  assert.equal(N.lbfgsbStep(s, null, null), 'FG_START');
  assert.throws(() => N.lbfgsbStep(s, null, null), /'f' must be a number/);
  let task = N.lbfgsbStep(s, 0.25, new Float64Array([1]));
  const x = new Float64Array(1);
  while (task.startsWith('FG') || task.startsWith('NEW_X')) {
    N.lbfgsbCopyX(s, x);
    task = task.startsWith('FG') ? N.lbfgsbStep(s, x[0]! * x[0]!, new Float64Array([2 * x[0]!])) : N.lbfgsbStep(s, null, null);
  }
  assert.match(task, /^CONVERGENCE/);
  assert.throws(() => N.lbfgsbStep(s, 0, new Float64Array(1)), /the solver has finished \(CONVERGENCE: .*\); create a new one/);
  assert.throws(() => N.lbfgsbCopyX(s, new Float64Array(2)), /'out' has 2 entries, expected 1/);
  assert.equal(N.lbfgsbDispose(s), true);
  assert.equal(N.lbfgsbDispose(s), false);
  assert.throws(() => N.lbfgsbInfo(s), /this solver was disposed/);
  assert.throws(() => N.lbfgsbStep({} as LbfgsbHandle, null, null), /argument 1 must be a solver from lbfgsbCreate/);
  assert.throws(() => N.lbfgsbStep(new T.Generator(1).handle as unknown as LbfgsbHandle, null, null), /argument 1 must be a solver/);
});

test('no garbage argument crashes an L-BFGS-B entry point', () => {
  const N = native() as unknown as Record<string, (...args: unknown[]) => unknown>;
  const live = native().lbfgsbCreate(new Float64Array(2), new Float64Array([-1, -1]), new Float64Array([1, 1]), 3, 1e7, 1e-5);
  const pool: unknown[] = [undefined, null, 0, 1, -1, 2.5, NaN, Infinity, 'x', true, {}, [], [1, 2], new Float32Array(2), new Float64Array(0), new Float64Array(2),
    new Float64Array([NaN, 1]), new Float64Array([2, -2]), live, new T.Generator(1).handle, () => 1, Symbol('s')];
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  let threw = 0;
  const names = ['lbfgsbCreate', 'lbfgsbStep', 'lbfgsbStop', 'lbfgsbCopyX', 'lbfgsbInfo'];
  for (const name of names) {
    for (let trial = 0; trial < 400; trial++) {
      const args = Array.from({ length: Math.floor(random() * 7) }, () => pool[Math.floor(random() * pool.length)]);
      try {
        const made = N[name]!(...args);
        if (name === 'lbfgsbCreate') native().lbfgsbDispose(made as LbfgsbHandle);
      } catch (error) {
        threw++;
        assert.ok(error instanceof Error, `${name} threw a non-Error: ${String(error)}`);
      }
    }
  }
  native().lbfgsbDispose(live);
  assert.ok(threw > 1000, `${threw} of ${names.length * 400} calls rejected`);
});
