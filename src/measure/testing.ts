/** Test helpers for the measurements. */
import * as T from '../tensor/index.js';
import { makeDataset, type TensorDataset } from '../data/index.js';

/** 200 examples of a 3-input linear regression (teacher [1, −1, 0.5], label noise 0.3), seeded: Qian–Klabjan's tests' data. */
export function regressionData(): TensorDataset {
  const g = new T.Generator(4);
  const x = T.randn([200, 3], { generator: g });
  const y = x.matmul(T.tensor([1, -1, 0.5])).unsqueeze(1).add(T.randn([200, 1], { generator: g }).mul(0.3));
  return makeDataset(x, y, undefined);
}
