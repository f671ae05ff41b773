/**
 * In-place updates, as optimizers use them (PyTorch's add_, mul_, addcmul_, …). Each returns the
 * tensor it changed. On a leaf that requires grad they must run inside noGrad(), as in PyTorch.
 */
import type { Generator } from './generator.js';
import { N, Tensor, handleOf, isScalarOperand, operand, run } from './tensor.js';

type Operand = Tensor | number;

declare module './tensor.js' {
  interface Tensor {
    /** this += alpha·other */
    add_(other: Operand, alpha?: number): this;
    /** this −= alpha·other */
    sub_(other: Operand, alpha?: number): this;
    mul_(other: Operand): this;
    div_(other: Operand): this;
    /** this += value·a·b */
    addcmul_(a: Tensor, b: Tensor, value?: number): this;
    /** this += value·a/b */
    addcdiv_(a: Tensor, b: Tensor, value?: number): this;
    copy_(source: Tensor): this;
    zero_(): this;
    fill_(value: number | boolean): this;
    clamp_(min?: number, max?: number): this;
    sqrt_(): this;
    uniform_(low?: number, high?: number, generator?: Generator): this;
    normal_(mean?: number, std?: number, generator?: Generator): this;
    bernoulli_(p?: number, generator?: Generator): this;
  }
}

const proto = Tensor.prototype;
proto.add_ = function (other, alpha) {
  run('add_', [this, other], () => N.add_(this.handle, operand('add_', 'other', other), alpha ?? null, isScalarOperand(other)));
  return this;
};
proto.sub_ = function (other, alpha) {
  run('sub_', [this, other], () => N.sub_(this.handle, operand('sub_', 'other', other), alpha ?? null, isScalarOperand(other)));
  return this;
};
proto.mul_ = function (other) {
  run('mul_', [this, other], () => N.mul_(this.handle, operand('mul_', 'other', other), isScalarOperand(other)));
  return this;
};
proto.div_ = function (other) {
  run('div_', [this, other], () => N.div_(this.handle, operand('div_', 'other', other), isScalarOperand(other)));
  return this;
};
proto.addcmul_ = function (a, b, value = 1) {
  run('addcmul_', [this, a, b], () => N.addcmul_(this.handle, handleOf('addcmul_', 'a', a), handleOf('addcmul_', 'b', b), value));
  return this;
};
proto.addcdiv_ = function (a, b, value = 1) {
  run('addcdiv_', [this, a, b], () => N.addcdiv_(this.handle, handleOf('addcdiv_', 'a', a), handleOf('addcdiv_', 'b', b), value));
  return this;
};
proto.copy_ = function (source) {
  run('copy_', [this, source], () => N.copy_(this.handle, handleOf('copy_', 'source', source)));
  return this;
};
proto.zero_ = function () {
  run('zero_', [this], () => N.zero_(this.handle));
  return this;
};
proto.fill_ = function (value) {
  run('fill_', [this, value], () => N.fill_(this.handle, value));
  return this;
};
proto.clamp_ = function (min, max) {
  run('clamp_', [this, min, max], () => N.clamp_(this.handle, min ?? null, max ?? null));
  return this;
};
proto.sqrt_ = function () {
  run('sqrt_', [this], () => N.sqrt_(this.handle));
  return this;
};
proto.uniform_ = function (low = 0, high = 1, generator) {
  run('uniform_', [this, low, high], () => N.uniform_(this.handle, low, high, generator?.handle ?? null));
  return this;
};
proto.normal_ = function (mean = 0, std = 1, generator) {
  run('normal_', [this, mean, std], () => N.normal_(this.handle, mean, std, generator?.handle ?? null));
  return this;
};
proto.bernoulli_ = function (p = 0.5, generator) {
  run('bernoulli_', [this, p], () => N.bernoulli_(this.handle, p, generator?.handle ?? null));
  return this;
};
