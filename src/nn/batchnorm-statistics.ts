/**
 * Batch-norm running statistics recomputed for the weights a model holds now.
 *
 * A model whose weights were mixed from two others (an interpolation θ(α) = (1 − α)·θ_A + α·θ_B, a
 * point on a curve between minima) has no running statistics of its own: mixing the endpoints'
 * buffers gives a running variance that is negative as soon as α leaves [0, 1] (and on the curved
 * path), and eval-mode batch norm then takes its square root. The mode-connectivity literature
 * instead recomputes them at every point with one pass over training data in training mode
 * (Garipov et al. 2018, §4; Izmailov et al. 2018's bn_update, PyTorch's
 * torch.optim.swa_utils.update_bn): running averages reset, then the cumulative average of the
 * batch statistics (momentum = None), the variance unbiased within each batch as PyTorch's.
 *
 * Only the batch-norm layers run in training mode here; dropout stays off, since the statistics
 * are those evaluation will see (update_bn puts the whole model in training mode, which adds
 * dropout's noise to them on models that have both).
 */
import * as T from '../tensor/index.js';
import { BatchNorm } from './layers.js';
import { inEvaluationMode, type Module } from './module.js';

export interface BatchNormRecomputation {
  /** Batch-norm layers whose statistics were recomputed (0: the model has none, nothing ran). */
  layers: number;
  examples: number;
  /** Forward passes (batches) over the examples. */
  batches: number;
}

/** The model's batch-norm layers, in order. */
export const batchNormLayers = (model: Module): BatchNorm[] => model.modules().filter((m): m is BatchNorm => m instanceof BatchNorm);

/**
 * Resets every batch-norm layer's running statistics and recomputes them from `x` in batches of
 * `batchSize` (a last batch of a single example is left out: training-mode batch norm needs two).
 * The model's parameters, the layers' momentum and every module's mode are as before afterwards.
 */
export function recomputeBatchNormStatistics(model: Module, x: T.Tensor, options: { batchSize: number }): BatchNormRecomputation {
  const layers = batchNormLayers(model);
  const n = x.shape[0]!;
  if (!(Number.isInteger(options.batchSize) && options.batchSize >= 2)) throw new RangeError(`recomputeBatchNormStatistics: batchSize must be an integer ≥ 2, got ${options.batchSize}`);
  if (layers.length === 0) return { layers: 0, examples: 0, batches: 0 };
  if (n < 2) throw new RangeError(`recomputeBatchNormStatistics: needs at least 2 examples, got ${n}`);
  const momenta = layers.map((l) => l.momentum);
  let batches = 0;
  let examples = 0;
  try {
    inEvaluationMode(model, () => T.noGrad(() => {
      for (const layer of layers) {
        layer.runningMean.zero_();
        layer.runningVar.fill_(1);
        layer.numBatchesTracked.zero_();
        layer.momentum = null;
        layer.train();
      }
      for (let start = 0; start + 1 < n; start += options.batchSize) {
        const count = Math.min(options.batchSize, n - start);
        T.tidy(() => {
          model.forward(x.narrow(0, start, count));
        });
        batches++;
        examples += count;
      }
    }));
  } finally {
    layers.forEach((l, i) => (l.momentum = momenta[i]!));
  }
  return { layers: layers.length, examples, batches };
}
