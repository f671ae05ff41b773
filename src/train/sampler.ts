/**
 * Minibatch samplers, all seeded:
 *   reshuffle   — random reshuffling: each epoch a fresh permutation, cut into consecutive batches
 *                 (without replacement within an epoch);
 *   replacement — every batch of i.i.d. uniform indices (with replacement), as in the
 *                 with-replacement noise formulas (Ziyin et al.; Qian & Klabjan).
 * (`fresh` — new synthetic samples each step — is handled by the trainer, which asks the data.)
 * With a batch schedule the batch size changes between steps: reshuffling then cuts batches from one
 * stream of permutations (ReshufflingStream), so every example is seen once per N examples drawn.
 */
import * as T from '../tensor/index.js';

export interface IndexSampler {
  /** Indices (int64) of the next batch; the caller owns the tensor. */
  next(): T.Tensor;
  /** Steps in one pass over the data. */
  readonly stepsPerEpoch: number;
}

/** A permutation of 0..N−1 drawn when needed and the position in it: what a snapshot saves of a sampler. */
abstract class Permutations {
  protected order: T.Tensor | undefined;
  protected position = 0;
  constructor(readonly n: number, private readonly generator: T.Generator) {}
  protected reshuffle(): T.Tensor {
    this.order?.dispose();
    this.order = T.keep(T.randperm(this.n, { generator: this.generator }));
    this.position = 0;
    return this.order;
  }
  /** The current permutation and position in it (the tensor is the sampler's). */
  state(): { order?: T.Tensor; position: number } {
    return { order: this.order, position: this.position };
  }
  restore(state: { order?: T.Tensor; position: number }): void {
    this.order?.dispose();
    this.order = state.order ? T.keep(state.order.clone()) : undefined;
    this.position = state.position;
  }
  dispose(): void {
    this.order?.dispose();
  }
}

export class RandomReshuffling extends Permutations implements IndexSampler {
  readonly stepsPerEpoch: number;
  constructor(n: number, readonly batchSize: number, readonly dropLast: boolean, generator: T.Generator) {
    super(n, generator);
    if (batchSize > n) throw new Error(`batch size ${batchSize} exceeds the ${n} training examples`);
    this.stepsPerEpoch = dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  }
  next(): T.Tensor {
    const limit = this.dropLast ? this.stepsPerEpoch * this.batchSize : this.n;
    const order = this.order === undefined || this.position >= limit ? this.reshuffle() : this.order;
    const count = Math.min(this.batchSize, this.n - this.position);
    const batch = order.narrow(0, this.position, count).clone();
    this.position += count;
    return batch;
  }
}

/**
 * Random reshuffling for batches of any size: a stream of permutations, each batch the next b indices
 * (a batch may straddle two permutations). With b dividing N it draws exactly what RandomReshuffling does.
 */
export class ReshufflingStream extends Permutations {
  next(b: number): T.Tensor {
    const pieces: T.Tensor[] = [];
    for (let need = b; need > 0;) {
      const order = this.order === undefined || this.position >= this.n ? this.reshuffle() : this.order;
      const count = Math.min(need, this.n - this.position);
      pieces.push(order.narrow(0, this.position, count));
      this.position += count;
      need -= count;
    }
    return pieces.length === 1 ? pieces[0]!.clone() : T.cat(pieces, 0);
  }
}

export class WithReplacement implements IndexSampler {
  readonly stepsPerEpoch: number;
  constructor(readonly n: number, readonly batchSize: number, private readonly generator: T.Generator) {
    this.stepsPerEpoch = Math.max(1, Math.round(n / batchSize));
  }
  /** A batch of b (default: the sampler's batch size) uniform indices. */
  next(b = this.batchSize): T.Tensor {
    return T.randint(0, this.n, [b], { generator: this.generator });
  }
  dispose(): void {}
}
