/**
 * Loss landscapes between and around solutions (Keskar et al. 2017, Fig. 3; Goodfellow et al. 2015):
 *   linear path  θ(α) = α·θ_B + (1 − α)·θ_A,
 *   curved path  θ(α) = sin(απ/2)·θ_B + cos(απ/2)·θ_A   (Keskar et al.'s second plot),
 * evaluated (loss and accuracy, train and test) for α on a grid; and distances between parameter
 * vectors.
 *
 * Batch norm: the mixed weights have no running statistics of their own. By default they are
 * recomputed at every point from a train-mode pass over a fixed, seeded subset of the training data
 * (nn/batchnorm-statistics.ts, as the mode-connectivity literature does). `batchNorm: 'interpolate'`
 * mixes the endpoints' buffers with the path's coefficients instead — kept for comparison only: the
 * mixed running variance is negative for some units as soon as α leaves [0, 1] (and on the curved
 * path), and evaluation then takes its square root (NaN losses, chance accuracy). `batchNorm: 'batch'`
 * uses no running statistics at all: every point is evaluated with batch norm by the statistics of the
 * evaluated examples (measure/objective.ts's 'batch' convention, Keskar et al.'s), the whole split as one
 * batch (`batchNormBatch: 'all'`, default) or in chunks of N.
 */
import * as T from '../tensor/index.js';
import type { TensorDataset } from '../data/index.js';
import { batchNormLayers, recomputeBatchNormStatistics, type LossName, type Module } from '../nn/index.js';
import { evaluate, type Evaluation } from '../train/evaluate.js';
import { emptyCost, type MeasurementCost } from './objective.js';

export interface InterpolationPoint {
  alpha: number;
  train: Evaluation;
  test?: Evaluation;
}

export type BatchNormAlongPath = 'recompute' | 'interpolate' | 'batch';

export interface InterpolationOptions {
  /** α values (default: alphaGrid(), Keskar et al.'s [−1, 2]). */
  alphas?: number[];
  curved?: boolean;
  /** Evaluate on the first `limit` examples of each split. */
  limit?: number;
  /** Batch-norm statistics at each point (default 'recompute'; see the header). */
  batchNorm?: BatchNormAlongPath;
  /** Training examples of the recomputation: a fixed random subset drawn with `seed` (default 4096). */
  batchNormExamples?: number;
  /** Batch size of the recomputation's train-mode passes (default 256, Keskar et al.'s SB). */
  batchNormBatchSize?: number;
  /** With batchNorm 'batch': the evaluated split as one batch ('all', default) or chunks of N examples. */
  batchNormBatch?: 'all' | number;
  seed?: number;
}

export interface InterpolationResult {
  points: InterpolationPoint[];
  curved: boolean;
  /**
   * How batch-norm statistics were set along the path (null: the model has no batch norm): for 'recompute'
   * the examples and batch size of the recomputation; for 'batch' the evaluated batch ('all' or N).
   */
  batchNorm: { mode: BatchNormAlongPath; examples: number; batchSize: number | 'all'; layers: number } | null;
  /** lossEvaluations: passes of `evaluate` over a split; examples: every example pushed through the model, recomputation included. */
  cost: MeasurementCost;
}

/** α values from `from` to `to` in `points` steps (Keskar et al. use [−1, 2], 25+ points). */
export const alphaGrid = (from = -1, to = 2, points = 25): number[] => Array.from({ length: points }, (_, i) => from + ((to - from) * i) / (points - 1));

/** The path's coefficients (c_A, c_B) at α. */
const coefficients = (alpha: number, curved: boolean): [number, number] => (curved ? [Math.cos((alpha * Math.PI) / 2), Math.sin((alpha * Math.PI) / 2)] : [1 - alpha, alpha]);

/**
 * Evaluates the path between two models of the same architecture. `probe` is a model of that
 * architecture whose state is overwritten along the path (the two endpoints are not modified).
 */
export function interpolate(a: Module, b: Module, probe: Module, data: { train: TensorDataset; test?: TensorDataset }, loss: LossName, options: InterpolationOptions = {}): InterpolationResult {
  const started = performance.now();
  const sa = a.stateDict();
  const sb = b.stateDict();
  const curved = options.curved ?? false;
  const mode = options.batchNorm ?? 'recompute';
  const hasBatchNorm = batchNormLayers(probe).length > 0;
  const cost = emptyCost();
  // The recomputation's examples: drawn once, so every point of the path sees the same ones.
  const bnBatchSize = options.batchNormBatchSize ?? 256;
  const bnX = hasBatchNorm && mode === 'recompute'
    ? T.keep(T.tidy(() => {
      const n = data.train.x.shape[0]!;
      const k = Math.min(options.batchNormExamples ?? 4096, n);
      return data.train.x.indexSelect(0, T.randperm(n, { generator: new T.Generator(options.seed ?? 0), device: T.deviceOf(data.train.x) }).narrow(0, 0, k));
    }))
    : undefined;
  const batches = options.batchNormBatch ?? 'all';
  if (options.batchNormBatch !== undefined && mode !== 'batch') throw new RangeError(`interpolate: batchNormBatch (${String(options.batchNormBatch)}) applies to batchNorm 'batch' only, but batchNorm is '${mode}'`);
  const evaluation = { limit: options.limit, ...(mode === 'batch' ? { batchNorm: 'batch' as const, batchNormBatch: batches } : {}) };
  let layers = 0;
  try {
    const points = (options.alphas ?? alphaGrid()).map((alpha) => {
      const [ca, cb] = coefficients(alpha, curved);
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
      if (bnX) {
        const r = recomputeBatchNormStatistics(probe, bnX, { batchSize: bnBatchSize });
        layers = r.layers;
        cost.examples += r.examples;
      }
      const train = evaluate(probe, data.train, loss, evaluation);
      const test = data.test ? evaluate(probe, data.test, loss, evaluation) : undefined;
      for (const e of [train, test]) if (e) {
        cost.lossEvaluations++;
        cost.examples += e.examples;
      }
      return { alpha, train, ...(test ? { test } : {}) };
    });
    cost.seconds = (performance.now() - started) / 1000;
    return {
      points, curved, cost,
      batchNorm: !hasBatchNorm ? null : bnX ? { mode, examples: bnX.shape[0]!, batchSize: bnBatchSize, layers }
        : { mode, examples: 0, batchSize: mode === 'batch' ? batches : 0, layers: batchNormLayers(probe).length },
    };
  } finally {
    bnX?.dispose();
  }
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
