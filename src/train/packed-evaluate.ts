/** Loss and accuracy of K packed members on the same examples, as evaluate (evaluate.ts) gives them for one model. */
import * as T from '../tensor/index.js';
import type { TensorDataset } from '../data/index.js';
import type { LossName } from '../nn/index.js';
import type { PackedMlp } from '../nn/packed-mlp.js';
import type { Evaluation } from './evaluate.js';
import { perExampleLoss } from './loss.js';
import { numbers } from './packed-gradient.js';

/**
 * Every member on the first `limit` examples (all by default), in evaluation mode (running batch-norm
 * statistics), in chunks of `batchSize`, without gradients: the chunks go through all K members at once
 * (one shared input, one batched product per layer). Restores the pack's mode afterwards.
 */
export function evaluatePacked(model: PackedMlp, data: TensorDataset, loss: LossName, options: { batchSize?: number; limit?: number } = {}): Evaluation[] {
  const n = Math.min(options.limit ?? Infinity, data.x.shape[0]!);
  const chunk = options.batchSize ?? 2000;
  const k = model.size;
  const lossSums = new Array<number>(k).fill(0);
  const correct = new Array<number>(k).fill(0);
  const training = model.training;
  model.training = false;
  try {
    T.noGrad(() => {
      for (let start = 0; start < n; start += chunk) {
        T.tidy(() => {
          const count = Math.min(chunk, n - start);
          const x = data.x.narrow(0, start, count);
          const y = data.y.narrow(0, start, count);
          const out = model.forward(x, { shared: true });
          const targets = y.unsqueeze(0).expand([k, ...y.shape]);
          const perExample = perExampleLoss(loss, out.reshape([k * count, ...out.shape.slice(2)]), targets.reshape([k * count, ...y.shape.slice(1)]));
          numbers(perExample.view([k, count]).sum(1)).forEach((s, j) => (lossSums[j]! += s));
          if (data.numClasses !== undefined) numbers(out.argmax(2).eq(y.unsqueeze(0)).sum(1)).forEach((c, j) => (correct[j]! += c));
        });
      }
    });
  } finally {
    model.training = training;
  }
  return lossSums.map((s, j) => ({ loss: s / n, accuracy: data.numClasses !== undefined ? correct[j]! / n : null, examples: n }));
}
