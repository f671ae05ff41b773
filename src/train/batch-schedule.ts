/**
 * Dynamic sampling: the batch size as a schedule over the training budget.
 *   step       — grow by a factor (or to given sizes) at fractions of the budget; with the learning
 *                rate kept, Smith et al. 2018's "don't decay the learning rate, increase the batch size";
 *   geometric  — B₀·(to/B₀)^progress over the budget, or ×factor every k steps (Friedlander & Schmidt 2012);
 *   adaptive   — Byrd et al. 2012's norm test: with ĝ the batch gradient and Var the per-example sample
 *                variance, grow when ‖Var‖₁/|B| > θ²‖ĝ‖², to the smallest batch that passes,
 *                |B'| = ⌈‖Var‖₁/(θ²‖ĝ‖²)⌉.
 * Progress is the fraction of the budget spent before a step: steps for a step budget, examples for an
 * epoch budget. Budgets stay exact: a step budget takes exactly its steps; an epoch budget E sees exactly
 * ⌊E·N⌉ examples (the last batch is cut to what remains), and the epochs reported are examples/N.
 * The learning rate is kept ('none') or scaled with B/B₀ ('linear', 'sqrt').
 *
 * ‖Var‖₁ is estimated from the gradients of m groups of the batch (sizes s_j, Σ s_j = B, mean ĝ):
 *   ‖Var‖₁ ≈ Σ_j s_j‖g_j − ĝ‖² / (m − 1) = (Σ_j s_j‖g_j‖² − B‖ĝ‖²)/(m − 1),
 * unbiased for i.i.d. examples (E‖g_j − ĝ‖² = tr Σ (1/s_j − 1/B)); with m = B it is the per-example
 * sample variance of Byrd et al. With batch norm in training mode each group is normalized with its own
 * statistics: the step trains ghost batches of B/m (Hoffer et al. 2017), as micro-batching does.
 */
import * as T from '../tensor/index.js';
import type { LossName, Module } from '../nn/index.js';
import { scaledLearningRate } from '../optim/index.js';
import type { TrainConfig } from './config.js';
import { batchGradient, type BatchGradient } from './gradient.js';

export type BatchScheduleSpec = NonNullable<TrainConfig['batchSchedule']>;

/** What a resumed run needs to continue the schedule. */
export interface BatchScheduleState {
  step: number;
  examples: number;
  /** The adaptive schedule's current batch size. */
  current: number;
  largest: number;
  changes: { step: number; batchSize: number }[];
}

/** The norm test on one batch. */
export interface NormTest {
  /** Estimated ‖Var‖₁, the trace of the per-example gradient covariance. */
  traceVariance: number;
  /** ‖ĝ‖² of the batch gradient. */
  gradNormSq: number;
  /** ‖Var‖₁ / (|B|·‖ĝ‖²): the test fails (the batch grows) when this exceeds θ². */
  ratio: number;
}

export class DynamicBatch {
  #step = 0;
  #examples = 0;
  #current: number;
  #changes: { step: number; batchSize: number }[] = [];
  #largest: number;
  readonly max: number;
  /** The epoch budget in examples (undefined for a step budget). */
  readonly budgetExamples: number | undefined;

  constructor(readonly spec: BatchScheduleSpec, readonly initial: number, readonly budget: TrainConfig['budget'], readonly n: number) {
    this.max = spec.max ?? n;
    if (this.max < initial) throw new Error(`batchSchedule.max: ${this.max} is below the initial batch size ${initial}`);
    if (spec.kind === 'adaptive' && initial < 2) throw new Error(`batchSize: the adaptive schedule estimates a variance, so it needs a batch of at least 2, got ${initial}`);
    this.budgetExamples = 'epochs' in budget ? Math.round(budget.epochs * n) : undefined;
    this.#current = initial;
    this.#largest = initial;
  }

  get step(): number {
    return this.#step;
  }
  get examples(): number {
    return this.#examples;
  }
  get epochs(): number {
    return this.#examples / this.n;
  }
  get finished(): boolean {
    return this.budgetExamples === undefined ? this.#step >= (this.budget as { steps: number }).steps : this.#examples >= this.budgetExamples;
  }
  /** Fraction of the budget spent before the current step. */
  get progress(): number {
    return this.budgetExamples === undefined ? this.#step / (this.budget as { steps: number }).steps : this.#examples / this.budgetExamples;
  }
  /** Fraction of the budget spent once a step of b examples is done. */
  progressAfter(b: number): number {
    return this.budgetExamples === undefined ? (this.#step + 1) / (this.budget as { steps: number }).steps : (this.#examples + b) / this.budgetExamples;
  }
  /** Batch-size changes so far: (first step at the new size, size); none recorded for geometric growth (see the per-step sizes). */
  get changes(): readonly { step: number; batchSize: number }[] {
    return this.#changes;
  }
  /** The largest batch taken so far. */
  get largest(): number {
    return this.#largest;
  }

  /** The schedule's batch size at the current step, before the budget's cut. */
  #scheduled(): number {
    const s = this.spec;
    const p = this.progress;
    let b: number;
    if (s.kind === 'step') {
      const passed = s.milestones.filter((m) => p >= m).length;
      b = passed === 0 ? this.initial : s.batchSizes ? s.batchSizes[passed - 1]! : this.initial * s.factor! ** passed;
    } else if (s.kind === 'geometric') {
      b = s.to !== undefined ? this.initial * (s.to / this.initial) ** p : this.initial * s.factor! ** Math.floor(this.#step / (s.every ?? 1));
    } else b = this.#current;
    return Math.max(1, Math.min(this.max, Math.round(b)));
  }

  /** The batch size of the current step: the schedule's, cut to the examples left in an epoch budget. */
  get batchSize(): number {
    const b = this.#scheduled();
    return this.budgetExamples === undefined ? b : Math.min(b, this.budgetExamples - this.#examples);
  }

  /** Whether the adaptive test runs at the current step. */
  get testsNow(): boolean {
    return this.spec.kind === 'adaptive' && this.#step % this.spec.every === 0 && this.batchSize >= 2;
  }

  /** The learning rate of the current step for a base rate set at the initial batch size. */
  learningRate(baseLr: number): number {
    return scaledLearningRate(baseLr, this.#scheduled(), this.spec.couple, this.initial);
  }

  /** Records a step of b examples and, for the adaptive schedule, the norm test of its batch. */
  advance(b: number, test?: NormTest): void {
    const before = this.#scheduled();
    if (this.spec.kind === 'adaptive' && test && test.ratio > this.spec.theta ** 2 && test.gradNormSq > 0) {
      this.#current = Math.min(this.max, Math.max(this.#current, Math.ceil(test.traceVariance / (this.spec.theta ** 2 * test.gradNormSq))));
    }
    this.#step += 1;
    this.#examples += b;
    this.#largest = Math.max(this.#largest, b);
    const after = this.#scheduled();
    // Geometric growth changes the size at nearly every step: its sizes are in the per-step history instead.
    if (after !== before && !this.finished && this.spec.kind !== 'geometric') this.#changes.push({ step: this.#step, batchSize: after });

  }

  /** Steps left if the current batch size held (exact for a step budget; an estimate for an epoch budget). */
  estimatedTotalSteps(): number {
    if (this.budgetExamples === undefined) return (this.budget as { steps: number }).steps;
    return this.#step + Math.ceil((this.budgetExamples - this.#examples) / Math.max(1, this.#scheduled()));
  }

  state(): BatchScheduleState {
    return { step: this.#step, examples: this.#examples, current: this.#current, largest: this.#largest, changes: [...this.#changes] };
  }
  restore(state: BatchScheduleState): void {
    this.#step = state.step;
    this.#examples = state.examples;
    this.#current = state.current;
    this.#largest = state.largest;
    this.#changes = [...state.changes];
  }
}

/**
 * The batch gradient as the mean of m group gradients (groups of ⌊B/m⌋ or ⌈B/m⌉ consecutive examples),
 * with the norm-test statistics estimated from them (see above).
 */
export function groupedBatchGradient(model: Module, params: readonly T.Tensor[], loss: LossName, x: T.Tensor, y: T.Tensor, groups: number, microBatchSize: number): BatchGradient & { test: NormTest } {
  const b = x.shape[0]!;
  const m = Math.min(groups, b);
  const mean = params.map((p) => T.zerosLike(p));
  let lossTotal = 0;
  let weightedSquares = 0;
  for (let j = 0, start = 0; j < m; j++) {
    const size = Math.floor(b / m) + (j < b % m ? 1 : 0);
    T.tidy(() => {
      const g = batchGradient(model, params, loss, x.narrow(0, start, size), y.narrow(0, start, size), microBatchSize);
      weightedSquares += size * T.listNorm(g.grads).item() ** 2;
      T.noGrad(() => T.listAdd_(mean, g.grads, size / b));
      lossTotal += g.loss * (size / b);
    });
    start += size;
  }
  const gradNormSq = T.tidy(() => T.listNorm(mean).item() ** 2);
  const traceVariance = Math.max(0, (weightedSquares - b * gradNormSq) / (m - 1));
  return { loss: lossTotal, grads: mean, test: { traceVariance, gradNormSq, ratio: gradNormSq > 0 ? traceVariance / (b * gradNormSq) : Infinity } };
}
