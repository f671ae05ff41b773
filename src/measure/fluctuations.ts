/**
 * Stationary fluctuations of SGD (Ziyin et al. 2022): over a window of steps at stationarity, the
 * mean and covariance of the weights and the mean and variance of the minibatch training loss. A
 * training hook: pass `fluctuations.hooks` to train(), read `fluctuations.result()` afterwards.
 * The full covariance is kept for models of at most `maxFullDimension` parameters; larger ones
 * get the per-coordinate variance and its trace.
 */
import * as T from '../tensor/index.js';
import type { StepContext, TrainHooks } from '../train/trainer.js';

export interface FluctuationResult {
  steps: number;
  weightMean: number[];
  /** Cov(w) over the window (full matrix for small models, else undefined). */
  weightCovariance?: number[][];
  /** Per-coordinate variance, and its sum tr Cov(w). */
  weightVariance: number[];
  traceCovariance: number;
  lossMean: number;
  lossVariance: number;
}

export class StationaryFluctuations {
  #sum: T.Tensor | undefined;
  #outer: T.Tensor | undefined;
  #sumSq: T.Tensor | undefined;
  #count = 0;
  #loss: number[] = [];
  readonly hooks: TrainHooks;

  /** Records steps from `burnIn` on (0-based step index). */
  constructor(readonly burnIn: number, readonly maxFullDimension = 64) {
    this.hooks = { onStep: (ctx) => this.record(ctx) };
  }

  private record(ctx: StepContext): void {
    if (ctx.step < this.burnIn) return;
    T.noGrad(() => {
      const w = T.tidy(() => T.cat(ctx.model.parameters().map((p) => p.detach().flatten().double()), 0));
      const full = w.numel <= this.maxFullDimension;
      this.#sum ??= T.keep(T.zerosLike(w));
      this.#sumSq ??= T.keep(T.zerosLike(w));
      if (full) this.#outer ??= T.keep(T.zeros([w.numel, w.numel], { dtype: 'float64', device: T.deviceOf(w) }));
      this.#sum.add_(w);
      T.tidy(() => {
        this.#sumSq!.add_(w.square());
        if (full) this.#outer!.add_(T.outer(w, w));
      });
      w.dispose();
    });
    this.#count++;
    this.#loss.push(ctx.metrics.loss);
  }

  result(): FluctuationResult {
    const n = this.#count;
    if (n < 2 || !this.#sum) throw new Error(`stationary fluctuations: only ${n} steps were recorded after the burn-in of ${this.burnIn}`);
    return T.tidy(() => {
      const mean = this.#sum!.div(n);
      const variance = this.#sumSq!.div(n).sub(mean.square());
      const lossMean = this.#loss.reduce((a, b) => a + b, 0) / n;
      return {
        steps: n,
        weightMean: mean.toArray() as number[],
        ...(this.#outer ? { weightCovariance: this.#outer.div(n).sub(T.outer(mean, mean)).toArray() as number[][] } : {}),
        weightVariance: variance.toArray() as number[],
        traceCovariance: variance.sum().item(),
        lossMean,
        lossVariance: this.#loss.reduce((a, b) => a + (b - lossMean) ** 2, 0) / (n - 1),
      };
    });
  }

  dispose(): void {
    T.dispose([this.#sum, this.#sumSq, this.#outer].filter((t): t is T.Tensor => t !== undefined));
  }
}
