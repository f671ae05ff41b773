/**
 * sgdlab's tensor layer: a typed PyTorch-like API over libtorch.
 *
 *   import * as T from 'sgdlab/tensor';
 *   const w = T.randn([784, 10], { generator: new T.Generator(0) }).requiresGrad_();
 *   const loss = T.tidy(() => T.crossEntropy(x.matmul(w), y));
 *   loss.backward();
 *
 * Every op exists both as a function (T.add(a, b)) and, where PyTorch has one, as a method (a.add(b)).
 */
export { Tensor, type Device, type NestedArray } from './tensor.js';
export { TensorOpError } from './errors.js';
export { DTYPES, isFloating, itemSize, type AnyTypedArray, type DType } from './dtype.js';
export * from './creation.js';
export * from './generator.js';
export * from './views.js';
export * from './elementwise.js';
export * from './reductions.js';
export * from './linalg.js';
export * from './inplace.js';
export * from './lists.js';
export * from './nn.js';
export * from './autograd.js';
export * from './memory.js';
export * from './runtime.js';
export { formatTensor } from './format.js';
