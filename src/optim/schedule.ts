/**
 * Learning-rate schedules, as a multiplier of the base learning rate at each step, and the
 * batch-size scaling rules that set the base rate.
 *
 *   linear scaling (Goyal et al. 2017): lr = lr₀ · B / B₀;  square-root (Hoffer et al. 2017): lr = lr₀ · √(B / B₀).
 */
export type ScheduleSpec =
  | { kind: 'constant' }
  /** Multiply by gamma at each milestone, given as fractions of the training budget (e.g. [0.5, 0.75]). */
  | { kind: 'step'; milestones: number[]; gamma?: number }
  /** Cosine decay from 1 to minFactor over the budget (Loshchilov & Hutter 2017, without restarts). */
  | { kind: 'cosine'; minFactor?: number };

export interface WarmupSpec {
  /** Linear warm-up from 0 over this fraction of the budget (Goyal et al. use 5 epochs). */
  fraction?: number;
  steps?: number;
}

export type ScalingRule = 'none' | 'linear' | 'sqrt';

export function scaledLearningRate(lr: number, batchSize: number, rule: ScalingRule, baseBatchSize: number): number {
  switch (rule) {
    case 'none': return lr;
    case 'linear': return (lr * batchSize) / baseBatchSize;
    case 'sqrt': return lr * Math.sqrt(batchSize / baseBatchSize);
  }
}

/** The schedule's multiplier at a fraction `progress` of the budget (no warm-up). */
function decayFactor(schedule: ScheduleSpec, progress: number): number {
  switch (schedule.kind) {
    case 'constant':
      return 1;
    case 'step':
      return (schedule.gamma ?? 0.1) ** schedule.milestones.filter((m) => progress >= m).length;
    case 'cosine': {
      const min = schedule.minFactor ?? 0;
      return min + ((1 - min) * (1 + Math.cos(Math.PI * Math.min(progress, 1)))) / 2;
    }
  }
}

/** The multiplier of the base learning rate at `step` (0-based) of `totalSteps`. */
export function scheduleFactor(schedule: ScheduleSpec, warmup: WarmupSpec | undefined, step: number, totalSteps: number): number {
  let factor = decayFactor(schedule, totalSteps > 0 ? step / totalSteps : 0);
  const warmSteps = warmup?.steps ?? Math.round((warmup?.fraction ?? 0) * totalSteps);
  if (warmSteps > 0 && step < warmSteps) factor *= (step + 1) / warmSteps;
  return factor;
}

/**
 * The multiplier when the number of steps is not known in advance (a growing batch): the schedule at
 * `progress`, the fraction of the budget spent before the step; warm-up over warmup.steps steps, or
 * while the budget spent after the step (`progressAfter`) is below warmup.fraction.
 */
export function scheduleFactorAtProgress(schedule: ScheduleSpec, warmup: WarmupSpec | undefined, step: number, progress: number, progressAfter: number): number {
  const factor = decayFactor(schedule, progress);
  if (warmup?.steps) return step < warmup.steps ? (factor * (step + 1)) / warmup.steps : factor;
  if (warmup?.fraction) return factor * Math.min(1, progressAfter / warmup.fraction);
  return factor;
}
