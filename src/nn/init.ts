/**
 * Weight initializations, drawn from an explicit generator so that a seed fixes the model.
 * Formulas as torch.nn.init (fan_in = in_features·kernel area, fan_out = out_features·kernel area):
 *   default (PyTorch's Linear/Conv2d): weight ~ U(−1/√fan_in, 1/√fan_in), i.e. kaiming_uniform with a = √5;
 *   xavier-uniform: U(−a, a), a = gain·√(6/(fan_in + fan_out))  (Glorot & Bengio 2010);
 *   xavier-normal:  N(0, gain²·2/(fan_in + fan_out));
 *   kaiming-uniform: U(−b, b), b = gain·√(3/fan_in), gain = √2 for ReLU  (He et al. 2015);
 *   kaiming-normal:  N(0, gain²/fan_in);
 *   normal: N(0, std²).
 */
import * as T from '../tensor/index.js';

import { INIT_NAMES, type InitName } from './names.js';
export { INIT_NAMES, type InitName };

export interface InitSpec {
  scheme: InitName;
  /** Standard deviation for 'normal'. */
  std?: number;
  /** Gain for the xavier and kaiming schemes (default 1 for xavier, √2 for kaiming, i.e. ReLU). */
  gain?: number;
}

export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`fans: a weight needs at least 2 dimensions, got [${shape.join(', ')}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/** Fills a weight in place according to the scheme. */
export function initWeight(w: T.Tensor, spec: InitSpec, g: T.Generator): void {
  const { fanIn, fanOut } = fans(w.shape);
  T.noGrad(() => {
    switch (spec.scheme) {
      case 'default': {
        const bound = 1 / Math.sqrt(fanIn);
        w.uniform_(-bound, bound, g);
        return;
      }
      case 'xavier-uniform': {
        const a = (spec.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
        w.uniform_(-a, a, g);
        return;
      }
      case 'xavier-normal':
        w.normal_(0, (spec.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), g);
        return;
      case 'kaiming-uniform': {
        const b = (spec.gain ?? Math.SQRT2) * Math.sqrt(3 / fanIn);
        w.uniform_(-b, b, g);
        return;
      }
      case 'kaiming-normal':
        w.normal_(0, (spec.gain ?? Math.SQRT2) / Math.sqrt(fanIn), g);
        return;
      case 'normal':
        w.normal_(0, spec.std ?? 0.01, g);
        return;
      case 'zeros':
        w.zero_();
        return;
    }
  });
}

/** PyTorch's bias initialization for Linear and Conv2d: U(−1/√fan_in, 1/√fan_in); zeros for other schemes. */
export function initBias(b: T.Tensor, weightShape: readonly number[], spec: InitSpec, g: T.Generator): void {
  T.noGrad(() => {
    if (spec.scheme === 'default') {
      const bound = 1 / Math.sqrt(fans(weightShape).fanIn);
      b.uniform_(-bound, bound, g);
    } else b.zero_();
  });
}
