/**
 * Neural-network functions, as torch.nn.functional: layers, activations and losses.
 * Shapes follow PyTorch: images are [batch, channels, height, width]; class targets are int64.
 */
import type { Generator } from './generator.js';
import { N, Tensor, checkInt, checkIntList, handleOf, run, wrap } from './tensor.js';

export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };
function reductionCode(op: string, r: Reduction | undefined): number {
  const code = REDUCTION[r ?? 'mean'];
  if (code === undefined) throw new TypeError(`${op}: reduction must be 'none', 'mean' or 'sum', got '${String(r)}'`);
  return code;
}
type Pair = number | readonly [number, number];
function pair(op: string, name: string, v: Pair): number[] {
  const out = typeof v === 'number' ? [v, v] : [...v];
  if (out.length !== 2 || !out.every(Number.isInteger)) throw new TypeError(`${op}: '${name}' must be an integer or a pair of integers, got ${JSON.stringify(v)}`);
  return out;
}
const opt = (op: string, name: string, t: Tensor | undefined) => (t === undefined ? null : handleOf(op, name, t));

declare module './tensor.js' {
  interface Tensor {
    relu(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    gelu(approximate?: 'none' | 'tanh'): Tensor;
    softplus(beta?: number, threshold?: number): Tensor;
    leakyRelu(negativeSlope?: number): Tensor;
    softmax(dim: number): Tensor;
    logSoftmax(dim: number): Tensor;
  }
}

/** x Wᵀ + b, with W of shape [out, in]. */
export const linear = (x: Tensor, weight: Tensor, bias?: Tensor): Tensor =>
  run('linear', [x, weight, bias], () => wrap(N.linear(handleOf('linear', 'x', x), handleOf('linear', 'weight', weight), opt('linear', 'bias', bias))));

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}
export const conv2d = (x: Tensor, weight: Tensor, bias?: Tensor, options: Conv2dOptions = {}): Tensor =>
  run('conv2d', [x, weight, bias], () =>
    wrap(N.conv2d(handleOf('conv2d', 'x', x), handleOf('conv2d', 'weight', weight), opt('conv2d', 'bias', bias),
      pair('conv2d', 'stride', options.stride ?? 1), pair('conv2d', 'padding', options.padding ?? 0), pair('conv2d', 'dilation', options.dilation ?? 1),
      checkInt('conv2d', 'groups', options.groups ?? 1))));

export interface Pool2dOptions {
  /** Defaults to the kernel size, as in PyTorch. */
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
}
export const maxPool2d = (x: Tensor, kernel: Pair, options: Pool2dOptions & { dilation?: Pair } = {}): Tensor =>
  run('maxPool2d', [x, kernel], () =>
    wrap(N.maxPool2d(handleOf('maxPool2d', 'x', x), pair('maxPool2d', 'kernel', kernel), pair('maxPool2d', 'stride', options.stride ?? kernel),
      pair('maxPool2d', 'padding', options.padding ?? 0), pair('maxPool2d', 'dilation', options.dilation ?? 1), options.ceilMode ?? false)));
export const avgPool2d = (x: Tensor, kernel: Pair, options: Pool2dOptions & { countIncludePad?: boolean } = {}): Tensor =>
  run('avgPool2d', [x, kernel], () =>
    wrap(N.avgPool2d(handleOf('avgPool2d', 'x', x), pair('avgPool2d', 'kernel', kernel), pair('avgPool2d', 'stride', options.stride ?? kernel),
      pair('avgPool2d', 'padding', options.padding ?? 0), options.ceilMode ?? false, options.countIncludePad ?? true)));

export interface BatchNormOptions {
  weight?: Tensor;
  bias?: Tensor;
  /** Updated in place in training mode: r ← (1 − momentum)·r + momentum·batch statistic (unbiased variance). */
  runningMean?: Tensor;
  runningVar?: Tensor;
  /** Normalize with the batch's statistics (true) or the running ones (false). */
  training: boolean;
  momentum?: number;
  eps?: number;
}
/** Batch normalization over dim 1 (Ioffe & Szegedy 2015), for [B, C] and [B, C, H, W] inputs. */
export const batchNorm = (x: Tensor, options: BatchNormOptions): Tensor =>
  run('batchNorm', [x], () =>
    wrap(N.batchNorm(handleOf('batchNorm', 'x', x), opt('batchNorm', 'weight', options.weight), opt('batchNorm', 'bias', options.bias),
      opt('batchNorm', 'runningMean', options.runningMean), opt('batchNorm', 'runningVar', options.runningVar),
      options.training, options.momentum ?? 0.1, options.eps ?? 1e-5)));

/** Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1 − p); identity when not training. */
export const dropout = (x: Tensor, p: number, options: { training?: boolean; generator?: Generator } = {}): Tensor =>
  run('dropout', [x, p], () => wrap(N.dropout(handleOf('dropout', 'x', x), p, options.training ?? true, options.generator?.handle ?? null)));

export const relu = (x: Tensor): Tensor => run('relu', [x], () => wrap(N.relu(handleOf('relu', 'x', x))));
export const tanh = (x: Tensor): Tensor => run('tanh', [x], () => wrap(N.tanh(handleOf('tanh', 'x', x))));
export const sigmoid = (x: Tensor): Tensor => run('sigmoid', [x], () => wrap(N.sigmoid(handleOf('sigmoid', 'x', x))));
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor => run('gelu', [x], () => wrap(N.gelu(handleOf('gelu', 'x', x), approximate)));
/** log(1 + exp(βx))/β, linear above `threshold` for stability. */
export const softplus = (x: Tensor, beta = 1, threshold = 20): Tensor => run('softplus', [x], () => wrap(N.softplus(handleOf('softplus', 'x', x), beta, threshold)));
export const leakyRelu = (x: Tensor, negativeSlope = 0.01): Tensor => run('leakyRelu', [x], () => wrap(N.leakyRelu(handleOf('leakyRelu', 'x', x), negativeSlope)));
export const softmax = (x: Tensor, dim: number): Tensor => run('softmax', [x, dim], () => wrap(N.softmax(handleOf('softmax', 'x', x), checkInt('softmax', 'dim', dim))));
export const logSoftmax = (x: Tensor, dim: number): Tensor => run('logSoftmax', [x, dim], () => wrap(N.logSoftmax(handleOf('logSoftmax', 'x', x), checkInt('logSoftmax', 'dim', dim))));

export interface ClassificationLossOptions {
  reduction?: Reduction;
  /** Per-class weights. */
  weight?: Tensor;
  ignoreIndex?: number;
}
/** Cross-entropy between logits [B, C] and int64 class targets [B] (or class probabilities [B, C]). */
export const crossEntropy = (logits: Tensor, target: Tensor, options: ClassificationLossOptions & { labelSmoothing?: number } = {}): Tensor =>
  run('crossEntropy', [logits, target], () =>
    wrap(N.crossEntropy(handleOf('crossEntropy', 'logits', logits), handleOf('crossEntropy', 'target', target), opt('crossEntropy', 'weight', options.weight),
      reductionCode('crossEntropy', options.reduction), options.ignoreIndex ?? -100, options.labelSmoothing ?? 0)));
/** Negative log-likelihood of log-probabilities [B, C] at int64 targets [B]. */
export const nllLoss = (logProbs: Tensor, target: Tensor, options: ClassificationLossOptions = {}): Tensor =>
  run('nllLoss', [logProbs, target], () =>
    wrap(N.nllLoss(handleOf('nllLoss', 'logProbs', logProbs), handleOf('nllLoss', 'target', target), opt('nllLoss', 'weight', options.weight),
      reductionCode('nllLoss', options.reduction), options.ignoreIndex ?? -100)));
/** Mean squared error (no ½ factor, as PyTorch). */
export const mseLoss = (input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor =>
  run('mseLoss', [input, target], () => wrap(N.mseLoss(handleOf('mseLoss', 'input', input), handleOf('mseLoss', 'target', target), reductionCode('mseLoss', options.reduction))));
/** Logistic loss of logits against targets in [0, 1]. */
export const binaryCrossEntropyWithLogits = (logits: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor =>
  run('binaryCrossEntropyWithLogits', [logits, target], () =>
    wrap(N.binaryCrossEntropyWithLogits(handleOf('binaryCrossEntropyWithLogits', 'logits', logits), handleOf('binaryCrossEntropyWithLogits', 'target', target),
      reductionCode('binaryCrossEntropyWithLogits', options.reduction))));
/** Sliding blocks of a [B, C, H, W] input as columns [B, C·kh·kw, L] (im2col), as torch.nn.functional.unfold. */
export const unfold = (x: Tensor, kernel: Pair, options: { dilation?: Pair; padding?: Pair; stride?: Pair } = {}): Tensor =>
  run('unfold', [x, kernel], () =>
    wrap(N.unfold(handleOf('unfold', 'x', x), pair('unfold', 'kernel', kernel), pair('unfold', 'dilation', options.dilation ?? 1),
      pair('unfold', 'padding', options.padding ?? 0), pair('unfold', 'stride', options.stride ?? 1))));
/**
 * The sampling grid [N, H, W, 2] of affine maps θ [N, 2, 3] of normalized coordinates (x, y ∈ [−1, 1])
 * for an output of size [N, C, H, W], as torch.nn.functional.affine_grid.
 */
export const affineGrid = (theta: Tensor, size: readonly number[], options: { alignCorners?: boolean } = {}): Tensor =>
  run('affineGrid', [theta, size], () => wrap(N.affineGrid(handleOf('affineGrid', 'theta', theta), checkIntList('affineGrid', 'size', [...size]), options.alignCorners ?? false)));

export type GridSampleMode = 'bilinear' | 'nearest' | 'bicubic';
export type GridSamplePadding = 'zeros' | 'border' | 'reflection';
const GRID_MODE: Record<GridSampleMode, number> = { bilinear: 0, nearest: 1, bicubic: 2 };
const GRID_PADDING: Record<GridSamplePadding, number> = { zeros: 0, border: 1, reflection: 2 };
/** Samples x [N, C, H, W] at the grid's normalized locations [N, H', W', 2], as torch.nn.functional.grid_sample. */
export const gridSample = (x: Tensor, grid: Tensor, options: { mode?: GridSampleMode; paddingMode?: GridSamplePadding; alignCorners?: boolean } = {}): Tensor =>
  run('gridSample', [x, grid], () => {
    const mode = GRID_MODE[options.mode ?? 'bilinear'];
    const padding = GRID_PADDING[options.paddingMode ?? 'zeros'];
    if (mode === undefined) throw new TypeError(`gridSample: mode must be 'bilinear', 'nearest' or 'bicubic', got '${String(options.mode)}'`);
    if (padding === undefined) throw new TypeError(`gridSample: paddingMode must be 'zeros', 'border' or 'reflection', got '${String(options.paddingMode)}'`);
    return wrap(N.gridSample(handleOf('gridSample', 'x', x), handleOf('gridSample', 'grid', grid), mode, padding, options.alignCorners ?? false));
  });
export const oneHot = (indices: Tensor, numClasses: number): Tensor =>
  run('oneHot', [indices, numClasses], () => wrap(N.oneHot(handleOf('oneHot', 'indices', indices), checkInt('oneHot', 'numClasses', numClasses))));

const proto = Tensor.prototype;
proto.relu = function () { return relu(this); };
proto.tanh = function () { return tanh(this); };
proto.sigmoid = function () { return sigmoid(this); };
proto.gelu = function (approximate) { return gelu(this, approximate); };
proto.softplus = function (beta, threshold) { return softplus(this, beta, threshold); };
proto.leakyRelu = function (slope) { return leakyRelu(this, slope); };
proto.softmax = function (dim) { return softmax(this, dim); };
proto.logSoftmax = function (dim) { return logSoftmax(this, dim); };
