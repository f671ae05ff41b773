/**
 * ε-sharpness of Keskar et al. 2017 (Metric 2.1). For parameters x ∈ Rⁿ and A ∈ R^{n×p}
 * (A = I for the full space, or a seeded random n×p matrix) with pseudo-inverse A⁺:
 *   C_ε = { z ∈ Rᵖ : |z_i| ≤ ε(|(A⁺x)_i| + 1) },
 *   φ_{x,f}(ε, A) = (max_{y ∈ C_ε} f(x + Ay) − f(x)) / (1 + f(x)) × 100,
 * f the training loss over the data, under the objective's batch-norm convention (objective.ts). The
 * paper does not say how A is drawn: entries standard normal ('normal', sgdlab's default) or uniform in
 * [0, 1) ('uniform', as the one public re-implementation draws them); `subspaceDistribution` chooses.
 * The inner maximization runs 10
 * iterations by default, as in the paper, with one of two solvers:
 *   - 'lbfgsb': the paper's L-BFGS-B (Debian's L-BFGS-B 3.0, the code scipy's fmin_l_bfgs_b drives,
 *     with scipy's defaults m = 10, factr = 1e7, pgtol = 1e-5; lbfgsb-native.ts), which stops at
 *     iteration 0 where the projected gradient is below pgtol, as at a deeply converged minimum;
 *   - 'projected': sgdlab's projected quasi-Newton method (lbfgsb.ts), whose first step reaches the box
 *     whatever the gradient's size and which has no gradient tolerance.
 * Both give lower bounds of the same maximum; which is the default was decided by measurement
 * (docs/REPRODUCTIONS.md, "L-BFGS-B beside the projected maximizer").
 *
 * Beside φ the result reports its first-order part, the maximum over the box of the linear term,
 *   φ₁ = Σ_j |(Aᵀ∇f(x))_j| · ε(|(A⁺x)_j| + 1) / (1 + f(x)) × 100   (A = I: ε·Σ|g_i|(|x_i| + 1)/(1 + f)·100),
 * so a reader sees how much of φ is curvature (φ − φ₁ ≈ ½ max yᵀHy for a small box) and how much is
 * the gradient of an unconverged point.
 *
 * At a deeply converged minimum the gradient is tiny and a maximization started at y = 0 may not
 * move (SCIENCE.md §1): every start reports whether it moved and the solver's reason for stopping, and
 * random starts in the box can be added; φ is the best over starts. Compare minima at matched
 * training loss (the paper's Fig. 6).
 */
import * as T from '../tensor/index.js';
import { minimizeBox } from './lbfgsb.js';
import { lbfgsb } from './lbfgsb-native.js';
import type { Objective } from './objective.js';
import { DEFAULT_SHARPNESS_SOLVER, SHARPNESS_SOLVERS, type SharpnessSolver } from './sharpness-solver.js';

export * from './sharpness-solver.js';

export type SubspaceDistribution = 'normal' | 'uniform';
export const SUBSPACE_DISTRIBUTIONS: readonly SubspaceDistribution[] = ['normal', 'uniform'];

export interface SharpnessOptions {
  epsilon: number;
  /** p for a random subspace; omit for the full space (A = I). */
  subspace?: number;
  /** How A's entries are drawn (default 'normal'); see the header. */
  subspaceDistribution?: SubspaceDistribution;
  maxIter?: number;
  memory?: number;
  /** Random starts (uniform in the box) in addition to the start at y = 0. */
  randomStarts?: number;
  seed?: number;
  /** The inner maximizer (default DEFAULT_SHARPNESS_SOLVER). */
  solver?: SharpnessSolver;
  /** L-BFGS-B's tolerances (scipy's defaults: pgtol 1e-5, factr 1e7). */
  pgtol?: number;
  factr?: number;
}

export interface SharpnessStart {
  start: 'zero' | 'random';
  phi: number;
  iterations: number;
  /** Evaluations of f and ∇f over the data. */
  evaluations: number;
  /** Evaluations of f alone (line-search trials). */
  lossEvaluations: number;
  moved: boolean;
  coordinatesAtBound: number;
  /** Why the solver stopped, in its own words (L-BFGS-B's task text, e.g. 'CONVERGENCE: NORM_OF_PROJECTED_GRADIENT_<=_PGTOL'). */
  reason: string;
}

export interface SharpnessResult {
  phi: number;
  /** φ's first-order part: the box maximum of the linear term, Σ|(Aᵀ∇f)_j|·ε(|(A⁺x)_j| + 1)/(1 + f)·100. */
  firstOrder: number;
  solver: SharpnessSolver;
  epsilon: number;
  space: 'full' | 'random-subspace';
  /** How A was drawn; null for the full space. */
  subspaceDistribution: SubspaceDistribution | null;
  /** Dimension of y: n (full space) or p. */
  dimension: number;
  /** f(x) and the largest f(x + Ay) found. */
  loss: number;
  maxLoss: number;
  /** Of the best start. */
  iterations: number;
  evaluations: number;
  coordinatesAtBound: number;
  moved: boolean;
  starts: SharpnessStart[];
  seconds: number;
}

const flat = (ts: readonly T.Tensor[]) => T.cat(ts.map((t) => t.detach().flatten()), 0);

/** f and ∇f (in y) of the problem the solvers minimize, −f(x + Ay), and −f alone. */
interface NegatedLoss {
  evaluate(y: T.Tensor): { f: number; g: T.Tensor };
  value(y: T.Tensor): number;
}

/** What one start's solver reports, in the units of the minimized −f. */
interface StartRun {
  f: number;
  f0: number;
  iterations: number;
  evaluations: number;
  lossEvaluations: number;
  moved: boolean;
  atBound: number;
  reason: string;
}

/** f at x, φ₁, every start, and the best of them with the largest f found. */
interface Maximization {
  f0: number;
  firstOrder: number;
  starts: SharpnessStart[];
  best: SharpnessStart;
  bestMax: number;
}

export function keskarSharpness(objective: Objective, options: SharpnessOptions): SharpnessResult {
  const { epsilon } = options;
  if (!(epsilon > 0)) throw new RangeError(`epsilon must be positive, got ${epsilon}`);
  const started = performance.now();
  const params = objective.params;
  const x = T.keep(flat(params));
  const n = x.numel;
  const p = options.subspace;
  if (p !== undefined && !(Number.isInteger(p) && p >= 1 && p <= n)) throw new RangeError(`subspace must be an integer in 1..${n}, got ${p}`);
  const distribution = options.subspaceDistribution ?? 'normal';
  if (!SUBSPACE_DISTRIBUTIONS.includes(distribution)) throw new RangeError(`subspaceDistribution must be one of ${SUBSPACE_DISTRIBUTIONS.join(', ')}, got ${String(distribution)}`);
  const g = new T.Generator(options.seed ?? 0);
  const { A, half } = subspaceBox(x, epsilon, p === undefined ? undefined : { p, distribution }, g);
  const setParams = parameterSetter(params);
  const solver = options.solver ?? DEFAULT_SHARPNESS_SOLVER;
  let m: Maximization;
  try {
    if (!SHARPNESS_SOLVERS.includes(solver)) throw new RangeError(`solver must be one of ${SHARPNESS_SOLVERS.join(', ')}, got ${String(solver)}`);
    m = maximize(negatedLoss(objective, setParams, x, A), half, g, solver, options);
  } finally {
    setParams(x);
    T.dispose([x, half, ...(A ? [A] : [])]);
  }
  const { f0, firstOrder, starts, best, bestMax } = m;
  return {
    phi: ((bestMax - f0) / (1 + f0)) * 100,
    firstOrder,
    solver,
    epsilon,
    space: p === undefined ? 'full' : 'random-subspace',
    subspaceDistribution: p === undefined ? null : distribution,
    dimension: p ?? n,
    loss: f0,
    maxLoss: bestMax,
    iterations: best.iterations,
    // Passes over the data with a gradient, counting the one at x shared by the zero start and φ₁.
    evaluations: 1 + starts.reduce((s, r) => s + r.evaluations, 0),
    coordinatesAtBound: best.coordinatesAtBound,
    moved: best.moved,
    starts,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * A (an n×p random matrix for a random subspace, stored whole: n·p floats; none for the full space)
 * and the box's half-widths ε(|(A⁺x)_i| + 1).
 */
function subspaceBox(x: T.Tensor, epsilon: number, subspace: { p: number; distribution: SubspaceDistribution } | undefined, g: T.Generator): { A: T.Tensor | undefined; half: T.Tensor } {
  const draw = subspace?.distribution === 'uniform' ? T.rand : T.randn;
  const A = subspace === undefined ? undefined : T.keep(draw([x.numel, subspace.p], { generator: g, dtype: x.dtype, device: T.deviceOf(x) }));
  const half = T.keep(T.tidy(() => {
    const coords = A === undefined ? x : T.pinv(A.double()).matmul(x.double()).to(x.dtype);
    return coords.abs().add(1).mul(epsilon);
  }));
  return { A, half };
}

/** Copies a flat vector into the parameters, in order. */
function parameterSetter(params: readonly T.Tensor[]): (v: T.Tensor) => void {
  const sizes = params.map((p) => p.numel);
  return (v) => T.noGrad(() => T.tidy(() => {
    let offset = 0;
    params.forEach((q, i) => {
      q.copy_(v.narrow(0, offset, sizes[i]!).reshape(q.shape));
      offset += sizes[i]!;
    });
  }));
}

/** −f(x + Ay) and its gradient Aᵀ(−∇f): minimizing −f maximizes f. */
function negatedLoss(objective: Objective, setParams: (v: T.Tensor) => void, x: T.Tensor, A: T.Tensor | undefined): NegatedLoss {
  const moveTo = (y: T.Tensor) => setParams(A === undefined ? x.add(y) : x.add(A.matmul(y)));
  return {
    evaluate: (y) => {
      moveTo(y);
      const { value, gradient } = objective.valueAndGradient();
      const gFlat = T.tidy(() => {
        const full = flat(gradient);
        return A === undefined ? full : A.t().matmul(full);
      });
      T.dispose(gradient);
      return { f: -value, g: T.tidy(() => gFlat.neg()) };
    },
    value: (y) => {
      moveTo(y);
      return -objective.value();
    },
  };
}

/** f and its gradient at y = 0 (φ₁, and the zero start's first evaluation), then every start. */
function maximize(loss: NegatedLoss, half: T.Tensor, g: T.Generator, solver: SharpnessSolver, options: SharpnessOptions): Maximization {
  const starts: SharpnessStart[] = [];
  let g0: T.Tensor | undefined;
  try {
    const zero = T.tidy(() => loss.evaluate(T.zerosLike(half)));
    const f0 = -zero.f;
    let bestMax = f0;
    let best: SharpnessStart | undefined;
    g0 = T.keep(zero.g);
    const gAtZero = g0;
    const firstOrder = (T.tidy(() => gAtZero.double().abs().mul(half.double()).sum().item()) / (1 + f0)) * 100;
    const inits: ['zero' | 'random', () => T.Tensor][] = [['zero', () => T.zerosLike(half)]];
    for (let k = 0; k < (options.randomStarts ?? 0); k++) inits.push(['random', () => T.rand(half.shape, { generator: g, dtype: half.dtype, device: T.deviceOf(half) }).mul(2).sub(1).mul(half)]);
    for (const [kind, init] of inits) {
      const cached = kind === 'zero' ? { f: -f0, g: gAtZero } : undefined;
      const run = solver === 'lbfgsb'
        ? maximizeLbfgsb(init, half, cached, loss.evaluate, options)
        : maximizeProjected(init, half, cached, loss, options);
      const maxLoss = Math.max(-run.f, -run.f0);
      const start: SharpnessStart = {
        start: kind, phi: ((maxLoss - f0) / (1 + f0)) * 100, iterations: run.iterations, evaluations: run.evaluations, lossEvaluations: run.lossEvaluations,
        moved: run.moved, coordinatesAtBound: run.atBound, reason: run.reason,
      };
      starts.push(start);
      if (maxLoss >= bestMax) {
        bestMax = maxLoss;
        best = start;
      }
    }
    return { f0, firstOrder, starts, best: best ?? starts[0]!, bestMax };
  } finally {
    g0?.dispose();
  }
}

/** One start of the maximization by the projected quasi-Newton method (lbfgsb.ts). `cached` is f and g at the start, already known. */
function maximizeProjected(init: () => T.Tensor, half: T.Tensor, cached: { f: number; g: T.Tensor } | undefined, loss: NegatedLoss, options: SharpnessOptions): StartRun {
  return T.tidy(() => {
    let pending = cached;
    const first = (y: T.Tensor) => {
      if (!pending) return loss.evaluate(y);
      const { f, g } = pending;
      pending = undefined;
      return { f, g: g.clone() };
    };
    const r = minimizeBox({ x0: init(), lower: half.neg(), upper: half, evaluate: first, value: loss.value }, { maxIter: options.maxIter ?? 10, memory: options.memory ?? 10 });
    r.x.dispose();
    return { f: r.f, f0: r.f0, iterations: r.iterations, evaluations: r.evaluations - (cached ? 1 : 0), lossEvaluations: r.valueEvaluations, moved: r.moved, atBound: r.atBound, reason: r.reason };
  });
}

/**
 * One start of the maximization by L-BFGS-B in float64: y and the box as Float64Arrays, f and ∇f from
 * `evaluate` (in the model's dtype) widened to float64. `cached` is f and g at the start, already known.
 */
function maximizeLbfgsb(init: () => T.Tensor, half: T.Tensor, cached: { f: number; g: T.Tensor } | undefined, evaluate: NegatedLoss['evaluate'], options: SharpnessOptions): StartRun {
  const h = T.tidy(() => half.double().data() as Float64Array);
  const x0 = T.tidy(() => init().double().data() as Float64Array);
  let pending = cached;
  const r = lbfgsb({
    x0, lower: h.map((v) => -v), upper: h,
    evaluate: (y) => T.tidy(() => {
      if (pending) {
        const { f, g } = pending;
        pending = undefined;
        return { f, g: g.double().data() as Float64Array };
      }
      const { f, g } = evaluate(T.tensor(y, { dtype: 'float64' }).to({ dtype: half.dtype, device: T.deviceOf(half) }));
      return { f, g: g.double().data() as Float64Array };
    }),
  }, { maxIter: options.maxIter ?? 10, memory: options.memory ?? 10, pgtol: options.pgtol, factr: options.factr });
  return { f: r.f, f0: r.f0, iterations: r.iterations, evaluations: r.evaluations - (cached ? 1 : 0), lossEvaluations: 0, moved: r.moved, atBound: r.atBound, reason: r.message };
}
