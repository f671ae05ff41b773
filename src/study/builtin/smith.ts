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

/**
 * The shape of Smith, Elsen & De's schedule (§3): the learning rate constant for the first half of the
 * budget, then halved at every further twentieth of it (ten halvings, ×2⁻¹⁰ by the end); scaled to each
 * budget, so every trial, of any batch size or length, sees the same shape.
 */
export const SMITH_SCHEDULE = { kind: 'step' as const, milestones: Array.from({ length: 10 }, (_, i) => Number((0.5 + 0.05 * i).toFixed(2))), gamma: 0.5 };

/** A learning-rate axis in factors of 2 from 2^lo to 2^hi, times `scale` (SGD without momentum: 1/(1 − m), the same ε/(1 − m)). */
const powersOfTwo = (lo: number, hi: number, scale = 1) => ({ from: scale * 2 ** lo, to: scale * 2 ** hi, factor: 2 });

/** The paper size's seeds (≥ 3: the per-seed optima give ε_opt its uncertainty). */
export const SMITH_PAPER_SEEDS = [0, 1, 2];
/** Claim 1's constant-epoch budget (and claim 4's): B = 16 … 4,096 in factors of 4. */
export const SMITH_PAPER_EPOCHS = 4;
/** Claim 2's constant-step budget: B = 64 sees the 55,000 training examples 2.4 times, B = 4,096 152 times. */
export const SMITH_PAPER_STEPS = 2048;
/** Claim 3's epoch budgets at B = 64: 0.25 … 32, the paper's 128× range. */
export const SMITH_PAPER_EPOCH_BUDGETS = [0.25, 0.5, 1, 2, 4, 8, 16, 32];

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
  extraSizes: {
    // Smith, Elsen & De's four claims on all of Fashion-MNIST (55,000 training images, 5,000 held out for
    // validation, the 10,000 test images), the quick size's MLP with ghost batch norm (64), momentum 0.9,
    // L2 5e-4, the paper's schedule shape (SMITH_SCHEDULE), 3 seeds, learning rates 2^k:
    //  1. constant epochs (4): B = 16 … 4,096 (×4), ε = 2⁻¹⁰ … 2 (12 values), at B = 16 also 2⁻¹² and 2⁻¹¹
    //     (measured at seed 0: validation accuracy 88.74% at 2⁻⁹ and 88.76% at 2⁻⁷, a flat top near the
    //     grid's foot; at B = 4,096 85.0% at 2⁻¹, 77.9% at 1, 75.3% at 2: the top bounds it);
    //  2. constant steps (2,048): B = 64 … 4,096 (×4), 9 values of ε per B, the window moving up with B
    //     (2⁻¹⁰ … 2⁻² at 64, 2⁻⁷ … 2 at 4,096); B = 16 would see 0.6 epochs in 2,048 steps (data-limited, as at quick);
    //  3. epoch budgets 0.25 … 32 at B = 64 (128×), ε = 2⁻¹¹ … 2⁻² (10 values; at 0.25 epochs, seed 0,
    //     83.8%, 83.4% and 83.0% at 2⁻⁴, 2⁻³, 2⁻²: falling towards the top; at 32 epochs training loss 0.094,
    //     0.0525 and 0.0537 at 2⁻¹⁰, 2⁻⁸, 2⁻⁶: the foot bounds the training-loss optimum);
    //  4. SGD without momentum beside (1) at the same ε/(1 − m): ε = 10 · 2⁻¹⁰ … 10 · 2 (at B = 16 from 10 · 2⁻¹²).
    // Every entry names the momentum, so all momentum-0.9 trials are one series: claim 1's and claim 3's trials at
    // 4 epochs and B = 64 are the same runs (trials.ts runs a configuration once).
    // No pruning: claim 3 needs the training-loss-optimal ε, which a rule ranking by validation accuracy would
    // stop early (it is smaller than the test-optimal one), and `prune` is study-wide; and a rung in the
    // schedule's constant first half ranks ε by its stationary noise, not by where the decay ends (it would
    // stop the large ε that win after the decay).
    // Cost, from CPU seconds (user + system) measured with /usr/bin/time on `sgdlab train` of this network and
    // data, one thread, on this machine (2 cores, 2026-12-05, while other jobs loaded it): 1.88 s to start,
    // load the data and evaluate; then per epoch, with its evaluation, 3.46 s at B = 16, 1.77 at 64, 0.84 at
    // 256, 0.94 at 1,024, 0.81 at 4,096 (859, 214, 53 and 13 steps an epoch at 64 … 4,096):
    //  1. 36 (ε, seed) × (4 · (3.46 + 1.77 + 0.84 + 0.94 + 0.81) + 5 · 1.9) = 36 × 40.8 = 1,470 s, and 6 × (4 · 3.46 + 1.9) = 90 s at B = 16;
    //  4. the same, 1,560 s (less: the largest ε diverge and stop);
    //  2. 2,048 steps are 2.4, 9.6, 38.6 and 157.5 epochs: 27 × (4.2 + 8.0 + 36.4 + 128.1 + 4 · 1.9) = 27 × 184.5 = 4,980 s;
    //  3. 30 × (63.75 · 1.77 + 8 · 1.9) = 30 × 128 = 3,840 s, less the 27 runs shared with (1), 27 × 9.0 = 240 s;
    // in all 11,700 CPU seconds: 98 minutes on 2 cores (two workers), 693 trials; a worker keeps the data between
    // trials (worker.ts), so most of the 1.9 s per trial is paid once: about 10,600 s, 88 minutes. Both are upper
    // bounds: a 32-epoch run at B = 64 took 37.5 CPU s, 1.11 s an epoch against the 1.77 of 3 epochs.
    paper: (): StudyInput => ({
      name: 'smith',
      description: 'Smith et al. 2020 on Fashion-MNIST (paper size: 55,000 training images, 3 seeds, the paper\'s schedule shape; constant epochs (4) and constant steps (2,048) over B = 16 … 4,096, epoch budgets 0.25 … 32 at B = 64, SGD vs momentum at the same ε/(1 − m)).',
      base: { model, data: { name: 'fashion-mnist', validation: 5000 }, optimizer, batchSize: 64, budget: { epochs: SMITH_PAPER_EPOCHS }, schedule: SMITH_SCHEDULE },
      grid: [
        { 'optimizer.momentum': [0.9], batchSize: { from: 16, to: 4096, factor: 4 }, 'optimizer.lr': powersOfTwo(-10, 1), seed: SMITH_PAPER_SEEDS, budget: [{ epochs: SMITH_PAPER_EPOCHS }] },
        { 'optimizer.momentum': [0], batchSize: { from: 16, to: 4096, factor: 4 }, 'optimizer.lr': powersOfTwo(-10, 1, 1 / (1 - 0.9)), seed: SMITH_PAPER_SEEDS, budget: [{ epochs: SMITH_PAPER_EPOCHS }] },
        { 'optimizer.momentum': [0.9], batchSize: [16], 'optimizer.lr': powersOfTwo(-12, -11), seed: SMITH_PAPER_SEEDS, budget: [{ epochs: SMITH_PAPER_EPOCHS }] },
        { 'optimizer.momentum': [0], batchSize: [16], 'optimizer.lr': powersOfTwo(-12, -11, 1 / (1 - 0.9)), seed: SMITH_PAPER_SEEDS, budget: [{ epochs: SMITH_PAPER_EPOCHS }] },
        ...[64, 256, 1024, 4096].map((batchSize, i) => ({ 'optimizer.momentum': [0.9], batchSize: [batchSize], 'optimizer.lr': powersOfTwo(-10 + i, -2 + i), seed: SMITH_PAPER_SEEDS, budget: [{ steps: SMITH_PAPER_STEPS }] })),
        { 'optimizer.momentum': [0.9], batchSize: [64], 'optimizer.lr': powersOfTwo(-11, -2), seed: SMITH_PAPER_SEEDS, budget: SMITH_PAPER_EPOCH_BUDGETS.map((epochs) => ({ epochs })) },
      ],
      select: 'validationAccuracy',
    }),
  },
};
