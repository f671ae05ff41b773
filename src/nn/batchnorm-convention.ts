/**
 * Evaluating a model under a batch-norm convention (layers.ts, BatchNormConvention): evaluation mode
 * (dropout off), with every batch-norm layer normalizing by its running statistics or by the
 * statistics of the evaluated batch. Each layer's convention and every module's mode are restored
 * afterwards; a 'batch' evaluation leaves the running statistics as they were.
 */
import { BATCH_NORM_CONVENTIONS, BatchNorm, type BatchNormConvention } from './layers.js';
import { inEvaluationMode, type Module } from './module.js';

export function inBatchNormConvention<R>(model: Module, convention: BatchNormConvention, fn: () => R): R {
  if (!BATCH_NORM_CONVENTIONS.includes(convention)) throw new RangeError(`batchNorm must be one of ${BATCH_NORM_CONVENTIONS.join(', ')}, got ${String(convention)}`);
  const layers = model.modules().filter((m): m is BatchNorm => m instanceof BatchNorm);
  const before = layers.map((l) => l.evaluationStatistics);
  for (const l of layers) l.evaluationStatistics = convention;
  try {
    return inEvaluationMode(model, fn);
  } finally {
    layers.forEach((l, i) => (l.evaluationStatistics = before[i]!));
  }
}
