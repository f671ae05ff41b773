/**
 * sgdlab as a library. Each layer is a namespace; `sgdlab/tensor` imports the tensor layer alone.
 *
 *   import { T, train } from 'sgdlab';
 */
export * as T from './tensor/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export * as train from './train/index.js';
