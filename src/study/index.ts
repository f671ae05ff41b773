/** Studies: the study file, its expansion into keyed trials, and the store. (The runner and CLI come next.) */
export * from './schema.js';
export * from './trials.js';
export * from './store.js';
export * from './sqlite-store.js';
