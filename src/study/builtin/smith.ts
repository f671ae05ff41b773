/**
 * Smith, Elsen & De 2020, "On the Generalization Benefit of Noise in Stochastic Gradient Descent":
 * SGD with momentum 0.9 and L2 5e-4, a learning-rate grid in factors of 2 at every batch size (powers
 * of 2), constant-epoch and constant-step budgets, ghost batch norm (ghost size 64). Best ε vs B
 * (slope 1, then flat), test accuracy and training loss vs B. SCIENCE.md §2.
 */
import type { StudyInput } from '../schema.js';
import type { BuiltinStudy } from './types.js';

const model = { name: 'mlp', widths: [256, 256], batchNorm: true, ghostBatchSize: 64 };
const optimizer = { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 5e-4 };

export const smith: BuiltinStudy = {
  name: 'smith',
  paper: 'Smith, Elsen & De 2020, On the Generalization Benefit of Noise in Stochastic Gradient Descent',
  description: 'MLP with ghost batch norm and LeNet-5 on Fashion-MNIST (and MNIST in full), SGD+momentum: learning-rate grid in factors of 2 at every batch size, constant epochs and constant steps; best ε vs B, test accuracy and training loss vs B.',
  sizes: {
    smoke: (): StudyInput => ({
      name: 'smith',
      description: 'Smith et al. 2020 (smoke size: plumbing only).',
      base: { model: { ...model, widths: [32] }, data: { name: 'fashion-mnist', subset: 600, validation: 100 }, optimizer, batchSize: 16, budget: { epochs: 1 }, schedule: { kind: 'step', milestones: [0.8], gamma: 0.1 } },
      grid: [
        { batchSize: [16, 64], 'optimizer.lr': { from: 0.05, to: 0.2, factor: 2 }, budget: [{ epochs: 1 }, { steps: 10 }] },
        { model: [{ name: 'lenet5' }], batchSize: [64], 'optimizer.lr': [0.05], budget: [{ steps: 10 }] },
      ],
      select: 'validationAccuracy',
    }),
    // About 10 minutes on 2 cores: 20,000 training examples (2,000 more for validation), B = 16…1024,
    // ε in factors of 2 from 0.003125 to 1.6, one seed, 2 epochs or 500 steps; the epoch-budget
    // study at B = 64 (1, 2, 4 epochs); and LeNet-5 at 2 epochs over the same batch sizes.
    quick: (): StudyInput => ({
      name: 'smith',
      description: 'Smith et al. 2020 on Fashion-MNIST (quick size: 20,000 training examples, one seed, 2 epochs or 500 steps; epoch budgets 1–4 at B = 64; LeNet-5 at 2 epochs).',
      base: { model, data: { name: 'fashion-mnist', subset: 22000, validation: 2000 }, optimizer, batchSize: 64, budget: { epochs: 2 }, schedule: { kind: 'step', milestones: [0.8], gamma: 0.1 } },
      grid: [
        { batchSize: { from: 16, to: 1024, factor: 4 }, 'optimizer.lr': { from: 0.003125, to: 1.6, factor: 2 }, budget: [{ epochs: 2 }, { steps: 500 }] },
        { batchSize: [64], 'optimizer.lr': { from: 0.003125, to: 1.6, factor: 2 }, budget: [{ epochs: 1 }, { epochs: 4 }] },
        // The small CNN (LeNet-5, no batch norm) at the constant-epoch budget.
        { model: [{ name: 'lenet5' }], batchSize: { from: 16, to: 1024, factor: 4 }, 'optimizer.lr': { from: 0.00625, to: 0.4, factor: 2 }, budget: [{ epochs: 2 }] },
      ],
      select: 'validationAccuracy',
    }),
    // The paper's protocol on a larger machine: the whole training set, B = 16…4096, 3 seeds, an MLP and
    // a small CNN (LeNet-5 with ghost batch norm is not in the zoo: LeNet-5), on Fashion-MNIST and MNIST,
    // constant epochs and constant steps, and the epoch-budget study at B = 64 (1…128 epochs).
    full: (): StudyInput => ({
      name: 'smith',
      description: 'Smith et al. 2020 on Fashion-MNIST and MNIST (full size: MLP and LeNet-5, B = 16…4096, 3 seeds, 20 epochs or 4,000 steps; epoch budgets 1–128 at B = 64).',
      base: { model, data: { name: 'fashion-mnist', validation: 5000 }, optimizer, batchSize: 64, budget: { epochs: 20 }, schedule: { kind: 'step', milestones: [0.67, 0.89], gamma: 0.1 } },
      grid: [
        {
          model: [model, { name: 'lenet5' }], data: [{ name: 'fashion-mnist', validation: 5000 }, { name: 'mnist', validation: 5000 }],
          batchSize: { from: 16, to: 4096, factor: 2 }, 'optimizer.lr': { from: 0.003125, to: 3.2, factor: 2 }, seed: [0, 1, 2], budget: [{ epochs: 20 }, { steps: 4000 }],
        },
        { batchSize: [64], 'optimizer.lr': { from: 0.000390625, to: 3.2, factor: 2 }, seed: [0, 1, 2], budget: [1, 2, 4, 8, 16, 32, 64, 128].map((epochs) => ({ epochs })) },
      ],
      select: 'validationAccuracy',
    }),
  },
};
