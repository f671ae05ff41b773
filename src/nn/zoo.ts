/**
 * The model zoo: every model sgdlab trains, built by name from a JSON-serializable spec, so that a
 * checkpoint's sidecar can rebuild its model. Unknown names and bad fields are rejected with the
 * list of what is allowed.
 *
 *   buildModel({ name: 'keskar-f1' }, { inputShape: [1, 28, 28], outputs: 10 }, new Generator(0))
 */
import * as T from '../tensor/index.js';
import { ACTIVATIONS, Activation, BatchNorm, Conv2d, Dropout, Flatten, Linear, MaxPool2d, type ActivationName, type BatchNormOptions } from './layers.js';
import { INIT_NAMES, type InitSpec } from './init.js';
import { Module, Sequential } from './module.js';
import { wideResNet } from './wrn.js';

import { MODEL_NAMES, type LossName, type ModelName } from './names.js';
export { MODEL_NAMES, type LossName, type ModelName };

export interface ModelSpec {
  name: ModelName;
  /** mlp, deep-linear: hidden widths. */
  widths?: number[];
  /** mlp: activation between layers. */
  activation?: ActivationName;
  /** mlp: batch norm after each hidden linear layer. */
  batchNorm?: boolean;
  /** Ghost batch size for every batch-norm layer (Hoffer et al. 2017). */
  ghostBatchSize?: number;
  /** mlp, keskar-c1, wrn: dropout probability. */
  dropout?: number;
  /** linear-regression, logistic-regression, deep-linear, mlp: whether linear layers have a bias. */
  bias?: boolean;
  /** wrn: depth (6n + 4) and widening factor. */
  depth?: number;
  widen?: number;
  /** Weight initialization of linear and convolution layers (default: PyTorch's). */
  init?: InitSpec;
}

/** What the data says the model must accept and produce. */
export interface ModelIO {
  /** Shape of one example, e.g. [1, 28, 28] or [20]. */
  inputShape: readonly number[];
  /** Classes for classification, or output dimension for regression. */
  outputs: number;
}

export interface ModelInfo {
  name: ModelName;
  description: string;
  /** The loss the model is trained with unless the config says otherwise. */
  defaultLoss: LossName;
  build(spec: ModelSpec, io: ModelIO, g: T.Generator): Module;
}

const flatSize = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const bnOptions = (spec: ModelSpec): BatchNormOptions => ({ ghostBatchSize: spec.ghostBatchSize });

function imageShape(name: string, io: ModelIO): [number, number, number] {
  if (io.inputShape.length !== 3) throw new Error(`${name}: needs image inputs [channels, height, width], got [${io.inputShape.join(', ')}]`);
  return io.inputShape as [number, number, number];
}

function mlp(spec: ModelSpec, io: ModelIO, g: T.Generator): Sequential {
  const widths = spec.widths ?? [512, 512];
  const layers: Module[] = [new Flatten()];
  let inFeatures = flatSize(io.inputShape);
  for (const w of widths) {
    layers.push(new Linear(inFeatures, w, { generator: g, init: spec.init, bias: spec.bias ?? true }));
    if (spec.batchNorm) layers.push(new BatchNorm(w, bnOptions(spec)));
    layers.push(new Activation(spec.activation ?? 'relu'));
    if (spec.dropout) layers.push(new Dropout(spec.dropout, g));
    inFeatures = w;
  }
  layers.push(new Linear(inFeatures, io.outputs, { generator: g, init: spec.init, bias: spec.bias ?? true }));
  return new Sequential(layers);
}

/** Keskar et al. 2017, network C1 (CIFAR-10 shallow convnet), for any image size. */
function keskarC1(spec: ModelSpec, io: ModelIO, g: T.Generator): Sequential {
  const [c, h, w] = imageShape('keskar-c1', io);
  const bn = bnOptions(spec);
  const p = spec.dropout ?? 0.5;
  // 'same' convolutions; 3×3/2 max pools with padding 1 halve the size (rounding up).
  const pooled = (n: number) => Math.floor((n + 2 - 3) / 2) + 1;
  const side = (n: number) => pooled(pooled(n));
  return new Sequential([
    new Conv2d(c, 64, 5, { generator: g, padding: 'same', init: spec.init }), new BatchNorm(64, bn), new Activation('relu'), new MaxPool2d(3, 2, 1),
    new Conv2d(64, 64, 5, { generator: g, padding: 'same', init: spec.init }), new BatchNorm(64, bn), new Activation('relu'), new MaxPool2d(3, 2, 1),
    new Flatten(),
    new Linear(64 * side(h) * side(w), 384, { generator: g, init: spec.init }), new BatchNorm(384, bn), new Activation('relu'), new Dropout(p, g),
    new Linear(384, 192, { generator: g, init: spec.init }), new BatchNorm(192, bn), new Activation('relu'), new Dropout(p, g),
    new Linear(192, io.outputs, { generator: g, init: spec.init }),
  ]);
}

/** LeCun et al. 1998 with ReLU and max pooling; 28×28 inputs are padded to 32×32 by the first conv. */
function lenet5(spec: ModelSpec, io: ModelIO, g: T.Generator): Sequential {
  const [c, h, w] = imageShape('lenet5', io);
  const pad = h === 28 && w === 28 ? 2 : 0;
  const side = (n: number) => Math.floor((Math.floor((n + 2 * pad - 4) / 2) - 4) / 2);
  return new Sequential([
    new Conv2d(c, 6, 5, { generator: g, padding: pad, init: spec.init }), new Activation(spec.activation ?? 'relu'), new MaxPool2d(2),
    new Conv2d(6, 16, 5, { generator: g, init: spec.init }), new Activation(spec.activation ?? 'relu'), new MaxPool2d(2),
    new Flatten(),
    new Linear(16 * side(h) * side(w), 120, { generator: g, init: spec.init }), new Activation(spec.activation ?? 'relu'),
    new Linear(120, 84, { generator: g, init: spec.init }), new Activation(spec.activation ?? 'relu'),
    new Linear(84, io.outputs, { generator: g, init: spec.init }),
  ]);
}

export const MODELS: Record<ModelName, ModelInfo> = {
  mlp: {
    name: 'mlp',
    description: 'multilayer perceptron: widths, activation, optional batch norm and dropout',
    defaultLoss: 'cross-entropy',
    build: mlp,
  },
  'keskar-f1': {
    name: 'keskar-f1',
    description: 'Keskar et al. F1: 784 → 5 × [Linear 512 → BatchNorm → ReLU] → 10',
    defaultLoss: 'cross-entropy',
    build: (spec, io, g) => mlp({ ...spec, widths: [512, 512, 512, 512, 512], batchNorm: true, activation: 'relu' }, io, g),
  },
  'keskar-c1': { name: 'keskar-c1', description: 'Keskar et al. C1: two 5×5 conv layers with BN and 3×3/2 pooling, FC 384 → 192 with BN and dropout 0.5', defaultLoss: 'cross-entropy', build: keskarC1 },
  lenet5: { name: 'lenet5', description: 'LeNet-5 (ReLU, max pooling)', defaultLoss: 'cross-entropy', build: lenet5 },
  'linear-regression': {
    name: 'linear-regression',
    description: 'ŷ = wᵀx (no bias unless bias: true), trained with ½·squared error',
    defaultLoss: 'half-mse',
    build: (spec, io, g) => new Sequential([new Flatten(), new Linear(flatSize(io.inputShape), io.outputs, { generator: g, bias: spec.bias ?? false, init: spec.init ?? { scheme: 'zeros' } })]),
  },
  'logistic-regression': {
    name: 'logistic-regression',
    description: 'softmax regression: one linear layer on the flattened input',
    defaultLoss: 'cross-entropy',
    build: (spec, io, g) => new Sequential([new Flatten(), new Linear(flatSize(io.inputShape), io.outputs, { generator: g, bias: spec.bias ?? true, init: spec.init })]),
  },
  'deep-linear': {
    name: 'deep-linear',
    description: 'deep linear network: linear layers of the given widths, no activation, no bias',
    defaultLoss: 'half-mse',
    build: (spec, io, g) => {
      const sizes = [flatSize(io.inputShape), ...(spec.widths ?? [16, 16]), io.outputs];
      const layers: Module[] = [new Flatten()];
      for (let i = 0; i + 1 < sizes.length; i++) layers.push(new Linear(sizes[i]!, sizes[i + 1]!, { generator: g, bias: spec.bias ?? false, init: spec.init }));
      return new Sequential(layers);
    },
  },
  wrn: {
    name: 'wrn',
    description: 'Wide-ResNet-d-k (depth 6n + 4, widening k), pre-activation, for GPUs',
    defaultLoss: 'cross-entropy',
    build: (spec, io, g) => wideResNet(spec.depth ?? 16, spec.widen ?? 4, imageShape('wrn', io)[0], io.outputs, g, bnOptions(spec), spec.dropout ?? 0),
  },
};

export function modelInfo(name: string): ModelInfo {
  const info = MODELS[name as ModelName];
  if (!info) throw new Error(`unknown model '${name}'; known models: ${MODEL_NAMES.join(', ')}`);
  return info;
}

/** Builds a model with weights drawn from the generator. */
export function buildModel(spec: ModelSpec, io: ModelIO, g: T.Generator): Module {
  const info = modelInfo(spec.name);
  if (spec.activation !== undefined && !ACTIVATIONS.includes(spec.activation)) {
    throw new Error(`model.activation: '${spec.activation}' is not an activation; expected one of ${ACTIVATIONS.join(', ')}`);
  }
  if (spec.init !== undefined && !INIT_NAMES.includes(spec.init.scheme)) {
    throw new Error(`model.init.scheme: '${spec.init.scheme}' is not an initialization; expected one of ${INIT_NAMES.join(', ')}`);
  }
  return info.build(spec, io, g);
}
