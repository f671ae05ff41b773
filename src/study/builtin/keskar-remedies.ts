/**
 * Keskar et al. 2017 §4 and App. E, "Remedies": can data augmentation, conservative (proximal) training,
 * adversarial (robust) training or dynamic sampling close the large-batch gap? The paper's answer: they
 * reduce the generalization gap, but the LB minimizers stay relatively sharp. LB without a remedy, LB with
 * each remedy, and SB as the reference, each on the keskar built-in's own model, data, optimizer, budget
 * and measurements (shared with keskar.ts, so the two studies stay comparable); reported: test accuracy,
 * the generalization gap, λ_max and φ (SCIENCE.md §1).
 *
 * A separate built-in rather than more grids in `keskar`: `npm start` runs keskar's quick size, and the
 * remedies (a proximal step of three inner steps, adversarial examples) cost about as much again.
 *
 * The remedies, as the paper describes them:
 *   augmentation  — rotations up to 10° and translations up to 0.2 of the image size;
 *   conservative  — x_{k+1} = argmin f_B(x) + (λ/2)‖x − x_k‖², λ = 1e-3, three inner Adam steps;
 *   adversarial   — FGSM (Goodfellow et al. 2015), ε = 0.1 in pixel units (L∞), on half of each batch
 *                   (their equal weighting of the clean and adversarial losses); the full size uses PGD;
 *   dynamic       — the batch grows geometrically from SB to LB over the budget (Friedlander & Schmidt
 *                   2012); the full size also runs Byrd et al. 2012's adaptive norm test.
 */
import type { StudyInput } from '../schema.js';
import { keskar } from './keskar.js';
import type { BuiltinSize, BuiltinStudy } from './types.js';

/** The remedies applied to LB (each its own grid, so each is a series of the report). */
function remedyGrids(sb: number, lb: number, seeds: number[], full: boolean): Record<string, unknown[]>[] {
  return [
    { batchSize: [sb, lb], seed: seeds },
    { batchSize: [lb], 'data.augment': [{ rotation: 10, translation: 0.2 }], seed: seeds },
    { batchSize: [lb], 'optimizer.proximal': [{ lambda: 1e-3, innerSteps: 3 }], seed: seeds },
    { batchSize: [lb], adversarial: [full ? { attack: 'pgd', epsilon: 0.1, steps: 7, fraction: 0.5 } : { attack: 'fgsm', epsilon: 0.1, fraction: 0.5 }], seed: seeds },
    { batchSize: [sb], batchSchedule: [{ kind: 'geometric', to: lb }, ...(full ? [{ kind: 'adaptive', theta: 0.5, max: lb }] : [])], seed: seeds },
  ];
}

/** The keskar built-in's study at a size, with its grid replaced by the remedies and its measurements narrowed to curvature. */
/** A measure spec under the default objective: keskar's list of objectives left out. */
function withoutObjectives<M extends { objectives?: unknown }>(measure: M): Omit<M, 'objectives'> {
  const { objectives: _objectives, ...rest } = measure;
  return rest;
}

function fromKeskar(size: BuiltinSize, sb: number, lb: number, seeds: number[], description: string): StudyInput {
  const k = keskar.sizes[size]();
  return {
    name: 'keskar-remedies',
    description,
    base: k.base,
    grid: remedyGrids(sb, lb, seeds, size === 'full'),
    select: 'testAccuracy',
    // Running statistics only: the remedies are compared with one another (and with keskar's SB and LB under the same
    // objective); keskar's own study measures Keskar's batch-statistics objective beside it (issue 21).
    ...(k.measure ? { measure: { ...withoutObjectives(k.measure), what: ['hessian', 'sharpness'] } } : {}),
  };
}

export const keskarRemedies: BuiltinStudy = {
  name: 'keskar-remedies',
  paper: 'Keskar et al. 2017, §4 and App. E: remedies for the large-batch generalization gap',
  description: 'F1 on MNIST, Adam: LB (10% of the data) without a remedy and with data augmentation, conservative training, adversarial training or dynamic sampling; SB (256) as reference; accuracy, gap, λ_max and φ.',
  sizes: {
    // Seconds: keskar's smoke setting (600 examples, 12 steps, SB 16, LB 60).
    smoke: () => fromKeskar('smoke', 16, 60, [0], 'Keskar et al. 2017 remedies (smoke size: plumbing only, numbers meaningless).'),
    // About 10 minutes on 2 cores: keskar quick's setting (full MNIST, 3 epochs, measurements on 1,000 examples), 2 seeds.
    quick: () => fromKeskar('quick', 256, 6000, [0, 1], 'Keskar et al. 2017 remedies, F1 on MNIST (quick size: 3 epochs, 2 seeds, measurements on 1,000 training examples).'),
    // The paper's protocol: keskar full's setting, 5 seeds, PGD adversarial training and the adaptive norm test too.
    full: () => fromKeskar('full', 256, 6000, [0, 1, 2, 3, 4], 'Keskar et al. 2017 remedies, F1 on MNIST (full size: 20 epochs, 5 seeds, measurements on all training examples).'),
  },
};
