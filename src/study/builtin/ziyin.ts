/**
 * Ziyin, Liu, Mori & Ueda 2022, "Strength of Minibatch Noise in SGD" (SCIENCE.md §3). Four parts,
 * one grid each (the trials are their union):
 *  1. 1-D label-noise linear regression (a = 1, σ² = 1, u = 1, online samples): the stationary weight
 *     variance Σ and training/test loss over learning rates λ and batch sizes S, against the exact
 *     Σ = λσ²/(2S − λa(S + 2)) (diverging at λa = 2S/(S + 2)) and the continuous-time λσ²/(2S);
 *  2. 2-D with a correlated input covariance: the fluctuation ellipse Cov(w) against the exact Σ and
 *     the Hessian A;
 *  3. width sweep of a 1-hidden-layer tanh MLP on MNIST at λ = 0.5 and at λ ∝ 1/d: the variance of
 *     the training loss at stationarity;
 *  4. logistic regression on MNIST at λ = 1.5, S = 32 over weight decay γ, negative values included:
 *     where is the best test loss?
 */
import type { StudyInput } from '../schema.js';
import type { BuiltinStudy } from './types.js';

/** The input covariance of the 2-D part (eigenvalues ≈ 1.28 and 0.22, axes rotated from the coordinates). */
export const ZIYIN_2D_COVARIANCE = [[1, 0.5], [0.5, 0.5]];

interface Sizes { lrs: number[]; batchSizes: number[]; steps: number; widths: number[]; mnist: number; epochs: number; weightDecays: number[]; seeds: number[] }

function ziyinStudy(size: string, z: Sizes): StudyInput {
  const regression = (dim: number, covariance: unknown) => ({ name: 'linear-regression', linearRegression: { dim, covariance, teacher: new Array(dim).fill(1), labelNoise: 1 }, trainSize: 100, testSize: 100 });
  return {
    name: 'ziyin',
    description: `Ziyin et al. 2022, the strength of minibatch noise (${size} size).`,
    base: {
      model: { name: 'linear-regression' },
      data: regression(1, [1]),
      optimizer: { name: 'sgd', lr: 0.5 },
      batchSize: 10,
      sampling: 'fresh',
      budget: { steps: z.steps },
      eval: { every: 1_000_000_000 },
      divergenceLoss: 1e9,
      logEvery: 100,
    },
    grid: [
      { 'optimizer.lr': z.lrs, batchSize: z.batchSizes, seed: z.seeds },
      { 'data.linearRegression': [{ dim: 2, covariance: ZIYIN_2D_COVARIANCE, teacher: [1, 1], labelNoise: 1 }], 'optimizer.lr': [0.5], batchSize: [4], seed: z.seeds },
      ...z.widths.flatMap((d) => [{
        model: [{ name: 'mlp', widths: [d], activation: 'tanh' }], data: [{ name: 'mnist', subset: z.mnist }], sampling: ['reshuffle'],
        budget: [{ epochs: z.epochs }], batchSize: [32], 'optimizer.lr': [0.5, Number((0.5 * 100 / d).toPrecision(6))], logEvery: [1],
      }]),
      {
        // Pixels in [0, 1] (not standardized): with standardized inputs λ = 1.5 is past stability.
        model: [{ name: 'logistic-regression' }], data: [{ name: 'mnist', subset: z.mnist, normalize: false }], sampling: ['reshuffle'], budget: [{ epochs: z.epochs }],
        batchSize: [32], 'optimizer.lr': [1.5], 'optimizer.weightDecay': z.weightDecays, logEvery: [1],
      },
    ],
    select: 'trainLoss',
    record: { fluctuations: { burnIn: 0.25 } },
  };
}

/** The paper size's learning rate and batch size of the weight-decay experiments (Ziyin et al. Fig. 1 right). */
export const ZIYIN_DECAY_LR = 1.5;
export const ZIYIN_DECAY_BATCH = 32;
/**
 * The weight decays of the paper size's label-noise regression at λ = 1.5, S = 32, a = 1 (λa = 1.5, inside
 * 1 < λa < 2S/(S + 2) = 1.88 where theory/ziyin.ts's optimalWeightDecayIsNegative holds): the exact optimum
 * is γ* = −0.062, its test loss 7% below γ = 0's.
 */
export const ZIYIN_REGRESSION_DECAYS = [-0.15, -0.1, -0.075, -0.05, -0.025, 0, 0.025, 0.05, 0.1];
/**
 * The paper size's weight decays on MNIST, fine around 0: at λ = 1.5 on pixels in [0, 1] a decay of ±1e-3
 * already moves the test accuracy by 6–10 points (a 5-epoch probe), and a negative γ makes the penalized loss
 * unbounded below, so the weights grow like e^{λ|γ|t} (e^{5.6} over 10 epochs at |γ| = 2e-4). The first paper-size
 * run (2026-12-05) put the best test error at −2e-4 and the best test loss at +2e-4, both on the grid's edges, so
 * ±4e-4 and ±8e-4 extend it to where each curve turns or the runaway growth (e^{22} at −8e-4) takes over.
 */
export const ZIYIN_MNIST_DECAYS = [-0.0008, -0.0004, -0.0002, -0.0001, -0.00005, -0.000025, 0, 0.000025, 0.00005, 0.0001, 0.0002, 0.0004, 0.0008];
/** The step budgets of the paper size's C-along-training trials (1-D, λ = 0.05, S = 10). */
export const ZIYIN_ALONG_TRAINING_STEPS = [1, 3, 10, 30, 100, 300, 1000];
/**
 * Fig. 4b–c's input covariance: "The Hessian has eigenvalues 1 and 0.5, and λ = 1.5" (Ziyin et al. 2022, Fig. 4
 * caption; the paper does not give its eigenvectors, so A is rotated by 45°, away from the axes).
 */
export const ZIYIN_FIG4_COVARIANCE = [[0.75, 0.25], [0.25, 0.75]];
/**
 * The 2-D fluctuation ellipses of the paper size: (λ, S, A) — the quick size's A at λ = 0.5, S = 4 and at λ = 1,
 * S = 50 and 10, and Fig. 4b–c's own setting, λ = 1.5 with A's eigenvalues 1 and 0.5, at S = 50 and S = 10
 * (tail index 2S/(λa) − S = 3.3 at S = 10 along a = 1: Var w is finite, its fourth moment is not).
 */
export const ZIYIN_ELLIPSES: readonly { lr: number; batchSize: number; covariance: number[][] }[] = [
  { lr: 0.5, batchSize: 4, covariance: ZIYIN_2D_COVARIANCE }, { lr: 1, batchSize: 50, covariance: ZIYIN_2D_COVARIANCE }, { lr: 1, batchSize: 10, covariance: ZIYIN_2D_COVARIANCE },
  { lr: 1.5, batchSize: 50, covariance: ZIYIN_FIG4_COVARIANCE }, { lr: 1.5, batchSize: 10, covariance: ZIYIN_FIG4_COVARIANCE },
];

/**
 * What the paper size costs on this machine (2 cores), from single trials of each kind timed on 2026-12-05
 * while other jobs shared the cores (load average 12–19, so these wall times are upper bounds; the run's
 * CPU time, user + sys, was 47 s against 159 s of summed trial wall time):
 *   1-D / 2-D regression, 100,000 steps: 17 s (S = 2), 41 s (S = 32), 46 s (2-D, S = 4); take 35 s
 *     × (96 λ×S×seed + 15 ellipse + 24 weight-decay trials = 135)            ≈ 79 min
 *   MLP on 10,000 MNIST images, 3 epochs (936 steps), d = 1600: 22 s (SGD 0.5), 11 s (SGD 50/d), 17 s (Adam);
 *     per (rule, seed) over d = 50 … 1600 (cost ∝ d above d ≈ 200) ≈ 40 s
 *     × (4 rules × 3 seeds; the 3 trials where 50/d = 0.5 are shared)       ≈ 8 min
 *   logistic regression on 60,000 images, 10 epochs (18,750 steps): 4.5–15 s; take 10 s × 45 ≈ 7.5 min
 *   C along training: 35 trials of 1 … 1,000 steps (≤ 1,000 × 0.35 ms each, plus ≈ 0.3 s of start) ≈ 0.5 min
 *   noise measurements (per-example gradients, 4,000 examples): 0.003–0.03 s linear, 0.3–1.3 s MNIST ≈ 1 min
 *   total ≈ 90 min of one busy worker ⇒ about 45 min with 2 workers (about 15 min on idle cores, by the
 *   CPU-time ratio), inside the 2-hour budget with room for contention.
 */

/**
 * The paper size: every claim of Ziyin et al. with seeds, in about 2 hours on 2 cores at most (the
 * arithmetic is in the comment above). Beyond the quick size: 3 seeds and 100,000 steps per 1-D point; the 2-D ellipses of
 * Fig. 4b–c; the width sweep with Adam (10⁻³ and 10⁻²) beside SGD (Fig. 1 middle); weight decay in the regression where
 * theory puts the negative optimum (λ = 1.5, S = 32, data scale a = 1) and on all of MNIST (Fig. 1 right,
 * 5 seeds, 10 epochs); and the noise covariance C measured from per-example gradients at the end of every
 * trial (measure `noise`: tr C·S over 4,000 training examples, against the exact C at the measured Σ), and
 * along training by 1-D trials cut at 1 … 1,000 steps.
 */
function ziyinPaperStudy(): StudyInput {
  const seeds = [0, 1, 2];
  const regression = (dim: number, covariance: unknown) => ({ dim, covariance, teacher: new Array(dim).fill(1), labelNoise: 1 });
  const mnist = { name: 'mnist', subset: 10000 };
  return {
    name: 'ziyin',
    description: 'Ziyin et al. 2022, the strength of minibatch noise (paper size: 3 seeds, 100,000 steps per regression point, the noise covariance C measured at stationarity and along training, Fig. 4b–c ellipses, Adam in the width sweep, negative weight decay in regression and on all of MNIST).',
    base: {
      model: { name: 'linear-regression' },
      // 4,000 training examples: what the noise measurement computes the per-example C over (training itself draws fresh samples).
      data: { name: 'linear-regression', linearRegression: regression(1, [1]), trainSize: 4000, testSize: 100 },
      optimizer: { name: 'sgd', lr: 0.5 },
      batchSize: 10,
      sampling: 'fresh',
      budget: { steps: 100000 },
      eval: { every: 1_000_000_000 },
      divergenceLoss: 1e9,
      logEvery: 100,
    },
    grid: [
      { 'optimizer.lr': [0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75], batchSize: [2, 5, 10, 32], seed: seeds },
      ...ZIYIN_ELLIPSES.map((e) => ({ 'data.linearRegression': [regression(2, e.covariance)], 'optimizer.lr': [e.lr], batchSize: [e.batchSize], seed: seeds })),
      // C along training: from w₀ = 0, one trial per step budget (the noise measurement sees the final w_t); 5 seeds
      // since each is one draw of w_t. λ = 0.05 relaxes over ~10 steps, so the budgets span the approach and stationarity.
      { 'optimizer.lr': [0.05], batchSize: [10], budget: ZIYIN_ALONG_TRAINING_STEPS.map((steps) => ({ steps })), seed: [0, 1, 2, 3, 4] },
      { 'optimizer.lr': [ZIYIN_DECAY_LR], batchSize: [ZIYIN_DECAY_BATCH], 'optimizer.weightDecay': ZIYIN_REGRESSION_DECAYS.filter((g) => g !== 0), seed: seeds },
      ...[50, 100, 200, 400, 800, 1600].map((d) => ({
        model: [{ name: 'mlp', widths: [d], activation: 'tanh' }], data: [mnist], sampling: ['reshuffle'], budget: [{ epochs: 3 }], batchSize: [32], logEvery: [1],
        optimizer: [{ name: 'sgd', lr: 0.5 }, { name: 'sgd', lr: Number((0.5 * 100 / d).toPrecision(6)) }, { name: 'adam', lr: 0.001 }, { name: 'adam', lr: 0.01 }], seed: seeds,
      })),
      {
        // All of MNIST, pixels in [0, 1] (not standardized: with standardized inputs λ = 1.5 is past stability).
        model: [{ name: 'logistic-regression' }], data: [{ name: 'mnist', normalize: false }], sampling: ['reshuffle'], budget: [{ epochs: 10 }],
        batchSize: [ZIYIN_DECAY_BATCH], 'optimizer.lr': [ZIYIN_DECAY_LR], 'optimizer.weightDecay': ZIYIN_MNIST_DECAYS, logEvery: [1], seed: [0, 1, 2, 3, 4],
      },
    ],
    select: 'trainLoss',
    record: { fluctuations: { burnIn: 0.25 } },
    // The Hessian's trace beside C: Theorem 5's C ≈ (2L₀/S)H checked on the MNIST trials (report ziyin-noise-general);
    // 10 Lanczos steps and 30 probes, about 40 Hessian-vector products on the 4,000 examples.
    measure: { trials: 'all', what: ['noise', 'hessian'], subset: 4000, hessian: { maxIter: 10, traceProbes: 30 } },
  };
}

export const ziyin: BuiltinStudy = {
  name: 'ziyin',
  paper: 'Ziyin, Liu, Mori & Ueda 2022, Strength of Minibatch Noise in SGD',
  description: 'Label-noise linear regression: measured Σ and losses vs λ and S against the exact and continuous-time formulas; 2-D fluctuation ellipse vs the Hessian; width sweep of a tanh MLP (λ fixed vs λ ∝ 1/d); weight decay (negative included) in logistic regression on MNIST.',
  sizes: {
    smoke: () => ziyinStudy('smoke', { lrs: [0.25, 1], batchSizes: [10], steps: 16000, widths: [50], mnist: 500, epochs: 1, weightDecays: [-0.002, 0], seeds: [0] }),
    quick: () => ziyinStudy('quick', { lrs: [0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75], batchSizes: [2, 5, 10, 32], steps: 40000, widths: [50, 100, 200, 400, 800], mnist: 5000, epochs: 3, weightDecays: [-0.004, -0.002, -0.001, 0, 0.001, 0.002, 0.004], seeds: [0] }),
    full: () => ziyinStudy('full', { lrs: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9], batchSizes: [1, 2, 5, 10, 32, 100], steps: 200000, widths: [50, 100, 200, 400, 800, 1600, 3200], mnist: 60000, epochs: 10, weightDecays: [-0.008, -0.004, -0.002, -0.001, 0, 0.001, 0.002, 0.004, 0.008], seeds: [0, 1, 2] }),
  },
  extraSizes: { paper: ziyinPaperStudy },
};
