/** Datasets: loading, preparation, augmentation and synthetic data. */
export * from './dataset.js';
export * from './idx.js';
export * from './images.js';
export * from './synthetic.js';
export * from './augment.js';
export * from './affine.js';
export * from './registry.js';
