/**
 * The minibatch gradients of K packed members (src/nn/packed-mlp.ts) in one backward pass, in bounded
 * memory as batchGradient (gradient.ts) does for one model: a batch larger than the micro-batch size
 * goes through in consecutive micro-batches (with batch norm: ghost batches of that size, as there), and
 * each member's gradient is accumulated as Σ_c (n_c / B)·∇(its mean loss on chunk c).
 */
import * as T from '../tensor/index.js';
import { take, type TensorDataset } from '../data/index.js';
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
 * Member k's batch is the examples at indices[k] ([K, B] int64) of the dataset, gathered one micro-batch at
 * a time (a gathered input is then no larger than the micro-batch's activations). The members share no parameter, so the gradient of the sum of their
 * mean losses with respect to member k's parameters is the gradient of member k's own mean loss:
 * ∂(Σ_j L_j)/∂θ_k = ∂L_k/∂θ_k. One backward pass of the sum gives every member its own gradient, and a
 * member whose loss is inf or NaN spoils only its own slices (the sum's backward passes 1 to every L_j).
 */
export function packedBatchGradient(model: PackedMlp, loss: LossName, data: TensorDataset, indices: T.Tensor, microBatchSize: number): PackedBatchGradient {
  const params = model.parameters();
  const [k, b] = indices.shape as [number, number];
  // Member k's examples start..start+count, as [K, count, …].
  const batch = (start: number, count: number) => {
    const { x, y } = take(data, (start === 0 && count === b ? indices : indices.narrow(1, start, count)).reshape([k * count]));
    return { x: x.view([k, count, ...x.shape.slice(1)]), y: y.view([k, count, ...y.shape.slice(1)]) };
  };
  if (b <= microBatchSize) {
    const { x, y } = batch(0, b);
    const losses = memberLosses(loss, model.forward(x), y);
    const grads = T.gradients([losses.sum()], params);
    return { losses: numbers(losses.detach()), grads };
  }
  const total = new Array<number>(model.size).fill(0);
  const accumulated = params.map((p) => T.zerosLike(p));
  for (let start = 0; start < b; start += microBatchSize) {
    T.tidy(() => {
      const count = Math.min(microBatchSize, b - start);
      const { x, y } = batch(start, count);
      const losses = memberLosses(loss, model.forward(x), y);
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
    // ‖∇L_k‖ = ‖(‖(∇_1)_k‖, …, ‖(∇_n)_k‖)‖: one norm per stacked gradient over all but the member dimension,
    // then the norm of those n norms (few operations: at small batches their count is what a step costs).
    const k = grads[0]!.shape[0]!;
    const perParameter = grads.map((g) => g.reshape([k, -1]).norm(2, [1]));
    return numbers(T.stack(perParameter, 1).norm(2, [1]));
  });
}
