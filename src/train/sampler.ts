/**
 * Minibatch samplers, all seeded:
 *   reshuffle   — random reshuffling: each epoch a fresh permutation, cut into consecutive batches
 *                 (without replacement within an epoch);
 *   replacement — every batch of i.i.d. uniform indices (with replacement), as in the
 *                 with-replacement noise formulas (Ziyin et al.; Qian & Klabjan).
 * (`fresh` — new synthetic samples each step — is handled by the trainer, which asks the data.)
 */
import * as T from '../tensor/index.js';

export interface IndexSampler {
  /** Indices (int64) of the next batch; the caller owns the tensor. */
  next(): T.Tensor;
  /** Steps in one pass over the data. */
  readonly stepsPerEpoch: number;
}

export class RandomReshuffling implements IndexSampler {
  readonly stepsPerEpoch: number;
  #order: T.Tensor | undefined;
  #position = 0;
  constructor(readonly n: number, readonly batchSize: number, readonly dropLast: boolean, private readonly generator: T.Generator) {
    if (batchSize > n) throw new Error(`batch size ${batchSize} exceeds the ${n} training examples`);
    this.stepsPerEpoch = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  }
  next(): T.Tensor {
    const limit = this.dropLast ? this.stepsPerEpoch * this.batchSize : this.n;
    if (this.#order === undefined || this.#position >= limit) {
      this.#order?.dispose();
      this.#order = T.keep(T.randperm(this.n, { generator: this.generator }));
      this.#position = 0;
    }
    const count = Math.min(this.batchSize, this.n - this.#position);
    const batch = this.#order.narrow(0, this.#position, count).clone();
    this.#position += count;
    return batch;
  }
  dispose(): void {
    this.#order?.dispose();
  }
}

export class WithReplacement implements IndexSampler {
  readonly stepsPerEpoch: number;
  constructor(readonly n: number, readonly batchSize: number, private readonly generator: T.Generator) {
    this.stepsPerEpoch = Math.max(1, Math.round(n / batchSize));
  }
  next(): T.Tensor {
    return T.randint(0, this.n, [this.batchSize], { generator: this.generator });
  }
  dispose(): void {}
}
