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

/** The multiplier of the base learning rate at `step` (0-based) of `totalSteps`. */
export function scheduleFactor(schedule: ScheduleSpec, warmup: WarmupSpec | undefined, step: number, totalSteps: number): number {
  const progress = totalSteps > 0 ? step / totalSteps : 0;
  let factor: number;
  switch (schedule.kind) {
    case 'constant':
      factor = 1;
      break;
    case 'step':
      factor = (schedule.gamma ?? 0.1) ** schedule.milestones.filter((m) => progress >= m).length;
      break;
    case 'cosine': {
      const min = schedule.minFactor ?? 0;
      factor = min + ((1 - min) * (1 + Math.cos(Math.PI * Math.min(progress, 1)))) / 2;
      break;
    }
  }
  const warmSteps = warmup?.steps ?? Math.round((warmup?.fraction ?? 0) * totalSteps);
  if (warmSteps > 0 && step < warmSteps) factor *= (step + 1) / warmSteps;
  return factor;
}
