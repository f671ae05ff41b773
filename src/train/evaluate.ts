/**
 * Loss and accuracy of a model on a dataset, in evaluation mode, in chunks, without gradients; batch norm
 * by its running statistics, or (batchNorm 'batch', measure/objective.ts) by the statistics of the
 * evaluated examples: all of them as one batch (batchNormBatch 'all', default) or chunks of N.
 */
import * as T from '../tensor/index.js';
import type { TensorDataset } from '../data/index.js';
import { inBatchNormConvention, type BatchNormConvention, type LossName, type Module } from '../nn/index.js';
import { correctCount, perExampleLoss } from './loss.js';

export interface Evaluation {
  loss: number;
  /** Fraction correct for classification; null for regression. */
  accuracy: number | null;
  examples: number;
}

/**
 * Evaluates on the first `limit` examples (all by default). Restores the model's mode afterwards.
 * `inputs` replaces each chunk's inputs before the forward pass (e.g. by adversarial examples).
 */
export function evaluate(model: Module, data: TensorDataset, loss: LossName, options: { batchSize?: number; limit?: number; inputs?: (x: T.Tensor, y: T.Tensor) => T.Tensor; batchNorm?: BatchNormConvention; batchNormBatch?: 'all' | number } = {}): Evaluation {
  const n = Math.min(options.limit ?? Infinity, data.x.shape[0]!);
  const batches = options.batchNormBatch ?? 'all';
  if (batches !== 'all' && !(Number.isInteger(batches) && batches >= 1)) throw new RangeError(`evaluate: batchNormBatch must be 'all' or a positive integer, got ${batches}`);
  // Under 'batch' a chunk is a batch of the convention.
  const chunk = options.batchNorm === 'batch' ? (batches === 'all' ? n : batches) : options.batchSize ?? 2000;
  return inBatchNormConvention(model, options.batchNorm ?? 'running', () => {
    return T.noGrad(() => {
      let lossSum = 0;
      let correct = 0;
      for (let start = 0; start < n; start += chunk) {
        T.tidy(() => {
          const count = Math.min(chunk, n - start);
          const x = data.x.narrow(0, start, count);
          const y = data.y.narrow(0, start, count);
          const out = model.forward(options.inputs ? options.inputs(x, y) : x);
          lossSum += perExampleLoss(loss, out, y).sum().item();
          if (data.numClasses !== undefined) correct += correctCount(out, y).item();
        });
      }
      return { loss: lossSum / n, accuracy: data.numClasses !== undefined ? correct / n : null, examples: n };
    });
  });
}
