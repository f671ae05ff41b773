/** Optimizers and learning-rate schedules. */
export * from './optimizer.js';
export * from './schedule.js';
