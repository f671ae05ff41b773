/**
 * Qian & Klabjan 2020, "The Impact of the Mini-batch Size on the Variance of Gradients in SGD"
 * (SCIENCE.md §4): linear regression and a deep linear network with L2 loss; from one initialization
 * w₀ per seed, the variance of the minibatch gradient after k steps for every b, with and without
 * replacement: decreasing in b, a polynomial in 1/b, and at k = 0 equal to tr Σ₁/b and
 * tr Σ₁(N − b)/(b(N − 1)).
 */
import type { StudyInput } from '../schema.js';
import type { BuiltinStudy } from './types.js';

/** The paper size's input covariance: eigenvalues 0.8^i, i = 0 … 15 (a condition number of 35). */
const PAPER_COVARIANCE = Array.from({ length: 16 }, (_, i) => 0.8 ** i);

function qkStudy(size: string, o: { sequences: number; steps: number[]; batchSizes: number[]; seeds: number[]; n: number; degree: number | 'held-out' }): StudyInput {
  return {
    name: 'qian-klabjan',
    description: `Qian & Klabjan 2020, gradient variance vs batch size along training (${size} size).`,
    base: {
      model: { name: 'linear-regression', init: { scheme: 'normal', std: 0.5 } },
      data: { name: 'linear-regression', linearRegression: { dim: 4, covariance: [1, 0.7, 0.4, 0.2], labelNoise: 0.5 }, trainSize: o.n, testSize: 100 },
      optimizer: { name: 'sgd', lr: 0.05 },
      batchSize: 8,
      budget: { steps: 1 },
      eval: { every: 1_000_000_000 },
    },
    grid: { model: [{ name: 'linear-regression', init: { scheme: 'normal', std: 0.5 } }, { name: 'deep-linear', widths: [4, 4] }], seed: o.seeds },
    select: 'trainLoss',
    measure: { trials: 'all', what: ['gradientVariance'], gradientVariance: { batchSizes: o.batchSizes, steps: o.steps, sequences: o.sequences, replacement: [true, false], degree: o.degree } },
  };
}

export const qianKlabjan: BuiltinStudy = {
  name: 'qian-klabjan',
  paper: 'Qian & Klabjan 2020, The Impact of the Mini-batch Size on the Variance of Gradients in SGD',
  description: 'Linear regression and a deep linear network: gradient variance vs b after k steps from a fixed w₀, with and without replacement; fit in 1/b; the closed form at k = 0.',
  sizes: {
    smoke: () => qkStudy('smoke', { sequences: 2000, steps: [0, 4], batchSizes: [1, 2, 4, 16], seeds: [0], n: 128, degree: 'held-out' }),
    quick: () => qkStudy('quick', { sequences: 3000, steps: [0, 2, 8, 16], batchSizes: [1, 2, 4, 8, 16, 32, 64, 128], seeds: [0, 1], n: 256, degree: 3 }),
    full: () => qkStudy('full', { sequences: 20000, steps: [0, 1, 2, 4, 8, 16, 32, 64], batchSizes: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], seeds: [0, 1, 2, 3, 4], n: 1024, degree: 4 }),
  },
  extraSizes: {
    // The paper's scale in about an hour on 2 cores (docs/REPRODUCTIONS.md): k up to 64, 20,000 sequences,
    // linear regression on 16 inputs (the exact recursion's model), deep linear networks of 3 and 4 layers
    // of width 16, and an MLP with 16 ReLU units on 1,024 MNIST images (2,000 sequences: its step costs
    // hundreds of times a linear one's), every b from 1 to 512; the degree in 1/b chosen by held-out error.
    paper: (): StudyInput => ({
      name: 'qian-klabjan',
      description: 'Qian & Klabjan 2020, gradient variance vs batch size along training (paper size: k up to 64, 20,000 sequences, linear regression and deep linear networks of width 16, an MLP on MNIST; the degree in 1/b by held-out error).',
      base: {
        model: { name: 'linear-regression', init: { scheme: 'normal', std: 0.5 } },
        data: { name: 'linear-regression', linearRegression: { dim: 16, covariance: PAPER_COVARIANCE, labelNoise: 0.5 }, trainSize: 1024, testSize: 100 },
        optimizer: { name: 'sgd', lr: 0.05 },
        batchSize: 8,
        budget: { steps: 1 },
        eval: { every: 1_000_000_000 },
      },
      grid: [
        { model: [{ name: 'linear-regression', init: { scheme: 'normal', std: 0.5 } }, { name: 'deep-linear', widths: [16, 16] }, { name: 'deep-linear', widths: [16, 16, 16] }], seed: [0, 1, 2] },
        { model: [{ name: 'mlp', widths: [16] }], data: [{ name: 'mnist', subset: 1024 }], seed: [0] },
      ],
      select: 'trainLoss',
      measure: {
        trials: 'all', what: ['gradientVariance'],
        gradientVariance: { batchSizes: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], steps: [0, 1, 2, 4, 8, 16, 32, 64], sequences: 20000, sequencesByModel: { mlp: 2000 }, replacement: [true, false], degree: 'held-out', maxDegree: 6 },
      },
    }),
  },
};
