/**
 * The inner maximizers of Keskar sharpness, by name (addon-free, so study files can be validated
 * without libtorch). 'lbfgsb': the paper's L-BFGS-B (Debian's L-BFGS-B 3.0 with scipy's defaults);
 * 'projected': sgdlab's projected quasi-Newton maximizer (src/measure/lbfgsb.ts).
 */
export type SharpnessSolver = 'lbfgsb' | 'projected';
export const SHARPNESS_SOLVERS: readonly SharpnessSolver[] = ['lbfgsb', 'projected'];
/** The solver that found the larger maximum in 10 iterations on converged F1 minima (docs/REPRODUCTIONS.md). */
export const DEFAULT_SHARPNESS_SOLVER: SharpnessSolver = 'projected';
