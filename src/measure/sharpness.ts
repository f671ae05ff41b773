/**
 * ε-sharpness of Keskar et al. 2017 (Metric 2.1). For parameters x ∈ Rⁿ and A ∈ R^{n×p}
 * (A = I for the full space, or a seeded random Gaussian n×p matrix) with pseudo-inverse A⁺:
 *   C_ε = { z ∈ Rᵖ : |z_i| ≤ ε(|(A⁺x)_i| + 1) },
 *   φ_{x,f}(ε, A) = (max_{y ∈ C_ε} f(x + Ay) − f(x)) / (1 + f(x)) × 100,
 * f the training loss over the data (model in evaluation mode). The inner maximization is the
 * bound-constrained quasi-Newton method of lbfgsb.ts, 10 iterations by default as in the paper.
 *
 * At a deeply converged minimum the gradient is tiny and a maximization started at y = 0 may not
 * move (SCIENCE.md §1): every start reports whether it moved, and random starts in the box can be
 * added; φ is the best over starts. Compare minima at matched training loss (the paper's Fig. 6).
 */
import * as T from '../tensor/index.js';
import { minimizeBox } from './lbfgsb.js';
import type { Objective } from './objective.js';

export interface SharpnessOptions {
  epsilon: number;
  /** p for a random subspace; omit for the full space (A = I). */
  subspace?: number;
  maxIter?: number;
  memory?: number;
  /** Random starts (uniform in the box) in addition to the start at y = 0. */
  randomStarts?: number;
  seed?: number;
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
  reason: string;
}

export interface SharpnessResult {
  phi: number;
  epsilon: number;
  space: 'full' | 'random-subspace';
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

export function keskarSharpness(objective: Objective, options: SharpnessOptions): SharpnessResult {
  const { epsilon } = options;
  if (!(epsilon > 0)) throw new RangeError(`epsilon must be positive, got ${epsilon}`);
  const started = performance.now();
  const params = objective.params;
  const sizes = params.map((p) => p.numel);
  const x = T.keep(flat(params));
  const n = x.numel;
  const p = options.subspace;
  if (p !== undefined && !(Number.isInteger(p) && p >= 1 && p <= n)) throw new RangeError(`subspace must be an integer in 1..${n}, got ${p}`);
  const g = new T.Generator(options.seed ?? 0);
  // A as an n×p Gaussian matrix (random subspace), stored whole: n·p floats.
  const A = p === undefined ? undefined : T.keep(T.randn([n, p], { generator: g, dtype: x.dtype }));
  const half = T.keep(T.tidy(() => {
    const coords = A === undefined ? x : T.pinv(A.double()).matmul(x.double()).to(x.dtype);
    return coords.abs().add(1).mul(epsilon);
  }));
  const setParams = (v: T.Tensor) => T.noGrad(() => T.tidy(() => {
    let offset = 0;
    params.forEach((q, i) => {
      q.copy_(v.narrow(0, offset, sizes[i]!).reshape(q.shape));
      offset += sizes[i]!;
    });
  }));
  const f0 = objective.value();
  const evaluate = (y: T.Tensor) => {
    setParams(A === undefined ? x.add(y) : x.add(A.matmul(y)));
    const { value, gradient } = objective.valueAndGradient();
    const gFlat = T.tidy(() => {
      const full = flat(gradient);
      return A === undefined ? full : A.t().matmul(full);
    });
    T.dispose(gradient);
    // Minimize −f, i.e. maximize f.
    return { f: -value, g: T.tidy(() => gFlat.neg()) };
  };
  const value = (y: T.Tensor) => {
    setParams(A === undefined ? x.add(y) : x.add(A.matmul(y)));
    return -objective.value();
  };
  const starts: SharpnessStart[] = [];
  let bestMax = f0;
  let best: SharpnessStart | undefined;
  try {
    const inits: ['zero' | 'random', () => T.Tensor][] = [['zero', () => T.zerosLike(half)]];
    for (let k = 0; k < (options.randomStarts ?? 0); k++) inits.push(['random', () => T.rand(half.shape, { generator: g, dtype: half.dtype }).mul(2).sub(1).mul(half)]);
    for (const [kind, init] of inits) {
      const result = T.tidy(() => minimizeBox({ x0: init(), lower: half.neg(), upper: half, evaluate, value }, { maxIter: options.maxIter ?? 10, memory: options.memory ?? 10 }));
      result.x.dispose();
      const maxLoss = Math.max(-result.f, -result.f0);
      const start: SharpnessStart = {
        start: kind, phi: ((maxLoss - f0) / (1 + f0)) * 100, iterations: result.iterations, evaluations: result.evaluations, lossEvaluations: result.valueEvaluations,
        moved: result.moved, coordinatesAtBound: result.atBound, reason: result.reason,
      };
      starts.push(start);
      if (maxLoss >= bestMax) {
        bestMax = maxLoss;
        best = start;
      }
    }
  } finally {
    setParams(x);
    T.dispose([x, half, ...(A ? [A] : [])]);
  }
  best ??= starts[0]!;
  return {
    phi: ((bestMax - f0) / (1 + f0)) * 100,
    epsilon,
    space: p === undefined ? 'full' : 'random-subspace',
    dimension: p ?? n,
    loss: f0,
    maxLoss: bestMax,
    iterations: best.iterations,
    evaluations: starts.reduce((s, r) => s + r.evaluations, 0),
    coordinatesAtBound: best.coordinatesAtBound,
    moved: best.moved,
    starts,
    seconds: (performance.now() - started) / 1000,
  };
}
