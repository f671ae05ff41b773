/**
 * "Trained until the loss ceased to improve" (Keskar et al. 2017's convergence, as issue 21 quotes it) as a
 * stopping rule: `stopAt: { plateau: { patience, minDelta, mode, on } }`. The authors' released code
 * (github.com/keskarnitish/large-batch-training, plot_parametric_plot.py, Keras 1) has no stopping rule: it
 * trains nb_epoch = 20 epochs (the PyTorch port: nb_epochs = 150, "LB training needs higher values"), and
 * both print the epoch's mean minibatch loss (Keras's `loss`, the port's average_loss_over_epoch). So the rule takes the semantics of Keras's own EarlyStopping
 * with monitor='loss', mode='min' (keras/src/callbacks/early_stopping.py): at the end of every epoch the epoch's training loss L is compared with the best so far, L is an improvement when
 *   abs: L < best − minDelta        (Keras's min_delta; PyTorch ReduceLROnPlateau threshold_mode='abs')
 *   rel: L < best · (1 − minDelta)  (PyTorch ReduceLROnPlateau threshold_mode='rel')
 * an improvement makes L the best and resets the count, anything else adds one to it, and the run
 * stops when the count reaches `patience` (Keras: wait >= patience). The first check is always an
 * improvement (best starts at +∞).
 *
 * The monitored loss (`on`):
 *   epoch — the epoch's mean minibatch loss, weighted by batch size: Keras's logs['loss'] at epoch end
 *     (each step's loss at its pre-step parameters, in training mode: batch statistics, dropout); an
 *     epoch ends when the trainer's epoch count (examples / N, warm phase included) passes an integer;
 *   eval — the training-set loss of each periodic evaluation (eval.every, on eval.trainSubset examples,
 *     in evaluation mode), the loss stopAt.trainLoss reads; patience then counts evaluations.
 * The rule's whole state (the running sums of the epoch in progress included) is plain JSON, kept in
 * a training snapshot, so a resumed run stops where the uninterrupted one does.
 */
import type { PlateauConfig } from './config.js';

/** One value the rule compared: where it was measured, and the loss. */
export interface PlateauCheck {
  step: number;
  epoch: number;
  loss: number;
}

/** What the result records of the rule (and a snapshot keeps of it). */
export interface PlateauRecord {
  on: PlateauConfig['on'];
  /** Every monitored loss, in order: one per epoch (on: epoch) or per periodic evaluation (on: eval). */
  checks: PlateauCheck[];
  /** The best loss so far and where it was measured (null before the first check). */
  best: PlateauCheck | null;
  /** Checks since the best one (the run stops when this reaches patience). */
  sinceBest: number;
  /** on: epoch — the epoch in progress: whole epochs completed, and its batch-size-weighted loss sum and examples. */
  epochsDone: number;
  lossSum: number;
  examples: number;
}

/** Guards epoch counts that are sums of fractions (a warm phase's epochs plus the main phase's) against rounding just below an integer. */
const EPOCH_ROUNDING = 1e-9;

export class PlateauRule {
  #state: PlateauRecord;

  constructor(readonly config: PlateauConfig) {
    this.#state = { on: config.on, checks: [], best: null, sinceBest: 0, epochsDone: 0, lossSum: 0, examples: 0 };
  }

  get on(): PlateauConfig['on'] {
    return this.config.on;
  }

  /** A copy of the state: for the result and for snapshots. */
  record(): PlateauRecord {
    const s = this.#state;
    return { ...s, checks: s.checks.map((c) => ({ ...c })), best: s.best && { ...s.best } };
  }

  /** A resumed run continues from the state its snapshot kept (written by the same configuration: loadSnapshot checks). */
  restore(state: PlateauRecord): void {
    this.#state = { ...state, checks: state.checks.map((c) => ({ ...c })), best: state.best && { ...state.best } };
  }

  /**
   * on: epoch — after every step: its mean loss over `batchSize` examples, and the epochs done after it.
   * At an epoch's end the epoch's mean is checked; true when the run is to stop.
   */
  afterStep(loss: number, batchSize: number, step: number, epoch: number): boolean {
    const s = this.#state;
    s.lossSum += loss * batchSize;
    s.examples += batchSize;
    const done = Math.floor(epoch + EPOCH_ROUNDING);
    if (done <= s.epochsDone) return false;
    const mean = s.lossSum / s.examples;
    s.epochsDone = done;
    s.lossSum = 0;
    s.examples = 0;
    return this.check({ step, epoch, loss: mean });
  }

  /** on: eval — after a periodic evaluation; true when the run is to stop. */
  afterEvaluation(loss: number, step: number, epoch: number): boolean {
    return this.check({ step, epoch, loss });
  }

  /** Whether a loss improves on the best by more than minDelta. */
  improves(loss: number): boolean {
    const best = this.#state.best?.loss ?? Infinity;
    const { minDelta, mode } = this.config;
    return mode === 'rel' ? loss < best * (1 - minDelta) : loss < best - minDelta;
  }

  private check(c: PlateauCheck): boolean {
    const s = this.#state;
    s.checks.push(c);
    if (this.improves(c.loss)) {
      s.best = c;
      s.sinceBest = 0;
      return false;
    }
    s.sinceBest += 1;
    return s.sinceBest >= this.config.patience;
  }

  /** Why the run stopped, in words (TrainResult.stopped). */
  describe(): string {
    const s = this.#state;
    const last = s.checks.at(-1)!;
    const what = this.config.on === 'epoch' ? 'epoch mean training loss' : 'training loss at the evaluations';
    const by = this.config.mode === 'rel' ? `more than a fraction ${this.config.minDelta}` : `more than ${this.config.minDelta}`;
    return `the ${what} did not improve by ${by} for ${s.sinceBest} ${this.config.on === 'epoch' ? 'epochs' : 'evaluations'} (stopAt.plateau.patience ${this.config.patience}): `
      + `best ${s.best!.loss} at step ${s.best!.step} (epoch ${s.best!.epoch}), last ${last.loss} at step ${last.step}`;
  }
}
