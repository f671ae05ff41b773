/**
 * Loss landscapes between and around solutions (Keskar et al. 2017, Fig. 3; Goodfellow et al. 2015):
 *   linear path  θ(α) = α·θ_B + (1 − α)·θ_A,
 *   curved path  θ(α) = sin(απ/2)·θ_B + cos(απ/2)·θ_A   (Keskar et al.'s second plot),
 * evaluated (loss and accuracy, train and test) for α on a grid; and distances between parameter
 * vectors. Batch-norm running statistics are interpolated along with the weights.
 */
import * as T from '../tensor/index.js';
import type { TensorDataset } from '../data/index.js';
import type { LossName, Module } from '../nn/index.js';
import { evaluate, type Evaluation } from '../train/evaluate.js';

export interface InterpolationPoint {
  alpha: number;
  train: Evaluation;
  test?: Evaluation;
}

/** α values from `from` to `to` in `points` steps (Keskar et al. use [−1, 2], 25+ points). */
export const alphaGrid = (from = -1, to = 2, points = 25): number[] => Array.from({ length: points }, (_, i) => from + ((to - from) * i) / (points - 1));

/**
 * Evaluates the path between two models of the same architecture. `probe` is a model of that
 * architecture whose state is overwritten along the path (the two endpoints are not modified).
 */
export function interpolate(a: Module, b: Module, probe: Module, data: { train: TensorDataset; test?: TensorDataset }, loss: LossName, options: { alphas?: number[]; curved?: boolean; limit?: number } = {}): InterpolationPoint[] {
  const sa = a.stateDict();
  const sb = b.stateDict();
  const alphas = options.alphas ?? alphaGrid();
  return alphas.map((alpha) => {
    const [ca, cb] = options.curved ? [Math.cos((alpha * Math.PI) / 2), Math.sin((alpha * Math.PI) / 2)] : [1 - alpha, alpha];
    T.tidy(() => {
      const mixed = new Map<string, T.Tensor>();
      for (const [k, va] of sa) {
        const vb = sb.get(k);
        if (!vb) throw new Error(`interpolate: the second model has no '${k}'`);
        // Integer buffers (num_batches_tracked) are taken from the first model.
        mixed.set(k, va.dtype === 'float32' || va.dtype === 'float64' ? va.mul(ca).add(vb, cb) : va);
      }
      probe.loadStateDict(mixed);
    });
    return {
      alpha,
      train: evaluate(probe, data.train, loss, { limit: options.limit }),
      ...(data.test ? { test: evaluate(probe, data.test, loss, { limit: options.limit }) } : {}),
    };
  });
}

/** ‖θ_a − θ_b‖ over the parameters (not the buffers). */
export function parameterDistance(a: Module, b: Module): number {
  return T.tidy(() => {
    const pa = a.parameters();
    const pb = b.parameters();
    if (pa.length !== pb.length) throw new Error('parameterDistance: the models have different parameters');
    return T.listNorm(pa.map((p, i) => p.sub(pb[i]!))).item();
  });
}
