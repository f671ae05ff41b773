/**
 * Keskar et al. 2017, "On Large-Batch Training for Deep Learning: Generalization Gap and Sharp
 * Minima": network F1 (784-512×5-10, ReLU, batch norm) on MNIST with Adam; small batch (SB, 256)
 * against large batch (LB, 10% of the training set), several seeds; Tables 2–4 (accuracy; φ at
 * ε = 1e-3 and 5e-4, full space and a random 100-dimensional subspace), accuracy and sharpness vs
 * batch size, and the interpolation between the SB and LB minima (Fig. 3). SCIENCE.md §1.
 */
import type { StudyInput } from '../schema.js';
import type { BuiltinStudy } from './types.js';

const base = (trainSize: number | undefined) => ({
  model: { name: 'keskar-f1' },
  data: { name: 'mnist', ...(trainSize ? { subset: trainSize } : {}) },
  optimizer: { name: 'adam', lr: 0.001 },
  batchSize: 256,
});

export const keskar: BuiltinStudy = {
  name: 'keskar',
  paper: 'Keskar et al. 2017, On Large-Batch Training for Deep Learning: Generalization Gap and Sharp Minima',
  description: 'F1 on MNIST, Adam: small batch (256) vs large batch (10% of the training set), accuracy and sharpness (Tables 2–4), accuracy and sharpness vs batch size, SB↔LB interpolation.',
  sizes: {
    // Seconds: 600 training examples, SB 16 vs LB 60 (10%), a few steps; tiny measurements.
    smoke: (): StudyInput => ({
      name: 'keskar',
      description: 'Keskar et al. 2017 (smoke size: plumbing only, numbers meaningless).',
      base: { ...base(600), budget: { steps: 12 }, eval: { every: 6, trainSubset: 600 } },
      grid: { batchSize: [16, 60], seed: [0] },
      select: 'testAccuracy',
      measure: {
        trials: 'best', what: ['hessian', 'sharpness', 'noise', 'interpolate'], subset: 200,
        hessian: { topK: 1 }, sharpness: { epsilon: [1e-3, 5e-4], space: ['full', 10], maxIter: 2, randomStarts: 0 }, interpolate: { points: 7 },
      },
    }),
    // About 10 minutes on 2 cores: the full MNIST training set, SB 256 vs LB 6000, 2 seeds, 3 epochs each
    // (not converged as in the paper: see docs/REPRODUCTIONS.md), and an intermediate batch size.
    quick: (): StudyInput => ({
      name: 'keskar',
      description: 'Keskar et al. 2017, F1 on MNIST (quick size: 3 epochs, 2 seeds, measurements on 2,000 training examples).',
      base: { ...base(undefined), budget: { epochs: 3 } },
      grid: { batchSize: [256, 1024, 6000], seed: [0, 1] },
      select: 'testAccuracy',
      measure: {
        trials: 'best', what: ['hessian', 'sharpness', 'noise', 'interpolate'], subset: 2000,
        hessian: { topK: 1 }, sharpness: { epsilon: [1e-3, 5e-4], space: ['full', 100], maxIter: 10, randomStarts: 0 }, interpolate: { points: 25 },
      },
    }),
    // The paper's protocol on a larger machine: 5 seeds, a batch-size sweep, training until the training
    // accuracy saturates, measurements on the whole training set with random starts.
    full: (): StudyInput => ({
      name: 'keskar',
      description: 'Keskar et al. 2017, F1 on MNIST (full size: 5 seeds, 20 epochs, measurements on all 60,000 training examples).',
      base: { ...base(undefined), budget: { epochs: 20 } },
      grid: { batchSize: [256, 512, 1024, 2048, 4096, 6000], seed: [0, 1, 2, 3, 4] },
      select: 'testAccuracy',
      measure: {
        trials: 'best', what: ['hessian', 'sharpness', 'noise', 'interpolate'],
        hessian: { topK: 3, traceProbes: 20 }, sharpness: { epsilon: [1e-3, 5e-4], space: ['full', 100], maxIter: 10, randomStarts: 2 }, interpolate: { points: 31 },
      },
    }),
  },
};
