/** Neural-network modules, initializations and the model zoo. */
export * from './module.js';
export * from './layers.js';
export * from './init.js';
export * from './zoo.js';
export * from './safetensors.js';
export * from './batchnorm-statistics.js';
export * from './batchnorm-convention.js';
