/**
 * Wide residual networks WRN-d-k (Zagoruyko & Komodakis 2016): depth d = 6n + 4, three groups of
 * n pre-activation basic blocks (BN-ReLU-conv3×3, twice) with widths 16k, 32k, 64k, strides 1, 2, 2;
 * a 1×1 convolution on the shortcut where the shape changes; then BN-ReLU, global average pool, FC.
 * Meant for users with a GPU; it builds and trains on a CPU, slowly.
 */
import * as T from '../tensor/index.js';
import { BatchNorm, Conv2d, Dropout, GlobalAvgPool, Linear, type BatchNormOptions } from './layers.js';
import { Module, Sequential } from './module.js';

class WideBasicBlock extends Module {
  private readonly bn1: BatchNorm;
  private readonly conv1: Conv2d;
  private readonly bn2: BatchNorm;
  private readonly conv2: Conv2d;
  private readonly dropout: Dropout | undefined;
  private readonly shortcut: Conv2d | undefined;
  constructor(inPlanes: number, planes: number, stride: number, g: T.Generator, bn: BatchNormOptions, dropout: number) {
    super();
    this.bn1 = this.registerModule('bn1', new BatchNorm(inPlanes, bn));
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 3, { generator: g, stride, padding: 1, bias: false, init: { scheme: 'kaiming-normal' } }));
    this.bn2 = this.registerModule('bn2', new BatchNorm(planes, bn));
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { generator: g, padding: 1, bias: false, init: { scheme: 'kaiming-normal' } }));
    if (dropout > 0) this.dropout = this.registerModule('dropout', new Dropout(dropout, g));
    if (stride !== 1 || inPlanes !== planes) {
      this.shortcut = this.registerModule('shortcut', new Conv2d(inPlanes, planes, 1, { generator: g, stride, bias: false, init: { scheme: 'kaiming-normal' } }));
    }
  }
  forward(x: T.Tensor): T.Tensor {
    const o = this.bn1.forward(x).relu();
    let h = this.conv1.forward(o);
    if (this.dropout) h = this.dropout.forward(h);
    h = this.conv2.forward(this.bn2.forward(h).relu());
    return h.add(this.shortcut ? this.shortcut.forward(o) : x);
  }
}

export function wideResNet(depth: number, widen: number, inChannels: number, numClasses: number, g: T.Generator, bn: BatchNormOptions, dropout = 0): Sequential {
  if ((depth - 4) % 6 !== 0 || depth < 10) throw new Error(`wrn: depth must be 6n + 4 with n ≥ 1 (10, 16, 22, 28, …), got ${depth}`);
  if (!Number.isInteger(widen) || widen < 1) throw new Error(`wrn: the widening factor must be a positive integer, got ${widen}`);
  const n = (depth - 4) / 6;
  const widths = [16, 16 * widen, 32 * widen, 64 * widen];
  const layers: Module[] = [new Conv2d(inChannels, widths[0]!, 3, { generator: g, padding: 1, bias: false, init: { scheme: 'kaiming-normal' } })];
  let inPlanes = widths[0]!;
  for (let group = 0; group < 3; group++) {
    for (let i = 0; i < n; i++) {
      layers.push(new WideBasicBlock(inPlanes, widths[group + 1]!, i === 0 && group > 0 ? 2 : 1, g, bn, dropout));
      inPlanes = widths[group + 1]!;
    }
  }
  layers.push(new BatchNorm(inPlanes, bn), new ReLULayer(), new GlobalAvgPool(), new Linear(inPlanes, numClasses, { generator: g }));
  return new Sequential(layers);
}

class ReLULayer extends Module {
  forward(x: T.Tensor): T.Tensor {
    return x.relu();
  }
}
