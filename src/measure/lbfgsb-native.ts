/**
 * L-BFGS-B 3.0 (Byrd, Lu, Nocedal & Zhu 1995, with Morales & Nocedal's 2011 correction): Debian's
 * liblbfgsb, the Fortran code that scipy's `fmin_l_bfgs_b` drives, linked into the addon as a
 * reverse-communication step (src/native/lbfgsb.cc). The addon holds the solver's state; this module
 * evaluates f and ∇f in float64 whenever the solver asks (task FG_START / FG_LNSRCH) and decides when
 * to stop at each new iterate (NEW_X), exactly as scipy's `_minimize_lbfgsb` loop does, so the
 * iterates are scipy's (src/measure/fixtures/lbfgsb-scipy.json, checked iteration by iteration).
 *
 * Defaults are scipy's: m = 10 correction pairs, factr = 1e7 (stop when the relative decrease of f is
 * below factr·ε_mach ≈ 2.2e-9), pgtol = 1e-5 (stop when ‖proj ∇f‖_∞ ≤ pgtol), 15,000 iterations and
 * evaluations; the line search gives up after 20 trials (Debian's build has scipy's maxls = 20 fixed).
 * The result carries the solver's own stopping text, e.g. 'CONVERGENCE: NORM_OF_PROJECTED_GRADIENT_<=_PGTOL'.
 *
 * Memory: the workspace is (2m + 5)·n + 11m² + 8m doubles (plus x, g, the bounds and 3n integers):
 * for F1 (n = 1,462,794, m = 10) 292 MB.
 */
import { native, type LbfgsbHandle } from '../native/index.js';

export interface LbfgsbProblem {
  x0: Float64Array;
  /** −Infinity / +Infinity leave a side unbounded. */
  lower: Float64Array;
  upper: Float64Array;
  /** f and ∇f at x (x must not be kept: it is reused). */
  evaluate(x: Float64Array): { f: number; g: Float64Array };
}

export interface LbfgsbIterate {
  /** 1-based, as scipy's nit. */
  iteration: number;
  x: Float64Array;
  f: number;
  projectedGradientNorm: number;
  evaluations: number;
}

export interface LbfgsbOptions {
  /** Correction pairs kept (scipy's m / maxcor). Default 10. */
  memory?: number;
  /** Relative-reduction tolerance factor (scipy's factr). Default 1e7. */
  factr?: number;
  /** Projected-gradient tolerance. Default 1e-5. */
  pgtol?: number;
  /** Default 15,000 (scipy's maxiter); the paper's sharpness uses 10. */
  maxIter?: number;
  /** Stop after more than this many evaluations, checked at each new iterate (scipy's maxfun). Default 15,000. */
  maxFun?: number;
  /** Called at every new iterate (x is the solver's copy: clone it to keep it). */
  onIterate?(iterate: LbfgsbIterate): void;
}

export interface LbfgsbResult {
  x: Float64Array;
  f: number;
  /** f at the (projected) start. */
  f0: number;
  iterations: number;
  evaluations: number;
  /** The solver's own final task text, e.g. 'CONVERGENCE: REL_REDUCTION_OF_F_<=_FACTR*EPSMCH' or 'STOP: TOTAL NO. of ITERATIONS REACHED LIMIT'. */
  message: string;
  /** scipy's warnflag: 0 converged, 1 an iteration or evaluation limit, 2 anything else (e.g. ABNORMAL_TERMINATION_IN_LNSRCH). */
  status: 'converged' | 'limit' | 'abnormal';
  /** Whether x left the (projected) start. */
  moved: boolean;
  /** Coordinates at a lower or upper bound at the end. */
  atBound: number;
  projectedGradientNorm: number;
  /** f at the start and at every iterate. */
  history: number[];
}

/** Doubles in setulb's workspace wa for n variables and m pairs (the bulk of its memory). */
export const lbfgsbWorkspaceDoubles = (n: number, m = 10) => (2 * m + 5) * n + 11 * m * m + 8 * m;

export function lbfgsb(problem: LbfgsbProblem, options: LbfgsbOptions = {}): LbfgsbResult {
  const m = options.memory ?? 10;
  const factr = options.factr ?? 1e7;
  const pgtol = options.pgtol ?? 1e-5;
  const maxIter = options.maxIter ?? 15000;
  const maxFun = options.maxFun ?? 15000;
  if (!(Number.isInteger(maxIter) && maxIter >= 1)) throw new RangeError(`L-BFGS-B: maxIter must be a positive integer, got ${maxIter}`);
  if (!(Number.isInteger(maxFun) && maxFun >= 1)) throw new RangeError(`L-BFGS-B: maxFun must be a positive integer, got ${maxFun}`);
  const N = native();
  const { lower, upper } = problem;
  // scipy clips x0 into the box before starting (setulb would project it too).
  const start = problem.x0.map((v, i) => Math.min(Math.max(v, lower[i] ?? -Infinity), upper[i] ?? Infinity));
  const solver: LbfgsbHandle = N.lbfgsbCreate(start, lower, upper, m, factr, pgtol);
  const x = new Float64Array(start.length);
  try {
    let task = N.lbfgsbStep(solver, null, null);
    let iterations = 0;
    let evaluations = 0;
    let f0 = NaN;
    const history: number[] = [];
    for (;;) {
      if (task.startsWith('FG')) {
        N.lbfgsbCopyX(solver, x);
        const { f, g } = problem.evaluate(x);
        evaluations++;
        if (evaluations === 1) {
          f0 = f;
          history.push(f);
        }
        task = N.lbfgsbStep(solver, f, g);
      } else if (task.startsWith('NEW_X')) {
        iterations++;
        const info = N.lbfgsbInfo(solver);
        history.push(info.f);
        if (options.onIterate) {
          N.lbfgsbCopyX(solver, x);
          options.onIterate({ iteration: iterations, x, f: info.f, projectedGradientNorm: info.projectedGradientNorm, evaluations });
        }
        if (iterations >= maxIter) task = N.lbfgsbStop(solver, 'TOTAL NO. of ITERATIONS REACHED LIMIT');
        else if (evaluations > maxFun) task = N.lbfgsbStop(solver, 'TOTAL NO. of f AND g EVALUATIONS EXCEEDS LIMIT');
        else task = N.lbfgsbStep(solver, null, null);
      } else break;
    }
    if (task.startsWith('ERROR')) throw new RangeError(`L-BFGS-B rejected the problem: ${task}`);
    const info = N.lbfgsbInfo(solver);
    N.lbfgsbCopyX(solver, x);
    let moved = false;
    let atBound = 0;
    for (let i = 0; i < x.length; i++) {
      if (x[i] !== start[i]) moved = true;
      const width = upper[i]! - lower[i]!;
      const tol = Number.isFinite(width) ? 1e-9 * width : 0;
      if (x[i]! - lower[i]! <= tol || upper[i]! - x[i]! <= tol) atBound++;
    }
    return {
      x, f: info.f, f0, iterations, evaluations, message: task,
      status: task.startsWith('CONV') ? 'converged' : iterations >= maxIter || evaluations > maxFun ? 'limit' : 'abnormal',
      moved, atBound, projectedGradientNorm: info.projectedGradientNorm, history,
    };
  } finally {
    N.lbfgsbDispose(solver);
  }
}
