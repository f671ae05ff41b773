/** Studies: the study file, keyed trials, the store, the runner and results. Reading results needs no addon. */
export * from './schema.js';
export * from './trials.js';
export * from './store.js';
export * from './records.js';
export * from './store-url.js';
export * from './store-factory.js';
export * from './artifacts.js';
export * from './results.js';
export * from './loss-levels.js';
export * from './runner.js';
export * from './devices.js';
export * from './builtin/index.js';
export * from './liveness.js';
