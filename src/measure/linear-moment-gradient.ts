/**
 * Minibatch gradients of packed linear networks (linear regression, deep linear networks: Linear layers
 * without bias, no activation) under half-MSE, from the batch's second moments. With W = W_L ⋯ W_1 the
 * end-to-end map (d inputs, m outputs) and the mean over examples and outputs (nn/zoo.ts: half-mse),
 *
 *   L_B(W) = (1/(2m b)) Σ_{i∈B} ‖W x_i − y_i‖² = (1/2m) [tr(W A_B Wᵀ) − 2 tr(W C_B) + s_B],
 *   A_B = (1/b) Σ x_i x_iᵀ (d × d),  C_B = (1/b) Σ x_i y_iᵀ (d × m),  s_B = (1/b) Σ ‖y_i‖²,
 *
 * so a batch enters the loss, and every layer's gradient, only through (A_B, C_B) (the algebra above; it is
 * why a linear network's gradient variance is a polynomial in 1/b, Qian & Klabjan 2020). A step then
 * costs one batched product X_Bᵀ X_B (b·d² multiply-adds per member) and products of d × d matrices,
 * instead of a forward and backward pass through every layer (about 3·b·Σ in·out). The gradients are the
 * same up to float rounding (the sums run in another order): linear-moment-gradient.test.ts checks them
 * against packedBatchGradient.
 */
import * as T from '../tensor/index.js';
import { take, type TensorDataset } from '../data/index.js';
import { Flatten, Linear, Sequential, type LossName, type Module } from '../nn/index.js';

/**
 * Whether the moment form applies to `model` under `loss` and is cheaper than a forward and backward pass:
 * a Sequential of Flatten and bias-free Linear layers, half-MSE, and 3·Σ in·out > d·(d + m) multiply-adds
 * per example (a deep linear network of width 16 on 16 inputs: 1,584 against 272; plain linear regression
 * on 16 inputs, 48 against 272, keeps the direct pass).
 */
export function momentGradientPays(model: Module, loss: LossName): boolean {
  if (loss !== 'half-mse' || !(model instanceof Sequential)) return false;
  if (!model.layers.every((l) => l instanceof Flatten || (l instanceof Linear && !l.bias))) return false;
  const linears = model.layers.filter((l): l is Linear => l instanceof Linear);
  if (linears.length === 0) return false;
  const d = linears[0]!.weight.shape[1]!;
  const m = linears[linears.length - 1]!.weight.shape[0]!;
  const direct = 3 * linears.reduce((s, l) => s + l.weight.shape[0]! * l.weight.shape[1]!, 0);
  return direct > d * (d + m);
}

/**
 * Each member's gradient of its half-MSE on its batch (the examples at indices[k], [K, b] int64), for the
 * stacked bias-free linear weights `weights` of a PackedMlp in layer order (member k's W_lᵀ, [K, in, out]),
 * gathering at most `microBatchSize` examples per member at a time. Returns the stacked gradients [K, in, out].
 */
export function linearMomentGradient(weights: readonly T.Tensor[], data: TensorDataset, indices: T.Tensor, microBatchSize: number): T.Tensor[] {
  const [k, b] = indices.shape as [number, number];
  const d = weights[0]!.shape[1]!;
  const m = weights[weights.length - 1]!.shape[2]!;
  const moments = T.noGrad(() => {
    let a: T.Tensor | undefined;
    let c: T.Tensor | undefined;
    let s: T.Tensor | undefined;
    for (let start = 0; start < b; start += microBatchSize) {
      const count = Math.min(microBatchSize, b - start);
      const { x, y } = take(data, (count === b ? indices : indices.narrow(1, start, count)).reshape([k * count]));
      const xs = x.reshape([k, count, d]);
      const ys = y.reshape([k, count, m]);
      const xt = xs.transpose(1, 2);
      const [da, dc, ds] = [T.bmm(xt, xs), T.bmm(xt, ys), ys.square().sum([1, 2])];
      [a, c, s] = a && c && s ? [a.add(da), c.add(dc), s.add(ds)] : [da, dc, ds];
    }
    return { a: a!.div(b), c: c!.div(b), s: s!.div(b) };
  });
  // P = W_1ᵀ W_2ᵀ ⋯ W_Lᵀ [K, d, m]: x P is the network's output for an input row x.
  const p = weights.slice(1).reduce((acc, w) => T.bmm(acc, w), weights[0]!);
  // tr(Pᵀ A P) − 2 tr(Pᵀ C) + s, per member.
  const quadratic = p.mul(T.bmm(moments.a, p)).sum([1, 2]);
  const cross = p.mul(moments.c).sum([1, 2]);
  const losses = quadratic.sub(cross.mul(2)).add(moments.s).div(2 * m);
  return T.gradients([losses.sum()], weights);
}
