/**
 * Bound-constrained minimization, min f(x) subject to l ≤ x ≤ u, by a projected limited-memory
 * quasi-Newton method (Bertsekas 1982; Kim, Sra & Dhillon 2010), of the L-BFGS-B family (Byrd, Lu,
 * Nocedal & Zhu 1995):
 *   - the L-BFGS two-loop recursion (memory m) gives the direction on the free variables; a variable
 *     at a bound whose gradient pushes it outward is held fixed;
 *   - a backtracking line search along the projection arc x(α) = P(x + αd), so steps may cross
 *     bounds and are projected back; it accepts Armijo's sufficient decrease or any strict decrease
 *     (in float32, Armijo's test is noise at tiny steps), and evaluates f alone on trial points;
 *   - the first step is scaled to reach the box (as L-BFGS-B's first step 1/‖g‖ does), so a nearly
 *     flat start still moves, and no gradient tolerance stops it unless asked (pgtol 0 by default).
 * Not implemented from Byrd et al.: the generalized Cauchy point and subspace minimization; this
 * method instead identifies the active set from the projected gradient at every iteration.
 * Vectors are 1-D tensors (any float dtype); the objective returns f and ∇f.
 */
import * as T from '../tensor/index.js';

export interface BoxProblem {
  x0: T.Tensor;
  lower: T.Tensor;
  upper: T.Tensor;
  /** f and ∇f at x (the gradient is owned by the caller; it may be freed). */
  evaluate(x: T.Tensor): { f: number; g: T.Tensor };
  /** f alone, if cheaper than evaluate (line-search trials use it; ∇f is computed at the accepted point). */
  value?(x: T.Tensor): number;
}

export interface BoxOptions {
  maxIter?: number;
  /** Correction pairs kept (m). */
  memory?: number;
  /** Stop when the projected gradient's largest entry falls below this (0: never). */
  pgtol?: number;
  /** Stop when the relative decrease of f over an iteration falls below this (0: never). */
  ftol?: number;
  /** Step halvings per line search (each costs an evaluation of f). */
  maxLineSearch?: number;
}

export interface BoxResult {
  x: T.Tensor;
  f: number;
  f0: number;
  iterations: number;
  /** Evaluations of f and ∇f. */
  evaluations: number;
  /** Evaluations of f alone (line-search trials). */
  valueEvaluations: number;
  /** Whether x moved from the (projected) start. */
  moved: boolean;
  /** Coordinates at their lower or upper bound at the end. */
  atBound: number;
  reason: string;
  history: number[];
}

const project = (x: T.Tensor, l: T.Tensor, u: T.Tensor) => T.minimum(T.maximum(x, l), u);

interface CorrectionPair {
  s: T.Tensor;
  y: T.Tensor;
  rho: number;
}

/** Evaluations made so far: of f and ∇f, and of f alone (line-search trials). */
interface Counts {
  evaluations: number;
  valueEvaluations: number;
}

/** An accepted step: the new point, f and ∇f there, and the correction pair s = x' − x, y = g' − g. */
interface Step {
  xNew: T.Tensor;
  fNew: number;
  gNew: T.Tensor;
  s: T.Tensor;
  y: T.Tensor;
}

export function minimizeBox(problem: BoxProblem, options: BoxOptions = {}): BoxResult {
  const maxIter = options.maxIter ?? 10;
  const m = options.memory ?? 10;
  const pgtol = options.pgtol ?? 0;
  const ftol = options.ftol ?? 0;
  const maxLineSearch = options.maxLineSearch ?? 10;
  const { lower: l, upper: u } = problem;
  return T.noGrad(() => {
    let x = T.keep(project(problem.x0, l, u));
    const start = T.keep(x.clone());
    const counts: Counts = { evaluations: 1, valueEvaluations: 0 };
    let { f, g } = problem.evaluate(x);
    g = T.keep(g);
    const f0 = f;
    const history = [f];
    const pairs: CorrectionPair[] = [];
    let reason = `reached ${maxIter} iterations`;
    let iterations = 0;
    for (let k = 0; k < maxIter; k++) {
      const step = iterate(problem, x, f, g, pairs, { pgtol, maxLineSearch }, counts);
      if ('stop' in step) {
        reason = step.stop;
        break;
      }
      iterations = k + 1;
      remember(pairs, step, m);
      const decrease = (f - step.fNew) / Math.max(Math.abs(f), Math.abs(step.fNew), 1e-300);
      x.dispose();
      g.dispose();
      x = step.xNew;
      g = step.gNew;
      f = step.fNew;
      history.push(f);
      if (ftol > 0 && decrease < ftol) {
        reason = 'relative decrease below ftol';
        break;
      }
    }
    for (const p of pairs) T.dispose([p.s, p.y]);
    g.dispose();
    const summary = T.tidy(() => {
      const range = u.sub(l).abs().mul(1e-9);
      return { moved: x.sub(start).abs().max().item() > 0, atBound: x.sub(l).abs().le(range).add(u.sub(x).abs().le(range)).gt(0).sum().item() };
    });
    start.dispose();
    return { x, f, f0, iterations, ...counts, moved: summary.moved, atBound: summary.atBound, reason, history };
  });
}

/** One iteration from x: a direction on the free variables, then a line search along the projection arc. */
function iterate(problem: BoxProblem, x: T.Tensor, f: number, g: T.Tensor, pairs: readonly CorrectionPair[], options: { pgtol: number; maxLineSearch: number }, counts: Counts): Step | { stop: string } {
  const { lower: l, upper: u } = problem;
  return T.tidy(() => {
    const pg = x.sub(project(x.sub(g), l, u));
    if (options.pgtol > 0 && pg.abs().max().item() <= options.pgtol) return { stop: 'projected gradient below pgtol' };
    if (pg.abs().max().item() === 0) return { stop: 'projected gradient is zero: a stationary point of the box problem (start elsewhere to move)' };
    const free = freeVariables(x, g, l, u);
    const { d, quasiNewton } = direction(g, free, pairs);
    const alpha = quasiNewton ? 1 : stepToFarthestBound(x, d, l, u);
    return lineSearch(problem, x, f, g, d, alpha, options.maxLineSearch, counts)
      ?? { stop: 'the line search found no decrease (a stationary point to working precision)' };
  });
}

/** 1 for a free variable, 0 for a held one: at a bound with the gradient pushing outward. */
function freeVariables(x: T.Tensor, g: T.Tensor, l: T.Tensor, u: T.Tensor): T.Tensor {
  const tol = u.sub(l).abs().mul(1e-12);
  const held = x.sub(l).le(tol).to(x.dtype).mul(g.gt(0).to(x.dtype)).add(u.sub(x).le(tol).to(x.dtype).mul(g.lt(0).to(x.dtype)));
  return held.eq(0).to(x.dtype);
}

/**
 * The L-BFGS two-loop recursion (Nocedal & Wright, Algorithm 7.4) on the free variables; steepest
 * descent when there are no pairs yet or the quasi-Newton direction is not a descent direction.
 */
function direction(g: T.Tensor, free: T.Tensor, pairs: readonly CorrectionPair[]): { d: T.Tensor; quasiNewton: boolean } {
  let q = g.mul(free);
  const alphas: number[] = [];
  for (let i = pairs.length - 1; i >= 0; i--) {
    const a = pairs[i]!.rho * pairs[i]!.s.mul(free).dot(q).item();
    alphas[i] = a;
    q = q.sub(pairs[i]!.y.mul(free), a);
  }
  const last = pairs[pairs.length - 1];
  const gamma = last ? last.s.dot(last.y).item() / last.y.dot(last.y).item() : 1;
  let r = q.mul(gamma);
  for (let i = 0; i < pairs.length; i++) {
    const b = pairs[i]!.rho * pairs[i]!.y.mul(free).dot(r).item();
    r = r.add(pairs[i]!.s.mul(free), alphas[i]! - b);
  }
  const d = r.mul(free).neg();
  if (d.dot(g).item() < 0) return { d, quasiNewton: pairs.length > 0 };
  return { d: g.mul(free).neg(), quasiNewton: false };
}

/**
 * The first trial step of a steepest-descent direction: long enough to reach the farthest bound along d
 * (projection brings it back), like L-BFGS-B's first step 1/‖g‖.
 */
function stepToFarthestBound(x: T.Tensor, d: T.Tensor, l: T.Tensor, u: T.Tensor): number {
  // Coordinates with d = 0 (e.g. dead ReLU units, whose gradient is exactly zero) have no room
  // to move: 0, not 0/0. (1e-300 underflows to 0 in float32, which made this NaN and stopped the search.)
  const room = T.where(d.ne(0), T.where(d.gt(0), u.sub(x), x.sub(l)).div(d.abs().clamp(1e-30)), 0);
  const farthest = room.max().item();
  return Number.isFinite(farthest) ? Math.max(farthest, 1e-12) : 1;
}

/**
 * Backtracking along x(α) = P(x + αd), halving α: accepts Armijo's sufficient decrease or any strict
 * decrease; undefined when no trial decreased f. Runs inside the caller's tidy (the accepted point and
 * gradient are kept).
 */
function lineSearch(problem: BoxProblem, x: T.Tensor, f: number, g: T.Tensor, d: T.Tensor, alpha: number, maxLineSearch: number, counts: Counts): Step | undefined {
  const { lower: l, upper: u } = problem;
  for (let ls = 0; ls < maxLineSearch; ls++, alpha *= 0.5) {
    const xNew = project(x.add(d, alpha), l, u);
    const moved = xNew.sub(x);
    const predicted = g.dot(moved).item();
    let fTrial: number;
    let gTrial: T.Tensor | undefined;
    if (problem.value) {
      fTrial = problem.value(xNew);
      counts.valueEvaluations++;
    } else {
      ({ f: fTrial, g: gTrial } = problem.evaluate(xNew));
      counts.evaluations++;
    }
    if (Number.isFinite(fTrial) && predicted < 0 && (fTrial <= f + 1e-4 * predicted || fTrial < f)) {
      if (gTrial === undefined) {
        ({ f: fTrial, g: gTrial } = problem.evaluate(xNew));
        counts.evaluations++;
      }
      return { xNew: T.keep(xNew), fNew: fTrial, gNew: T.keep(gTrial), s: moved, y: gTrial.sub(g) };
    }
    gTrial?.dispose();
  }
  return undefined;
}

/** Keeps the step's correction pair if its curvature sᵀy is positive enough, dropping the oldest beyond m. */
function remember(pairs: CorrectionPair[], step: Step, m: number): void {
  const sy = step.s.dot(step.y).item();
  if (sy > 1e-10 * step.y.dot(step.y).item()) {
    pairs.push({ s: T.keep(step.s), y: T.keep(step.y), rho: 1 / sy });
    if (pairs.length > m) {
      const dropped = pairs.shift()!;
      T.dispose([dropped.s, dropped.y]);
    }
  } else T.dispose([step.s, step.y]);
}
