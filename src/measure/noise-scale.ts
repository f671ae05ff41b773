/**
 * The gradient noise scale of McCandlish, Kaplan, Amodei et al. 2018:
 *   B_noise = tr(HΣ) / (GᵀHG)        ("the" noise scale; reduces to B_simple = tr Σ/|G|² for H ∝ I),
 * estimated here with exact Hessian-vector products: GᵀHG from one HVP with the full gradient, and
 * tr(HΣ) = E_i (g_i − G)ᵀH(g_i − G) over `samples` examples drawn uniformly (each a per-example
 * gradient and an HVP), with its standard error.
 *
 * NoiseScaleTracker is the two-batch estimator for use during training (McCandlish et al., App. A.1):
 * every `every` steps it takes the gradient norms of a fresh small and a fresh big minibatch at the
 * current parameters (model in evaluation mode, so batch norm's running statistics are untouched), keeps exponential moving averages of |G_small|² and |G_big|², and forms the
 * unbiased estimates of |G|² and tr Σ (theory/noise.ts, twoBatchEstimates) from the averages.
 */
import * as T from '../tensor/index.js';
import type { TensorDataset } from '../data/index.js';
import { inEvaluationMode, type LossName, type Module } from '../nn/index.js';
import { lossValue } from '../train/loss.js';
import type { StepContext, TrainHooks } from '../train/trainer.js';
import { twoBatchEstimates } from '../theory/noise.js';
import { sampleStatistics } from '../theory/statistics.js';
import type { Objective } from './objective.js';
import { dot, keepAll, type ParamVector } from './vectors.js';

export interface BNoiseResult {
  bNoise: number;
  traceHSigma: number;
  traceHSigmaStandardError: number;
  gHg: number;
  samples: number;
  hvps: number;
}

export function noiseScaleBNoise(objective: Objective, options: { samples?: number; seed?: number } = {}): BNoiseResult {
  const samples = options.samples ?? 32;
  const before = objective.cost.hessianVectorProducts;
  const { gradient: G } = objective.valueAndGradient();
  const gHg = T.tidy(() => dot(G, objective.hessianVectorProduct(G)));
  const g = new T.Generator(options.seed ?? 0);
  const model = objective.model;
  const params = objective.params;
  const values: number[] = [];
  try {
    inEvaluationMode(model, () => {
      for (let k = 0; k < samples; k++) {
        values.push(T.tidy(() => {
          const i = Math.floor((T.rand([1], { generator: g, dtype: 'float64' }).item()) * objective.n);
          const li = lossValue(objective.loss, model.forward(objective.x.narrow(0, i, 1)), objective.y.narrow(0, i, 1));
          const gi = T.gradients([li], params);
          const centered: ParamVector = keepAll(T.noGrad(() => gi.map((t, j) => t.sub(G[j]!))));
          const quad = dot(centered, objective.hessianVectorProduct(centered));
          T.dispose(centered);
          return quad;
        }));
      }
    });
  } finally {
    T.dispose(G);
  }
  const { mean, standardError } = sampleStatistics(values);
  return { bNoise: mean / gHg, traceHSigma: mean, traceHSigmaStandardError: standardError, gHg, samples, hvps: objective.cost.hessianVectorProducts - before };
}

export interface NoiseScaleEstimate {
  step: number;
  /** The estimates from the moving averages of the two squared norms. */
  gradNormSq: number;
  traceSigma: number;
  bSimple: number;
  /** This record's raw samples |G_small|² and |G_big|² (before averaging), for error bars or other estimators. */
  smallNormSq: number;
  bigNormSq: number;
}

export class NoiseScaleTracker {
  readonly hooks: TrainHooks;
  readonly history: NoiseScaleEstimate[] = [];
  #small = NaN;
  #big = NaN;
  readonly #g: T.Generator;

  constructor(readonly options: { smallBatch: number; bigBatch: number; every?: number; decay?: number; seed?: number; loss: LossName }) {
    if (!(options.smallBatch >= 1 && options.bigBatch > options.smallBatch)) throw new RangeError(`NoiseScaleTracker: need 1 ≤ smallBatch < bigBatch, got ${options.smallBatch} and ${options.bigBatch}`);
    this.#g = new T.Generator(options.seed ?? 0);
    this.hooks = { onStep: (ctx) => this.record(ctx) };
  }

  /** In evaluation mode: a training-mode forward pass would move batch norm's running statistics. */
  private normSq(model: Module, data: TensorDataset, b: number): number {
    return inEvaluationMode(model, () => {
      return T.tidy(() => {
        const idx = T.randint(0, data.x.shape[0]!, [b], { generator: this.#g, device: T.deviceOf(data.x) });
        const l = lossValue(this.options.loss, model.forward(data.x.indexSelect(0, idx)), data.y.indexSelect(0, idx));
        return T.listNorm(T.gradients([l], model.parameters())).item() ** 2;
      });
    });
  }

  private record(ctx: StepContext): void {
    if (ctx.step % (this.options.every ?? 10) !== 0) return;
    const decay = this.options.decay ?? 0.9;
    const small = this.normSq(ctx.model, ctx.data.train, this.options.smallBatch);
    const big = this.normSq(ctx.model, ctx.data.train, this.options.bigBatch);
    this.#small = Number.isNaN(this.#small) ? small : decay * this.#small + (1 - decay) * small;
    this.#big = Number.isNaN(this.#big) ? big : decay * this.#big + (1 - decay) * big;
    const e = twoBatchEstimates({ b: this.options.smallBatch, normSq: this.#small }, { b: this.options.bigBatch, normSq: this.#big });
    this.history.push({ step: ctx.step, ...e, smallNormSq: small, bigNormSq: big });
  }
}
