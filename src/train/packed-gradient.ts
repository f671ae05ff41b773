/**
 * The minibatch gradients of K packed members (src/nn/packed-mlp.ts) in one backward pass, in bounded
 * memory as batchGradient (gradient.ts) does for one model: a batch larger than the micro-batch size
 * goes through in consecutive micro-batches (with batch norm: ghost batches of that size, as there), and
 * each member's gradient is accumulated as Σ_c (n_c / B)·∇(its mean loss on chunk c).
 */
import * as T from '../tensor/index.js';
import type { LossName } from '../nn/index.js';
import type { PackedMlp } from '../nn/packed-mlp.js';
import { perExampleLoss } from './loss.js';

/** A tensor's values as JavaScript numbers (int64 counts included). */
export const numbers = (t: T.Tensor): number[] => Array.from(t.data() as ArrayLike<number | bigint>, (v) => Number(v));

export interface PackedBatchGradient {
  /** Each member's mean loss on its batch, at the parameters before the step. */
  losses: number[];
  /** Stacked gradients [K, …], one per stacked parameter. */
  grads: T.Tensor[];
}

/** Each member's mean loss [K] from its logits [K, B, outputs] and targets [K, B, …]. */
export function memberLosses(loss: LossName, logits: T.Tensor, y: T.Tensor): T.Tensor {
  const [k, b] = logits.shape as [number, number];
  // Rows are independent examples: the K·B rows go through the single-model loss in one call.
  const perExample = perExampleLoss(loss, logits.reshape([k * b, ...logits.shape.slice(2)]), y.reshape([k * b, ...y.shape.slice(2)]));
  return perExample.view([k, b]).mean(1);
}

/**
 * Member k's batch is x[k], y[k]. The members share no parameter, so the gradient of the sum of their
 * mean losses with respect to member k's parameters is the gradient of member k's own mean loss:
 * ∂(Σ_j L_j)/∂θ_k = ∂L_k/∂θ_k. One backward pass of the sum gives every member its own gradient, and a
 * member whose loss is inf or NaN spoils only its own slices (the sum's backward passes 1 to every L_j).
 */
export function packedBatchGradient(model: PackedMlp, loss: LossName, x: T.Tensor, y: T.Tensor, microBatchSize: number): PackedBatchGradient {
  const params = model.parameters();
  const b = x.shape[1]!;
  if (b <= microBatchSize) {
    const losses = memberLosses(loss, model.forward(x), y);
    const grads = T.gradients([losses.sum()], params);
    return { losses: numbers(losses.detach()), grads };
  }
  const total = new Array<number>(model.size).fill(0);
  const accumulated = params.map((p) => T.zerosLike(p));
  for (let start = 0; start < b; start += microBatchSize) {
    T.tidy(() => {
      const count = Math.min(microBatchSize, b - start);
      const losses = memberLosses(loss, model.forward(x.narrow(1, start, count)), y.narrow(1, start, count));
      const grads = T.gradients([losses.sum()], params);
      T.noGrad(() => T.listAdd_(accumulated, grads, count / b));
      numbers(losses.detach()).forEach((l, k) => (total[k]! += l * (count / b)));
    });
  }
  return { losses: total, grads: accumulated };
}

/** Each member's gradient norm ‖∇L_k‖ over all its parameters, from stacked gradients. */
export function memberGradientNorms(grads: readonly T.Tensor[]): number[] {
  return T.tidy(() => {
    // ‖∇L_k‖² = Σ_i ‖(∇_i)_k‖², from one norm per stacked gradient over all but the member dimension.
    const squares = grads.map((g) => g.flatten(1).norm(2, [1]).square());
    return numbers(T.stack(squares, 0).sum(0).sqrt());
  });
}
