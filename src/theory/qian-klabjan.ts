/**
 * The exact variance of the minibatch gradient along SGD on linear regression (Qian & Klabjan 2020,
 * §3), from the first two moments of the iterate — no sampling:
 *
 *   ℓ_i(w) = ½(x_iᵀw − y_i)²,  u_i(w) = ∇ℓ_i = H_i w − r_i  (H_i = x_i x_iᵀ, r_i = x_i y_i),
 *   ū(w) = A w − c  (A = mean H_i, c = mean r_i),   w_{k+1} = w_k − η g_k,  g_k = mean of u_i over the batch.
 *
 * Each step draws a fresh batch independently of the past (with replacement, or b distinct examples),
 * so, with f(b) = 1/b with replacement and (N − b)/(b(N − 1)) without,
 *   E[g gᵀ | w] = f·mean_i u_i u_iᵀ + (1 − f)·ū ūᵀ,
 * and m = E w, S = E wwᵀ follow exactly:
 *   m' = m − η(A m − c),
 *   S' = S − η(E[g wᵀ] + E[w gᵀ]) + η² E[g gᵀ],   E[g wᵀ] = A S − c mᵀ,
 *   E[g gᵀ] = f·mean_i(H_i S H_i − H_i m r_iᵀ − r_i mᵀ H_i + r_i r_iᵀ) + (1 − f)(A S A − A m cᵀ − c mᵀ A + c cᵀ).
 * Then Var(g_k | w₀) = tr E[g_k g_kᵀ] − ‖A m_k − c‖², a polynomial in f (so in 1/b) of degree k + 1:
 * the reference the Monte Carlo measurement (measure/along-training.ts) is tested against.
 */
import { add, matmul, scale, trace, transpose, type Matrix } from './linalg.js';

export interface LinearRegressionSgd {
  /** Inputs, one row per example. */
  x: number[][];
  y: number[];
  w0: number[];
  lr: number;
  b: number;
  replacement: boolean;
}

const outer = (a: number[], b: number[]): Matrix => a.map((ai) => b.map((bj) => ai * bj));
const column = (v: number[]): Matrix => v.map((x) => [x]);

/** Var(g_k | w₀) for k = 0 … steps. */
export function linearRegressionGradientVariance(o: LinearRegressionSgd, steps: number): number[] {
  const n = o.x.length;
  const d = o.w0.length;
  if (!(o.b >= 1 && o.b <= n)) throw new RangeError(`b must be in [1, ${n}], got ${o.b}`);
  const f = o.replacement ? 1 / o.b : n > 1 ? (n - o.b) / (o.b * (n - 1)) : 0;
  const H = o.x.map((xi) => outer(xi, xi));
  const r = o.x.map((xi, i) => xi.map((v) => v * o.y[i]!));
  const zero = (): Matrix => Array.from({ length: d }, () => new Array<number>(d).fill(0));
  const A = H.reduce((acc, h) => add(acc, h, 1 / n), zero());
  const c = r.reduce((acc, ri) => acc.map((v, j) => v + ri[j]! / n), new Array<number>(d).fill(0));
  let m = [...o.w0];
  let S = outer(o.w0, o.w0);
  const variances: number[] = [];
  for (let k = 0; ; k++) {
    const Am = matmul(A, column(m)).map((row) => row[0]!);
    const mean = Am.map((v, j) => v - c[j]!); // E g = A m − c
    // E[g gᵀ] over the batch and the iterate's distribution.
    let perExample = zero();
    for (let i = 0; i < n; i++) {
      const Hm = matmul(H[i]!, column(m)).map((row) => row[0]!);
      const term = add(add(matmul(matmul(H[i]!, S), H[i]!), add(outer(Hm, r[i]!), outer(r[i]!, Hm)), -1), outer(r[i]!, r[i]!));
      perExample = add(perExample, term, 1 / n);
    }
    const meanOuter = add(add(matmul(matmul(A, S), A), add(outer(Am, c), outer(c, Am)), -1), outer(c, c));
    const second = add(scale(perExample, f), meanOuter, 1 - f);
    variances.push(trace(second) - mean.reduce((s, v) => s + v * v, 0));
    if (k === steps) return variances;
    const gw = add(matmul(A, S), outer(c, m), -1); // E[g wᵀ]
    S = add(add(S, add(gw, transpose(gw)), -o.lr), second, o.lr * o.lr);
    m = m.map((v, j) => v - o.lr * mean[j]!);
  }
}
