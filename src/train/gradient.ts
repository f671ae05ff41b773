/**
 * The minibatch gradient, in bounded memory: a batch larger than the micro-batch size is pushed
 * through the model in consecutive micro-batches and the gradient of the batch-mean loss is
 * accumulated as Σ_c (n_c / B)·∇(mean loss of chunk c). Without batch norm this equals the
 * one-shot gradient up to float rounding. With batch norm, each micro-batch is normalized with
 * its own statistics: the batch is trained as ghost batches of the micro-batch size (Hoffer et
 * al. 2017), which is how large-batch studies run BN anyway (Goyal et al. 2017 normalize per
 * 32-example worker batch).
 */
import * as T from '../tensor/index.js';
import type { LossName, Module } from '../nn/index.js';
import { lossValue } from './loss.js';

export interface BatchGradient {
  /** Mean loss of the batch (at the parameters before the step). */
  loss: number;
  grads: T.Tensor[];
}

export function batchGradient(model: Module, params: readonly T.Tensor[], loss: LossName, x: T.Tensor, y: T.Tensor, microBatchSize: number): BatchGradient {
  const b = x.shape[0]!;
  if (b <= microBatchSize) {
    const value = lossValue(loss, model.forward(x), y);
    const grads = T.gradients([value], params);
    return { loss: value.item(), grads };
  }
  let total = 0;
  const accumulated = params.map((p) => T.zerosLike(p));
  for (let start = 0; start < b; start += microBatchSize) {
    T.tidy(() => {
      const count = Math.min(microBatchSize, b - start);
      const value = lossValue(loss, model.forward(x.narrow(0, start, count)), y.narrow(0, start, count));
      const grads = T.gradients([value], params);
      T.noGrad(() => T.listAdd_(accumulated, grads, count / b));
      total += value.item() * (count / b);
    });
  }
  return { loss: total, grads: accumulated };
}
