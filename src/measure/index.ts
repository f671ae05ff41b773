/** Measurements: the objective over a dataset, Hessian spectrum and trace, parameter-space vectors. */
export * from './vectors.js';
export * from './objective.js';
export * from './hessian.js';
export * from './noise.js';
export * from './lbfgsb.js';
export * from './lbfgsb-native.js';
export * from './sharpness.js';
export * from './landscape.js';
export * from './fluctuations.js';
export * from './along-training.js';
export * from './along-training-packed.js';
export * from './directions.js';
export * from './noise-scale.js';
export * from './noise-covariance.js';
export * from './robustness.js';
