/** Training losses and accuracy. */
import * as T from '../tensor/index.js';
import type { LossName } from '../nn/index.js';

/** The loss over the batch (mean by default). half-mse is ½·(ŷ − y)² averaged over examples and outputs. */
export function lossValue(name: LossName, output: T.Tensor, target: T.Tensor, reduction: T.Reduction = 'mean'): T.Tensor {
  switch (name) {
    case 'cross-entropy':
      return T.crossEntropy(output, target, { reduction });
    case 'mse':
      return T.mseLoss(output, target.reshape(output.shape), { reduction });
    case 'half-mse':
      return T.mseLoss(output, target.reshape(output.shape), { reduction }).mul(0.5);
  }
}

/**
 * The loss of every example, [B]: for squared losses averaged over the outputs, so that their
 * mean is the training loss (`lossValue` with 'mean') and their sum divided by B is too.
 */
export function perExampleLoss(name: LossName, output: T.Tensor, target: T.Tensor): T.Tensor {
  const l = lossValue(name, output, target, 'none');
  return l.rank > 1 ? l.flatten(1).mean(1) : l;
}

/** Number of correct predictions (argmax) as a 0-dim tensor. */
export function correctCount(output: T.Tensor, target: T.Tensor): T.Tensor {
  return output.argmax(1).eq(target).sum();
}
