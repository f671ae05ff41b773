/**
 * Gradient noise at a point θ, from per-example gradients g_i = ∇ℓ_i(θ) (SCIENCE.md §3–5):
 *   G = (1/N) Σ g_i,   tr Σ = (1/N) Σ ‖g_i − G‖² = mean ‖g_i‖² − ‖G‖²   (1/N normalization),
 *   B_simple = tr Σ / ‖G‖²   (McCandlish et al. 2018),
 *   tr Cov(g_b) = tr Σ / b with replacement, tr Σ (N − b)/(b(N − 1)) without (Qian & Klabjan 2020),
 * so one pass gives the variance for every b at once; a Monte Carlo estimate over real sampled
 * minibatches checks it. As for the Hessian, the model runs in evaluation mode.
 *
 * Per-example squared norms are exact and efficient for Sequential models of Linear, Conv2d and
 * BatchNorm layers (Goodfellow 2015): with a_i a layer's input and δ_i = ∂ℓ_i/∂z_i its output
 * gradient, a Linear layer's per-example weight gradient is δ_i a_iᵀ, so ‖·‖² = ‖δ_i‖²‖a_i‖²; a
 * Conv2d layer's is δ_i · unfold(a_i)ᵀ. Other models fall back to one backward pass per example
 * (perExampleGradients, also the reference the fast method is tested against).
 */
import * as T from '../tensor/index.js';
import { BatchNorm, Conv2d, Linear, Sequential, inEvaluationMode, type Module, type LossName } from '../nn/index.js';
import { perExampleLoss } from '../train/loss.js';
import { minibatchGradientVariance } from '../theory/noise.js';
import { sampleStatistics } from '../theory/statistics.js';
import { Objective, type MeasurementCost } from './objective.js';

/** The flat per-example gradients [n, P] by one backward pass per example (the reference method). */
export function perExampleGradients(model: Module, x: T.Tensor, y: T.Tensor, loss: LossName): T.Tensor {
  const params = model.parameters();
  return inEvaluationMode(model, () => {
    const rows: T.Tensor[] = [];
    for (let i = 0; i < x.shape[0]!; i++) {
      rows.push(T.keep(T.tidy(() => {
        const l = perExampleLoss(loss, model.forward(x.narrow(0, i, 1)), y.narrow(0, i, 1)).sum();
        return T.cat(T.gradients([l], params).map((g) => g.flatten()), 0);
      })));
    }
    return T.tidy(() => {
      const out = T.stack(rows, 0);
      T.dispose(rows);
      return out;
    });
  });
}

interface Tap {
  layer: Linear | Conv2d | BatchNorm;
  input: T.Tensor;
  output: T.Tensor;
}

/** Runs a Sequential model keeping each parametrized layer's input and output, or null if the model is not one we can tap. */
function forwardWithTaps(model: Module, x: T.Tensor): { out: T.Tensor; taps: Tap[] } | null {
  if (!(model instanceof Sequential)) return null;
  const taps: Tap[] = [];
  let h = x;
  for (const layer of model.layers) {
    const out = layer.forward(h);
    if (layer instanceof Linear || layer instanceof Conv2d || layer instanceof BatchNorm) taps.push({ layer, input: h, output: out });
    else if (layer.parameters().length > 0) return null;
    h = out;
  }
  return { out: h, taps };
}

/** ‖g_i‖² for every example of the chunk, from the taps (sum over layers and their parameters). */
function tapNormsSquared(taps: Tap[], deltas: T.Tensor[]): T.Tensor {
  const parts = taps.map((tap, k) => {
    const d = deltas[k]!;
    const b = d.shape[0]!;
    const layer = tap.layer;
    if (layer instanceof Linear) {
      const a = tap.input;
      const dn = d.square().sum(1);
      const w = dn.mul(a.square().sum(1));
      return layer.bias ? w.add(dn) : w;
    }
    if (layer instanceof Conv2d) {
      const cols = T.unfold(tap.input, layer.kernelSize, { padding: layer.padding, stride: layer.stride }); // [B, K, L]
      const dl = d.reshape([b, layer.outChannels, -1]); // [B, C_out, L]
      const w = T.bmm(dl, cols.transpose(1, 2)).square().sum([1, 2]);
      return layer.bias ? w.add(dl.sum(2).square().sum(1)) : w;
    }
    // BatchNorm in evaluation mode: y = γ·x̂ + β with x̂ from the running statistics.
    const shape = tap.input.rank === 4 ? [1, -1, 1, 1] : [1, -1];
    const xhat = tap.input.sub(layer.runningMean.reshape(shape)).div(layer.runningVar.add(layer.eps).sqrt().reshape(shape));
    const dims = tap.input.rank === 4 ? [2, 3] : [];
    const gGamma = dims.length ? d.mul(xhat).sum(dims) : d.mul(xhat);
    const gBeta = dims.length ? d.sum(dims) : d;
    return gGamma.square().sum(1).add(gBeta.square().sum(1));
  });
  return parts.reduce((acc, p) => acc.add(p));
}

/** ‖g_i‖² of every example [n], by taps when the model allows it, else by the per-example loop. */
export function perExampleSquaredNorms(model: Module, x: T.Tensor, y: T.Tensor, loss: LossName, options: { chunkSize?: number; method?: 'auto' | 'loop' } = {}): { normsSq: T.Tensor; method: 'taps' | 'loop' } {
  const chunk = options.chunkSize ?? 500;
  return inEvaluationMode(model, () => {
    if (options.method !== 'loop' && forwardWithTaps(model, x.narrow(0, 0, 1)) !== null) {
      const pieces: T.Tensor[] = [];
      for (let start = 0; start < x.shape[0]!; start += chunk) {
        pieces.push(T.keep(T.tidy(() => {
          const count = Math.min(chunk, x.shape[0]! - start);
          const { out, taps } = forwardWithTaps(model, x.narrow(0, start, count))!;
          // Σ_i ℓ_i: its gradient with respect to layer k's output is δ_i for every example i at once.
          const total = perExampleLoss(loss, out, y.narrow(0, start, count)).sum();
          const deltas = T.gradients([total], taps.map((t) => t.output));
          return T.noGrad(() => tapNormsSquared(taps, deltas));
        })));
      }
      const normsSq = T.tidy(() => T.cat(pieces, 0));
      T.dispose(pieces);
      return { normsSq, method: 'taps' };
    }
    return { normsSq: T.tidy(() => perExampleGradients(model, x, y, loss).square().sum(1)), method: 'loop' };
  });
}

export interface NoiseStatistics {
  examples: number;
  /** L(w), the mean loss over the same examples (Ziyin et al. 2022 Theorem 5's C ≈ (2L₀/S)H needs it beside tr Σ). */
  loss: number;
  /** ‖G‖², G the full-data gradient. */
  gradNormSq: number;
  /** tr Σ, Σ the per-example gradient covariance (1/N). */
  traceSigma: number;
  /** B_simple = tr Σ / ‖G‖² (McCandlish et al. 2018). */
  bSimple: number;
  /** tr Cov(g_b) for each b, both samplings (closed form from tr Σ). */
  varianceByBatchSize: { b: number; withReplacement: number; withoutReplacement: number }[];
  /** The same variance measured on sampled minibatch gradients, with its standard error. */
  monteCarlo?: { b: number; replacement: boolean; variance: number; standardError: number; samples: number }[];
  method: 'taps' | 'loop';
  /**
   * The parameters it was measured at, flattened in the model's parameter order, for models of at most
   * WEIGHTS_RECORDED_UP_TO parameters: exact noise formulas need w itself (label-noise regression's
   * S·C = AMA + Tr[AM]A + σ²A with M = (w − u)(w − u)ᵀ, Ziyin et al. 2022 Lemma 1), which ‖G‖² gives only in 1-D.
   */
  weights?: number[];
  cost: Pick<MeasurementCost, 'seconds'>;
}

/** Models up to this many parameters have their weights recorded with their noise statistics (a few hundred bytes). */
export const WEIGHTS_RECORDED_UP_TO = 64;

export interface NoiseOptions {
  /** Batch sizes to report (default: powers of 2 up to N). */
  batchSizes?: number[];
  /** Monte Carlo minibatches per batch size and sampling (0 skips it). */
  monteCarloSamples?: number;
  monteCarloBatchSizes?: number[];
  seed?: number;
  chunkSize?: number;
  method?: 'auto' | 'loop';
}

/** Noise statistics of the minibatch gradient at the model's current parameters, over (x, y). */
export function noiseStatistics(model: Module, x: T.Tensor, y: T.Tensor, loss: LossName, options: NoiseOptions = {}): NoiseStatistics {
  const started = performance.now();
  const n = x.shape[0]!;
  const params = model.parameters();
  return inEvaluationMode(model, () => {
    const meanLoss = (xs: T.Tensor, ys: T.Tensor) => perExampleLoss(loss, model.forward(xs), ys).mean();
    let meanLossValue = NaN;
    const fullGradient = T.keep(T.tidy(() => {
      const { value, gradient } = new Objective(model, x, y, loss, { chunkSize: options.chunkSize }).valueAndGradient();
      meanLossValue = value;
      return T.cat(gradient.map((g) => g.flatten()), 0);
    }));
    const gradNormSq = T.tidy(() => fullGradient.square().sum().item());
    const { normsSq, method } = perExampleSquaredNorms(model, x, y, loss, { chunkSize: options.chunkSize, method: options.method });
    const meanNormSq = T.tidy(() => normsSq.mean().item());
    normsSq.dispose();
    const traceSigma = Math.max(0, meanNormSq - gradNormSq);
    const sizes = options.batchSizes ?? Array.from({ length: Math.floor(Math.log2(n)) + 1 }, (_, k) => 2 ** k);
    const result: NoiseStatistics = {
      examples: n,
      loss: meanLossValue,
      gradNormSq,
      traceSigma,
      bSimple: traceSigma / gradNormSq,
      varianceByBatchSize: sizes.map((b) => ({ b, withReplacement: minibatchGradientVariance(traceSigma, b, n, true), withoutReplacement: minibatchGradientVariance(traceSigma, b, n, false) })),
      method,
      cost: { seconds: 0 },
    };
    const parameterCount = params.reduce((sum, p) => sum + p.numel, 0);
    if (parameterCount <= WEIGHTS_RECORDED_UP_TO) result.weights = T.tidy(() => T.cat(params.map((p) => p.flatten()), 0).double().toArray() as number[]);
    const samples = options.monteCarloSamples ?? 0;
    if (samples > 0) {
      const g = new T.Generator(options.seed ?? 0);
      result.monteCarlo = [];
      for (const b of options.monteCarloBatchSizes ?? sizes.filter((s) => s < n).slice(0, 4)) {
        for (const replacement of [true, false]) {
          const values: number[] = [];
          for (let k = 0; k < samples; k++) {
            values.push(T.tidy(() => {
              const idx = replacement ? T.randint(0, n, [b], { generator: g, device: T.deviceOf(x) }) : T.randperm(n, { generator: g, device: T.deviceOf(x) }).narrow(0, 0, b);
              const gb = T.cat(T.gradients([meanLoss(x.indexSelect(0, idx), y.indexSelect(0, idx))], params).map((t) => t.flatten()), 0);
              return gb.sub(fullGradient).square().sum().item();
            }));
          }
          const { mean, standardError } = sampleStatistics(values);
          result.monteCarlo.push({ b, replacement, variance: mean, standardError, samples });
        }
      }
    }
    fullGradient.dispose();
    result.cost.seconds = (performance.now() - started) / 1000;
    return result;
  });
}
