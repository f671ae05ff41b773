/**
 * The training objective f(θ) = (1/N) Σ_i ℓ(θ; x_i, y_i) over a dataset (or its first `limit`
 * examples), with exact gradients and Hessian-vector products (Pearlmutter 1994, by double
 * backward), computed in chunks so memory stays bounded.
 *
 * Measurements run the model in evaluation mode (dropout off; the model's mode is restored afterwards)
 * under a batch-norm convention (nn/layers.ts, BatchNormConvention), a choice of every measurement
 * that evaluates the loss at moved weights:
 *   - 'running' (default): batch norm uses its running statistics, so f is a fixed function of θ and
 *     examples are independent (as in PyHessian);
 *   - 'batch': each batch norm normalizes by the statistics of the evaluated examples, as Keskar et
 *     al. 2017 measured (Keras 1's BatchNormalization(mode=2); the L-BFGS-B wrapper of Keras PR #3064
 *     evaluates loss and gradient in the learning phase on the whole training set fed as one batch).
 *     The statistics are functions of θ and part of the graph: gradients and Hessian-vector products
 *     are those of this f. `batchNormBatch` says what a batch is: 'all' (default), the N examples as
 *     one batch, Keras PR #3064's way; or a number B, consecutive chunks of B examples, each normalized
 *     by its own statistics, f the mean of the per-example losses (Keras's evaluate(batch_size=B)):
 *     the last chunk holds the N mod B remaining examples, normalized by their own statistics, as
 *     Keras's last batch was (a chunk of one example has zero variance and normalizes every unit to its β,
 *     as in Keras; choose N dividing the number of examples to avoid it).
 *     A whole-set batch holds the activations (and, for Hessian-vector products, their double
 *     backward) of all N examples at once. Ghost batch sizes are a training option and play no part.
 *     Running statistics are neither read nor updated. Gradient-noise measurements (per-example
 *     gradients, noise.ts) keep 'running': under 'batch' an example's loss depends on the others.
 * With `probabilityClip` c (cross-entropy only), the per-example loss is −log clip(p_y, c, 1 − c), p the
 * softmax, as Keras 1's categorical_crossentropy clipped predictions to [1e-7, 1 − 1e-7]: each example's
 * loss is at most −log c (16.1 for 1e-7), and a clipped example has zero gradient.
 * Each objective counts its work.
 */
import * as T from '../tensor/index.js';
import { BatchNorm, inBatchNormConvention, type BatchNormConvention, type LossName, type Module } from '../nn/index.js';
import { perExampleLoss } from '../train/loss.js';
import type { ParamVector } from './vectors.js';

export interface MeasurementCost {
  /** Passes over the measured data, counting a forward+backward as one. */
  lossEvaluations: number;
  gradients: number;
  hessianVectorProducts: number;
  /** Products C·v with the gradient-noise covariance (noise-covariance.ts): a forward and three backward passes each. */
  covarianceVectorProducts: number;
  examples: number;
  seconds: number;
}

export const emptyCost = (): MeasurementCost => ({ lossEvaluations: 0, gradients: 0, hessianVectorProducts: 0, covarianceVectorProducts: 0, examples: 0, seconds: 0 });

/** The total cost of several measurements. */
export function sumCosts(costs: readonly MeasurementCost[]): MeasurementCost {
  const total = emptyCost();
  for (const c of costs) for (const k of Object.keys(total) as (keyof MeasurementCost)[]) total[k] += c[k];
  return total;
}

/** Examples per chunk of a pass over the data: bounds the activations held at once. */
export const MEASURE_CHUNK_SIZE = 1000;

export interface ObjectiveOptions extends Partial<ObjectiveConventionOptions> {
  /** Use only the first `limit` examples. */
  limit?: number;
  /** Examples per chunk (memory bound) under the 'running' convention. */
  chunkSize?: number;
}

/** The function being measured, beside the model and data: see the header. */
export interface ObjectiveConventionOptions {
  batchNorm: BatchNormConvention;
  /** Under 'batch': 'all' (the evaluated examples as one batch) or the examples per batch. */
  batchNormBatch: 'all' | number;
  /** Clip the predicted probability of the true class to [c, 1 − c] (cross-entropy only). */
  probabilityClip: number;
}

/** What a result records of its objective: the convention, null where it does not apply. */
export interface ObjectiveConvention {
  batchNorm: BatchNormConvention;
  batchNormBatch: 'all' | number | null;
  probabilityClip: number | null;
}

/** The convention of `options`, checked: a bad value throws naming the field, the value and what is allowed. */
export function objectiveConvention(options: Partial<ObjectiveConventionOptions>, loss: LossName): ObjectiveConvention {
  const batchNorm = options.batchNorm ?? 'running';
  if (batchNorm !== 'running' && batchNorm !== 'batch') throw new RangeError(`batchNorm must be running or batch, got ${String(batchNorm)}`);
  const b = options.batchNormBatch;
  if (b !== undefined && batchNorm !== 'batch') throw new RangeError(`batchNormBatch (${String(b)}) applies to batchNorm 'batch' only, but batchNorm is '${batchNorm}'`);
  if (b !== undefined && b !== 'all' && !(Number.isInteger(b) && b >= 1)) throw new RangeError(`batchNormBatch must be 'all' or a positive integer, got ${String(b)}`);
  const c = options.probabilityClip;
  if (c !== undefined && !(c > 0 && c < 0.5)) throw new RangeError(`probabilityClip must be in (0, 0.5), got ${c}`);
  if (c !== undefined && loss !== 'cross-entropy') throw new RangeError(`probabilityClip applies to the cross-entropy loss only, but the loss is ${loss}`);
  return { batchNorm, batchNormBatch: batchNorm === 'batch' ? b ?? 'all' : null, probabilityClip: c ?? null };
}

export class Objective {
  readonly params: T.Tensor[];
  readonly n: number;
  readonly cost: MeasurementCost = emptyCost();
  private readonly chunk: number;
  /** The batch-norm convention and probability clipping of f. */
  readonly convention: ObjectiveConvention;
  /** Called after every pass over the data (for progress bars). */
  onWork: ((cost: MeasurementCost) => void) | undefined;

  constructor(readonly model: Module, readonly x: T.Tensor, readonly y: T.Tensor, readonly loss: LossName, options: ObjectiveOptions = {}) {
    this.params = model.parameters();
    this.n = Math.min(options.limit ?? Infinity, x.shape[0]!);
    if (this.n < 1) throw new Error('the objective needs at least one example');
    this.convention = objectiveConvention(options, loss);
    const batches = this.convention.batchNormBatch;
    // Under 'batch' a chunk is a batch of the convention, unless the model has no batch norm (f is then the same).
    const chunkIsBatch = batches !== null && model.modules().some((m) => m instanceof BatchNorm);
    this.chunk = chunkIsBatch ? (batches === 'all' ? this.n : batches) : options.chunkSize ?? MEASURE_CHUNK_SIZE;
    const device = this.params[0]?.device;
    if (device !== undefined && x.device !== device) throw new Error(`the objective's examples are on ${x.device} but the model is on ${device}: put both on one device (splitsOnDevice, Module.to)`);
  }

  /** Runs fn with the model in evaluation mode under the convention, gradient recording on (callers may be in noGrad), timing it. */
  private measure<R>(fn: () => R): R {
    const started = performance.now();
    try {
      return inBatchNormConvention(this.model, this.convention.batchNorm, () => T.enableGrad(fn));
    } finally {
      this.cost.seconds += (performance.now() - started) / 1000;
      this.onWork?.(this.cost);
    }
  }

  /** Σ over chunks of body(chunk loss summed and divided by N). */
  private chunks(body: (loss: T.Tensor) => void): void {
    for (let start = 0; start < this.n; start += this.chunk) {
      T.tidy(() => {
        const count = Math.min(this.chunk, this.n - start);
        body(this.exampleLosses(this.model.forward(this.x.narrow(0, start, count)), this.y.narrow(0, start, count)).sum().div(this.n));
      });
      this.cost.examples += Math.min(this.chunk, this.n - start);
    }
  }

  /**
   * The per-example losses; clipped, −log clip(p_y, c, 1 − c) = clamp(−log p_y, −log(1 − c), −log c)
   * (−log is decreasing), with c and 1 − c rounded to the model's dtype as Keras's clip was.
   */
  private exampleLosses(output: T.Tensor, target: T.Tensor): T.Tensor {
    const losses = perExampleLoss(this.loss, output, target);
    const c = this.convention.probabilityClip;
    if (c === null) return losses;
    const round = output.dtype === 'float32' ? Math.fround : (v: number) => v;
    return losses.clamp(-Math.log(round(1 - c)), -Math.log(round(c)));
  }

  /** f(θ) at the current parameters. */
  value(): number {
    return this.measure(() => {
      this.cost.lossEvaluations++;
      let total = 0;
      T.noGrad(() => this.chunks((l) => (total += l.item())));
      return total;
    });
  }

  /** f and ∇f at the current parameters; the gradient belongs to the caller's tidy scope (or to the caller, outside any). */
  valueAndGradient(): { value: number; gradient: ParamVector } {
    return this.measure(() => {
      this.cost.gradients++;
      let total = 0;
      const acc = this.params.map((p) => T.zerosLike(p));
      this.chunks((l) => {
        total += l.item();
        const g = T.gradients([l], this.params);
        T.noGrad(() => T.listAdd_(acc, g, 1));
      });
      return { value: total, gradient: acc };
    });
  }

  /** H·v, H = ∇²f at the current parameters (exact, by double backward); the result belongs to the caller's scope. */
  hessianVectorProduct(v: ParamVector): ParamVector {
    return this.measure(() => {
      this.cost.hessianVectorProducts++;
      const acc = this.params.map((p) => T.zerosLike(p));
      this.chunks((l) => {
        const g = T.gradients([l], this.params, { createGraph: true });
        const hv = T.gradients([T.listDot(g, v)], this.params);
        T.noGrad(() => T.listAdd_(acc, hv, 1));
      });
      return acc;
    });
  }
}
