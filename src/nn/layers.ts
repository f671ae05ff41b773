/**
 * Layers: Linear, Conv2d, BatchNorm (with ghost batches), Dropout, pooling, activations, Flatten.
 * Shapes and semantics as torch.nn; parameter and buffer names as PyTorch's (weight, bias,
 * running_mean, running_var, num_batches_tracked).
 */
import * as T from '../tensor/index.js';
import { initBias, initWeight, type InitSpec } from './init.js';
import { Module } from './module.js';

export interface LayerInit {
  generator: T.Generator;
  init?: InitSpec;
}
const DEFAULT_INIT: InitSpec = { scheme: 'default' };

/** y = x Wᵀ + b, W of shape [out, in]. */
export class Linear extends Module {
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LayerInit & { bias?: boolean }) {
    super();
    const spec = options.init ?? DEFAULT_INIT;
    const weight = this.registerParameter('weight', T.empty([outFeatures, inFeatures]));
    initWeight(weight, spec, options.generator);
    if (options.bias ?? true) initBias(this.registerParameter('bias', T.empty([outFeatures])), weight.shape, spec, options.generator);
  }
  get weight(): T.Tensor {
    return this.parameter('weight');
  }
  get bias(): T.Tensor | undefined {
    return this.optionalParameter('bias');
  }
  forward(x: T.Tensor): T.Tensor {
    return T.linear(x, this.weight, this.bias);
  }
  override describe(): string {
    return `Linear(${this.inFeatures} → ${this.outFeatures}${this.bias ? '' : ', no bias'})`;
  }
}

export interface Conv2dOptions extends LayerInit {
  stride?: number;
  /** A number, or 'same' for stride-1 convolutions that keep the spatial size. */
  padding?: number | 'same';
  bias?: boolean;
}
export class Conv2d extends Module {
  readonly stride: number;
  readonly padding: number;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, options: Conv2dOptions) {
    super();
    this.stride = options.stride ?? 1;
    if (options.padding === 'same') {
      if (kernelSize % 2 === 0 || this.stride !== 1) throw new Error(`Conv2d: padding 'same' needs an odd kernel and stride 1, got kernel ${kernelSize}, stride ${this.stride}`);
      this.padding = (kernelSize - 1) / 2;
    } else this.padding = options.padding ?? 0;
    const spec = options.init ?? DEFAULT_INIT;
    const weight = this.registerParameter('weight', T.empty([outChannels, inChannels, kernelSize, kernelSize]));
    initWeight(weight, spec, options.generator);
    if (options.bias ?? true) initBias(this.registerParameter('bias', T.empty([outChannels])), weight.shape, spec, options.generator);
  }
  get weight(): T.Tensor {
    return this.parameter('weight');
  }
  get bias(): T.Tensor | undefined {
    return this.optionalParameter('bias');
  }
  forward(x: T.Tensor): T.Tensor {
    return T.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
  override describe(): string {
    return `Conv2d(${this.inChannels} → ${this.outChannels}, ${this.kernelSize}×${this.kernelSize}, stride ${this.stride}, padding ${this.padding})`;
  }
}

export interface BatchNormOptions {
  eps?: number;
  /**
   * Weight of the newest batch in the running statistics (PyTorch's momentum, default 0.1); null: the
   * cumulative average of every batch since the statistics were reset (PyTorch's momentum=None).
   */
  momentum?: number | null;
  /**
   * Ghost batch norm (Hoffer et al. 2017): in training, normalize each consecutive chunk of this
   * many examples with its own statistics, and update the running statistics once per chunk.
   * Undefined: the whole batch is one chunk.
   */
  ghostBatchSize?: number;
}

/**
 * What batch norm normalizes by outside training: 'running', the running statistics (PyTorch's eval
 * mode); 'batch', the mean and biased variance of the batch being evaluated, as in training, with the
 * running statistics neither read nor updated (Keras 1's BatchNormalization(mode=2), which "uses
 * per-batch statistics to normalize the data during both testing and training": the convention of
 * Keskar et al. 2017's measurements). Set for a measurement by inBatchNormConvention.
 */
export type BatchNormConvention = 'running' | 'batch';
export const BATCH_NORM_CONVENTIONS: readonly BatchNormConvention[] = ['running', 'batch'];

/** Batch normalization over the channel dimension 1 (Ioffe & Szegedy 2015), for [B, C] or [B, C, H, W]. */
export class BatchNorm extends Module {
  /** See BatchNormConvention; training mode always normalizes by the batch. */
  evaluationStatistics: BatchNormConvention = 'running';
  readonly eps: number;
  /** See BatchNormOptions.momentum; recomputeBatchNormStatistics switches it to null while it runs. */
  momentum: number | null;
  ghostBatchSize: number | undefined;
  constructor(readonly numFeatures: number, options: BatchNormOptions = {}) {
    super();
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.ghostBatchSize = options.ghostBatchSize;
    if (this.ghostBatchSize !== undefined && !(Number.isInteger(this.ghostBatchSize) && this.ghostBatchSize >= 2)) {
      throw new Error(`BatchNorm: ghostBatchSize must be an integer ≥ 2, got ${this.ghostBatchSize}`);
    }
    this.registerParameter('weight', T.ones([numFeatures]));
    this.registerParameter('bias', T.zeros([numFeatures]));
    this.registerBuffer('running_mean', T.zeros([numFeatures]));
    this.registerBuffer('running_var', T.ones([numFeatures]));
    this.registerBuffer('num_batches_tracked', T.zeros([], { dtype: 'int64' }));
  }
  get weight(): T.Tensor {
    return this.parameter('weight');
  }
  get bias(): T.Tensor {
    return this.parameter('bias');
  }
  get runningMean(): T.Tensor {
    return this.buffer('running_mean');
  }
  get runningVar(): T.Tensor {
    return this.buffer('running_var');
  }
  get numBatchesTracked(): T.Tensor {
    return this.buffer('num_batches_tracked');
  }
  forward(x: T.Tensor): T.Tensor {
    // No running statistics passed: a 'batch' evaluation cannot touch them.
    if (!this.training && this.evaluationStatistics === 'batch') return T.batchNorm(x, { weight: this.weight, bias: this.bias, training: true, eps: this.eps });
    const normalize = (chunk: T.Tensor) => {
      let momentum = this.momentum ?? 0;
      if (this.training) {
        T.noGrad(() => this.numBatchesTracked.add_(1));
        // Cumulative average: the k-th batch since the reset gets weight 1/k (as PyTorch with momentum=None).
        if (this.momentum === null) momentum = 1 / this.numBatchesTracked.item();
      }
      return T.batchNorm(chunk, {
        weight: this.weight, bias: this.bias, runningMean: this.runningMean, runningVar: this.runningVar,
        training: this.training, momentum, eps: this.eps,
      });
    };
    const ghost = this.ghostBatchSize;
    if (!this.training || ghost === undefined || x.shape[0]! <= ghost) return normalize(x);
    return T.cat(x.split(ghost, 0).map(normalize), 0);
  }
  override describe(): string {
    return `BatchNorm(${this.numFeatures}${this.ghostBatchSize ? `, ghost batches of ${this.ghostBatchSize}` : ''})`;
  }
}

/** Inverted dropout with its own seeded generator. */
export class Dropout extends Module {
  constructor(readonly p: number, private readonly generator: T.Generator) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`);
  }
  forward(x: T.Tensor): T.Tensor {
    return T.dropout(x, this.p, { training: this.training, generator: this.generator });
  }
  override describe(): string {
    return `Dropout(p=${this.p})`;
  }
}

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: number, readonly stride = kernelSize, readonly padding = 0) {
    super();
  }
  forward(x: T.Tensor): T.Tensor {
    return T.maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding });
  }
  override describe(): string {
    return `MaxPool2d(${this.kernelSize}, stride ${this.stride}, padding ${this.padding})`;
  }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: number, readonly stride = kernelSize) {
    super();
  }
  forward(x: T.Tensor): T.Tensor {
    return T.avgPool2d(x, this.kernelSize, { stride: this.stride });
  }
}

/** Mean over the spatial dimensions: [B, C, H, W] → [B, C]. */
export class GlobalAvgPool extends Module {
  forward(x: T.Tensor): T.Tensor {
    return x.mean([2, 3]);
  }
}

export class Flatten extends Module {
  forward(x: T.Tensor): T.Tensor {
    return x.flatten(1);
  }
}

import { ACTIVATIONS, type ActivationName } from './names.js';
export { ACTIVATIONS, type ActivationName };

export class Activation extends Module {
  constructor(readonly kind: ActivationName) {
    super();
    if (!ACTIVATIONS.includes(kind)) throw new Error(`unknown activation '${kind}'; expected one of ${ACTIVATIONS.join(', ')}`);
  }
  forward(x: T.Tensor): T.Tensor {
    switch (this.kind) {
      case 'relu': return x.relu();
      case 'tanh': return x.tanh();
      case 'sigmoid': return x.sigmoid();
      case 'gelu': return x.gelu();
      case 'softplus': return x.softplus();
      case 'identity': return x.view(x.shape);
    }
  }
  override describe(): string {
    return this.kind;
  }
}
