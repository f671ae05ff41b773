/**
 * sgdlab as a library. Each layer is a namespace; `sgdlab/tensor` imports the tensor layer alone, and
 * `sgdlab/study` the studies and their stores alone: importing this index loads libtorch (the tensor layer
 * loads the addon as it is imported), which a program that only reads results need not do.
 *
 *   import { T, train, measure, study } from 'sgdlab';
 *
 * Runnable scripts that use it this way are in examples/ (README, "Examples").
 */
export * as T from './tensor/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export * as train from './train/index.js';
export * as measure from './measure/index.js';
export * as study from './study/index.js';
