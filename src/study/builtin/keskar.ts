/**
 * Keskar et al. 2017, "On Large-Batch Training for Deep Learning: Generalization Gap and Sharp
 * Minima": network F1 (784-512×5-10, ReLU, batch norm) on MNIST with Adam; small batch (SB, 256)
 * against large batch (LB, 10% of the training set), several seeds; Tables 2–4 (accuracy; φ at
 * ε = 1e-3 and 5e-4, full space and a random 100-dimensional subspace), accuracy and sharpness vs
 * batch size, the interpolation between the SB and LB minima (Fig. 3), and warm starts
 * ("piggybacking", §4.2: k epochs at SB, then LB). C1 on CIFAR-10 joins the full size when its
 * binary files are present (cifar10Dir()). Sharpness at equal training loss (the paper's Fig. 6):
 * checkpoints at training-loss levels, each measured (λ_max, φ by both inner solvers with its
 * first-order part, ‖θ − θ₀‖). The `paper` size follows the paper's protocol: a batch-size sweep (Fig. 4),
 * 3 seeds, each run trained until its loss stops improving, measured with the paper's L-BFGS-B beside
 * sgdlab's maximizer. Every size but quick measures λ_max and φ under two objectives, batch
 * norm by running statistics (sgdlab's default) and Keskar's (batch statistics, probabilities clipped
 * as Keras 1 did): see keskarObjective. SCIENCE.md §1.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { StudyInput } from '../schema.js';
import type { BuiltinStudy } from './types.js';

/**
 * Where the full size looks for CIFAR-10's binary files (sgdlab downloads no datasets):
 * $SGDLAB_CIFAR10_DIR, else cifar-10-batches-bin in sgdlab's cache folder.
 */
export function cifar10Dir(): string {
  const cache = process.env.SGDLAB_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sgdlab');
  return process.env.SGDLAB_CIFAR10_DIR ?? join(cache, 'cifar-10-batches-bin');
}

/** Keskar's warm start (§4.2): LB trials that first train k epochs at the SB batch size. */
const piggyback = (sb: number, lb: number, epochs: number[], seeds: number[]) => ({ batchSize: [lb], warmStart: epochs.map((e) => ({ batchSize: sb, epochs: e })), seed: seeds });

/** Training-loss levels at which minima are saved and compared (Keskar et al. Fig. 6: sharpness vs training loss). */
export const KESKAR_LOSS_LEVELS = [0.1, 0.03, 0.01, 0.003, 0.001];

/**
 * Keskar et al.'s objective (measure/objective.ts): their code (Keras 1) normalized batch norm by the
 * statistics of the evaluated batch (BatchNormalization(mode=2)), the whole training set fed as one
 * batch to L-BFGS-B; and Keras 1's categorical_crossentropy clipped predicted probabilities to
 * [1e-7, 1 − 1e-7], so an example's loss is at most −ln 1e-7 = 16.1 and φ = 100·(max f − f)/(1 + f)
 * is at most about 1,600 on a minimum of small loss. `batch` is the examples measured as one batch, or
 * chunks of `batchNormBatch` of them.
 */
const keskarObjective = (batchNormBatch: 'all' | number) => ({ batchNorm: 'batch' as const, batchNormBatch, probabilityClip: 1e-7 });

/**
 * Every size but quick measures hessian and sharpness under both objectives: running statistics first
 * (sgdlab's default, whose keys are those of the stores written before; the interpolation uses it) and
 * Keskar's.
 */
const bothObjectives = (batchNormBatch: 'all' | number) => [{ batchNorm: 'running' as const }, keskarObjective(batchNormBatch)];

/**
 * Keskar's objective on all 60,000 examples as one batch holds every activation of F1 at once, and a
 * Hessian-vector product their double backward too: measured peak resident memory of one product
 * grows by 145 KB per example (one gradient: 46 KB; peak RSS of Objective.hessianVectorProduct at 2,000,
 * 6,000 and 12,000 examples, /usr/bin/time, 2026-12-04),
 * so 8.7 GB on 60,000 examples — nearly all of what each of the two workers of a 23 GB machine may hold
 * (90% of memory shared, --max-memory-mb). The full and paper sizes therefore normalize by batches of
 * 10,000 (1.5 GB): exactly one batch on the loss-level checkpoints (measured on 10,000 examples), six on
 * the final minima, whose statistics differ from the whole set's by sampling noise only.
 */
const KESKAR_BATCH = 10_000;

/**
 * "Trained until the loss ceased to improve" (Keskar et al. 2017; train/plateau.ts, Keras's
 * EarlyStopping(monitor='loss') semantics): the paper size stops a run after 5 epochs whose mean
 * minibatch loss did not beat the best by 1% (relative, so the rule means the same at a loss of 0.1 and
 * of 1e-5). The paper gives no patience or threshold; these are ours, recorded in every trial's config.
 * Adam at 1e-3 and B = 256 is noisy (its epoch loss stalls in the low 1e-3s); LB at 6,000 improves
 * smoothly for longer, so KESKAR_MAX_EPOCHS bounds it.
 */
export const KESKAR_PLATEAU = { patience: 5, minDelta: 0.01, mode: 'rel' as const, on: 'epoch' as const };
const KESKAR_MAX_EPOCHS = 100;
/** The paper's tables are mean ± std over 5 seeds; 3 fit a night on 2 cores (docs/REPRODUCTIONS.md). */
const KESKAR_SEEDS = [0, 1, 2];

/**
 * The paper size's sweep between SB and LB (Fig. 4): φ(1e-3, A = I) only, by both solvers under both
 * objectives. A final minimum's full set (λ_max by 20 Lanczos steps, 8 maximizations) took 520–700
 * worker-seconds per objective on all 60,000 examples, these two maximizations 102–115
 * (docs/REPRODUCTIONS.md): the 12 sweep trials' measurements took 2,593 instead of about 15,600.
 */
const KESKAR_SWEEP_MEASURE = { batchSize: [512, 1024, 2048, 4096], what: ['sharpness' as const], sharpness: { epsilon: [1e-3], space: ['full' as const] } };

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
    // Seconds: 600 training examples, SB 16 vs LB 60 (10%), a few steps, one warm start; tiny measurements.
    smoke: (): StudyInput => ({
      name: 'keskar',
      description: 'Keskar et al. 2017 (smoke size: plumbing only, numbers meaningless).',
      base: { ...base(600), budget: { steps: 12 }, eval: { every: 3, trainSubset: 600 }, checkpointAt: { trainLoss: [2.2, 1.8] } },
      grid: [{ batchSize: [16, 60], seed: [0] }, piggyback(16, 60, [1], [0])],
      select: 'testAccuracy',
      measure: {
        trials: 'best', what: ['hessian', 'sharpness', 'noise', 'interpolate'], subset: 200, objectives: bothObjectives('all'),
        hessian: { topK: 1 }, sharpness: { epsilon: [1e-3, 5e-4], space: ['full', 10], maxIter: 2, randomStarts: 0, solver: ['lbfgsb', 'projected'] }, interpolate: { points: 7 },
        levels: { what: ['hessian', 'sharpness'], subset: 100 },
      },
    }),
    // About 10 minutes on 2 cores: the full MNIST training set, SB 256 vs LB 6000, 2 seeds, 3 epochs each
    // (not converged as in the paper: see docs/REPRODUCTIONS.md), an intermediate batch size, and LB
    // warm-started with 1 or 2 SB epochs. One objective (running statistics), so that `npm start` keeps
    // its time: the other sizes also measure under Keskar's.
    quick: (): StudyInput => ({
      name: 'keskar',
      description: 'Keskar et al. 2017, F1 on MNIST (quick size: 3 epochs, 2 seeds, measurements on 1,000 training examples).',
      base: { ...base(undefined), budget: { epochs: 3 } },
      grid: [{ batchSize: [256, 1024, 6000], seed: [0, 1] }, piggyback(256, 6000, [1, 2], [0])],
      select: 'testAccuracy',
      measure: {
        trials: 'best', what: ['hessian', 'sharpness', 'noise', 'interpolate'], subset: 1000,
        hessian: { topK: 1 }, sharpness: { epsilon: [1e-3, 5e-4], space: ['full', 100], maxIter: 10, randomStarts: 0 }, interpolate: { points: 25 },
      },
    }),
    // The paper's protocol on a larger machine: 5 seeds, a batch-size sweep, training until the training
    // accuracy saturates, measurements on the whole training set with random starts.
    full: (): StudyInput => ({
      name: 'keskar',
      description: 'Keskar et al. 2017, F1 on MNIST (full size: 5 seeds, 20 epochs, measurements on all 60,000 training examples).',
      base: { ...base(undefined), budget: { epochs: 20 }, checkpointAt: { trainLoss: KESKAR_LOSS_LEVELS } },
      grid: [
        { batchSize: [256, 512, 1024, 2048, 4096, 6000], seed: [0, 1, 2, 3, 4] },
        piggyback(256, 6000, [1, 2, 5, 10], [0, 1, 2, 3, 4]),
        // C1 (a small VGG-like network) on CIFAR-10: SB 256 vs LB 5,000 (10%), when the data is there.
        ...(existsSync(join(cifar10Dir(), 'data_batch_1.bin'))
          ? [{ model: [{ name: 'keskar-c1' }], data: [{ name: 'cifar10', dir: cifar10Dir() }], batchSize: [256, 5000], seed: [0, 1, 2, 3, 4] }]
          : []),
      ],
      select: 'testAccuracy',
      measure: {
        trials: 'best', what: ['hessian', 'sharpness', 'noise', 'interpolate'], objectives: bothObjectives(KESKAR_BATCH),
        hessian: { topK: 3, traceProbes: 20 }, sharpness: { epsilon: [1e-3, 5e-4], space: ['full', 100], maxIter: 10, randomStarts: 2, solver: ['lbfgsb', 'projected'] }, interpolate: { points: 31 },
        levels: { what: ['hessian', 'sharpness'], subset: 10000 },
      },
    }),
  },
  extraSizes: {
    // The paper's protocol (docs/REPRODUCTIONS.md), a night on 2 cores: F1 at B ∈ {256, 512, 1,024, 2,048,
    // 4,096, 6,000} (the paper's Fig. 4 sweep; SB = 256 and LB = 6,000 are its ends, Tables 2–4), 3 seeds,
    // each trained "until the loss ceased to improve" (KESKAR_PLATEAU, at most 100 epochs); SB and LB
    // also save checkpoints at the training-loss levels (the paper's Fig. 6, measured on 10,000
    // examples); every final minimum measured on all 60,000 examples under both objectives, φ by the
    // paper's L-BFGS-B and sgdlab's maximizer from y = 0 (no random starts: the paper's procedure): SB's
    // and LB's for Tables 3 and 4 (λ_max; φ at both ε, full space and subspace), the sweep's interior
    // for Fig. 4 only (φ at ε = 1e-3, full space: a sixth of the cost, KESKAR_SWEEP_MEASURE).
    paper: (): StudyInput => ({
      name: 'keskar',
      description: 'Keskar et al. 2017, F1 on MNIST (paper size: B from 256 to 6,000, 3 seeds, each trained until the epoch loss stops improving; SB and LB sharpness at equal training loss; every final minimum measured on all 60,000 examples under both objectives with L-BFGS-B and the projected maximizer).',
      base: { ...base(undefined), budget: { epochs: KESKAR_MAX_EPOCHS }, stopAt: { plateau: KESKAR_PLATEAU } },
      grid: [
        { batchSize: [256, 6000], checkpointAt: [{ trainLoss: KESKAR_LOSS_LEVELS }], seed: KESKAR_SEEDS },
        { batchSize: [512, 1024, 2048, 4096], seed: KESKAR_SEEDS },
      ],
      select: 'testAccuracy',
      measure: {
        trials: 'best', what: ['hessian', 'sharpness'], objectives: bothObjectives(KESKAR_BATCH),
        hessian: { topK: 1, maxIter: 20 }, sharpness: { epsilon: [1e-3, 5e-4], space: ['full', 100], maxIter: 10, randomStarts: 0, solver: ['lbfgsb', 'projected'] },
        levels: { what: ['hessian', 'sharpness'], subset: 10000 },
        byBatchSize: [KESKAR_SWEEP_MEASURE],
      },
    }),
  },
};
