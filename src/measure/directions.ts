/**
 * Loss-surface slices along random directions with filter normalization (Li, Xu, Taylor, Studer &
 * Goldstein 2018, §4): d ~ N(0, I) shaped like the parameters, then each filter of d (a row of a
 * Linear weight, an output channel of a Conv2d kernel) is rescaled to the norm of the same filter
 * of θ: d_f ← d_f/‖d_f‖ · ‖θ_f‖. Directions along 1-D parameters (biases, batch-norm scales and
 * shifts) are set to zero, as Li et al.'s "ignore biasbn" option does.
 *   1-D: f(θ + α·d),   2-D: f(θ + α·d₁ + β·d₂), evaluated on train and test.
 */
import * as T from '../tensor/index.js';
import type { TensorDataset } from '../data/index.js';
import type { BatchNormConvention, LossName, Module } from '../nn/index.js';
import { evaluate, type Evaluation } from '../train/evaluate.js';
import { emptyCost, type MeasurementCost } from './objective.js';
import type { ParamVector } from './vectors.js';

export function filterNormalizedDirection(params: readonly T.Tensor[], g: T.Generator): ParamVector {
  return params.map((p) =>
    T.keep(T.tidy(() => {
      if (p.rank < 2) return T.zerosLike(p);
      const d = T.randn(p.shape, { generator: g, dtype: p.dtype, device: T.deviceOf(p) });
      const dims = Array.from({ length: p.rank - 1 }, (_, i) => i + 1);
      const dn = d.norm(2, dims, { keepdim: true });
      const pn = p.detach().norm(2, dims, { keepdim: true });
      return d.div(dn.add(1e-10)).mul(pn);
    })));
}

export interface SlicePoint {
  alpha: number;
  beta?: number;
  train: Evaluation;
  test?: Evaluation;
}

export interface LandscapeSlice {
  points: SlicePoint[];
  /** lossEvaluations: passes of `evaluate` over a split; examples: every example evaluated. */
  cost: MeasurementCost;
}

/**
 * Evaluates f(θ + α·d₁ [+ β·d₂]) on a grid; the model's parameters are restored afterwards. Batch norm
 * keeps its running statistics: the directions move no batch-norm parameter and no buffer (Li et
 * al.'s "ignore biasbn"), and evaluation uses the statistics the model was trained with, as theirs does,
 * unless `batchNorm: 'batch'` asks for the statistics of the evaluated examples (measure/objective.ts).
 */
export function landscapeSlice(model: Module, data: { train: TensorDataset; test?: TensorDataset }, loss: LossName, options: { alphas: number[]; betas?: number[]; seed?: number; limit?: number; batchNorm?: BatchNormConvention; batchNormBatch?: 'all' | number }): LandscapeSlice {
  const started = performance.now();
  const cost = emptyCost();
  const params = model.parameters();
  const g = new T.Generator(options.seed ?? 0);
  const d1 = filterNormalizedDirection(params, g);
  const d2 = options.betas ? filterNormalizedDirection(params, g) : undefined;
  const origin = params.map((p) => T.keep(p.detach().clone()));
  const points: SlicePoint[] = [];
  try {
    for (const alpha of options.alphas) {
      for (const beta of options.betas ?? [undefined]) {
        T.noGrad(() => T.tidy(() => params.forEach((p, i) => {
          let v = origin[i]!.add(d1[i]!, alpha);
          if (d2 && beta !== undefined) v = v.add(d2[i]!, beta);
          p.copy_(v);
        })));
        const evaluation = { limit: options.limit, batchNorm: options.batchNorm, batchNormBatch: options.batchNormBatch };
        const train = evaluate(model, data.train, loss, evaluation);
        const test = data.test ? evaluate(model, data.test, loss, evaluation) : undefined;
        for (const e of [train, test]) if (e) {
          cost.lossEvaluations++;
          cost.examples += e.examples;
        }
        points.push({ alpha, ...(beta !== undefined ? { beta } : {}), train, ...(test ? { test } : {}) });
      }
    }
  } finally {
    T.noGrad(() => T.listCopy_(params, origin));
    T.dispose([...origin, ...d1, ...(d2 ?? [])]);
  }
  cost.seconds = (performance.now() - started) / 1000;
  return { points, cost };
}
