/**
 * Robustness of a trained model: its accuracy and loss on clean inputs and on adversarial ones (FGSM or
 * PGD, train/adversarial.ts) for each ε, over a dataset in chunks. The model is evaluated in evaluation
 * mode; the attack runs in the mode its spec states (evaluation by default). The model is left as it was.
 */
import * as T from '../tensor/index.js';
import type { TensorDataset } from '../data/index.js';
import type { LossName, Module } from '../nn/index.js';
import { adversarialExamples, correctCount, evaluate, perExampleLoss, type AttackSpec, type Evaluation, type InputSpace } from '../train/index.js';

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
  const n = Math.min(options.limit ?? Infinity, data.x.shape[0]!);
  const chunk = options.batchSize ?? 1000;
  const clean = evaluate(model, data, loss, { batchSize: chunk, limit: n });
  const wasTraining = model.training;
  try {
    const points = epsilons.map((epsilon) => {
      const g = new T.Generator(options.seed ?? 0);
      let lossSum = 0;
      let correct = 0;
      for (let start = 0; start < n; start += chunk) {
        T.tidy(() => {
          const count = Math.min(chunk, n - start);
          const x = data.x.narrow(0, start, count);
          const y = data.y.narrow(0, start, count);
          const adv = adversarialExamples(model, loss, x, y, { ...attack, epsilon }, space, g);
          model.eval();
          T.noGrad(() => {
            const out = model.forward(adv);
            lossSum += perExampleLoss(loss, out, y).sum().item();
            if (data.numClasses !== undefined) correct += correctCount(out, y).item();
          });
        });
      }
      return { epsilon, adversarial: { loss: lossSum / n, accuracy: data.numClasses !== undefined ? correct / n : null, examples: n } };
    });
    return { clean, points, examples: n, seconds: (performance.now() - started) / 1000 };
  } finally {
    model.train(wasTraining);
  }
}
