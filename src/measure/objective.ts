/**
 * The training objective f(θ) = (1/N) Σ_i ℓ(θ; x_i, y_i) over a dataset (or its first `limit`
 * examples), with exact gradients and Hessian-vector products (Pearlmutter 1994, by double
 * backward), computed in chunks so memory stays bounded.
 *
 * Measurements run the model in evaluation mode: batch norm uses its running statistics and
 * dropout is off, so f is a fixed function of θ and examples are independent (as in PyHessian and
 * Keskar et al.); the model's mode is restored afterwards. Each objective counts its work.
 */
import * as T from '../tensor/index.js';
import { inEvaluationMode, type LossName, type Module } from '../nn/index.js';
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

export interface ObjectiveOptions {
  /** Use only the first `limit` examples. */
  limit?: number;
  /** Examples per chunk (memory bound). */
  chunkSize?: number;
}

export class Objective {
  readonly params: T.Tensor[];
  readonly n: number;
  readonly cost: MeasurementCost = emptyCost();
  private readonly chunk: number;
  /** Called after every pass over the data (for progress bars). */
  onWork: ((cost: MeasurementCost) => void) | undefined;

  constructor(readonly model: Module, readonly x: T.Tensor, readonly y: T.Tensor, readonly loss: LossName, options: ObjectiveOptions = {}) {
    this.params = model.parameters();
    this.n = Math.min(options.limit ?? Infinity, x.shape[0]!);
    this.chunk = options.chunkSize ?? MEASURE_CHUNK_SIZE;
    if (this.n < 1) throw new Error('the objective needs at least one example');
    const device = this.params[0]?.device;
    if (device !== undefined && x.device !== device) throw new Error(`the objective's examples are on ${x.device} but the model is on ${device}: put both on one device (splitsOnDevice, Module.to)`);
  }

  /** Runs fn with the model in evaluation mode and gradient recording on (callers may be in noGrad), timing it. */
  private measure<R>(fn: () => R): R {
    const started = performance.now();
    try {
      return inEvaluationMode(this.model, () => T.enableGrad(fn));
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
        body(perExampleLoss(this.loss, this.model.forward(this.x.narrow(0, start, count)), this.y.narrow(0, start, count)).sum().div(this.n));
      });
      this.cost.examples += Math.min(this.chunk, this.n - start);
    }
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
