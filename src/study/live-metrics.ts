/**
 * The metrics a worker stores for a trial, produced as it trains so that a running trial's curves can
 * be drawn (the dashboard): the per-step loss, gradient norm and learning rate of a subsample of the
 * steps (every k-th, k = ⌈total steps / 200⌉: at most about 200 steps whatever the run's length), and
 * every evaluation. Rows are taken out in batches (`take`) and sent to the store while training goes
 * on; what is left goes with the trial's result. Addon-free.
 */
import type { PartialEvalRecord } from '../train/paused-run.js';
import type { StepMetrics } from '../train/trainer.js';
import type { Metric } from './store.js';

/** About this many steps of a run are stored. */
export const STORED_STEPS = 200;

export class MetricSampler {
  private every = 1;
  private index = 0;
  private rows: Metric[] = [];

  /** The run's total steps, once known (the trainer reports it with its progress). */
  setTotalSteps(totalSteps: number): void {
    this.every = Math.max(1, Math.ceil(totalSteps / STORED_STEPS));
  }

  step(m: StepMetrics): void {
    if (this.index++ % this.every === 0) this.push([{ step: m.step, name: 'loss', value: m.loss }, { step: m.step, name: 'gradNorm', value: m.gradNorm }, { step: m.step, name: 'lr', value: m.lr }]);
  }

  /** An evaluation's rows: of every split it has (a whole EvalRecord, or a pruning rung's evaluation of the one split its rule reads). */
  eval(e: PartialEvalRecord): void {
    const { step, train, test, validation } = e;
    this.push([
      ...(train ? [{ step, name: 'train.loss', value: train.loss }] : []), ...(test ? [{ step, name: 'test.loss', value: test.loss }] : []),
      ...(train?.accuracy != null ? [{ step, name: 'train.accuracy', value: train.accuracy }] : []),
      ...(test?.accuracy != null ? [{ step, name: 'test.accuracy', value: test.accuracy }] : []),
      ...(validation?.accuracy != null ? [{ step, name: 'validation.accuracy', value: validation.accuracy }] : []),
    ]);
  }

  /** The rows produced since the last call. */
  take(): Metric[] {
    const out = this.rows;
    this.rows = [];
    return out;
  }

  private push(rows: Metric[]): void {
    for (const r of rows) if (Number.isFinite(r.value)) this.rows.push(r);
  }
}
