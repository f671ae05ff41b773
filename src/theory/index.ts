/** Closed forms the reports overlay on measurements. Plain JavaScript: no addon needed. */
export * from './linalg.js';
export * from './ziyin.js';
export * from './lyapunov.js';
export * from './noise.js';
export * from './regularized.js';
export * from './statistics.js';
export * from './qian-klabjan.js';
