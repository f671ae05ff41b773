/**
 * Robustness of a trained model: its accuracy and loss on clean inputs and on adversarial ones (FGSM or
 * PGD, train/adversarial.ts) for each ε, over a dataset in chunks. The model is evaluated in evaluation
 * mode; the attack runs in the mode its spec states (evaluation by default). The model is left as it was.
 */
import * as T from '../tensor/index.js';
import type { TensorDataset } from '../data/index.js';
import type { LossName, Module } from '../nn/index.js';
import { adversarialExamples, evaluate, type AttackSpec, type Evaluation, type InputSpace } from '../train/index.js';

export interface RobustnessPoint {
  epsilon: number;
  adversarial: Evaluation;
}

export interface Robustness {
  clean: Evaluation;
  points: RobustnessPoint[];
  examples: number;
  seconds: number;
}

export function robustness(model: Module, data: TensorDataset, loss: LossName, attack: Omit<AttackSpec, 'epsilon'>, epsilons: readonly number[], space: InputSpace, options: { batchSize?: number; limit?: number; seed?: number } = {}): Robustness {
  const started = performance.now();
  const chunk = { batchSize: options.batchSize ?? 1000, limit: options.limit };
  const clean = evaluate(model, data, loss, chunk);
  const points = epsilons.map((epsilon) => {
    // Each ε draws its random starts from the same seed.
    const g = new T.Generator(options.seed ?? 0);
    return { epsilon, adversarial: evaluate(model, data, loss, { ...chunk, inputs: (x, y) => adversarialExamples(model, loss, x, y, { ...attack, epsilon }, space, g) }) };
  });
  return { clean, points, examples: clean.examples, seconds: (performance.now() - started) / 1000 };
}
