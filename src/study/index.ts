/** Studies: the study file, and its expansion into keyed trials. (The store, runner and CLI come next.) */
export * from './schema.js';
export * from './trials.js';
