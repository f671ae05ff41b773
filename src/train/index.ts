/** Training: configuration, samplers, gradients, the trainer, evaluation and checkpoints. */
export * from './config.js';
export * from './device.js';
export * from './sampler.js';
export * from './loss.js';
export * from './evaluate.js';
export * from './gradient.js';
export * from './checkpoint.js';
export * from './checkpoint-levels.js';
export * from './plateau.js';
export * from './record.js';
export * from './trainer.js';
export * from './paused-run.js';
export * from './adversarial.js';
export * from './batch-schedule.js';
export * from './snapshot.js';
