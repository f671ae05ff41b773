/**
 * The generalized Lyapunov equation of SGD with momentum on a quadratic (Ziyin et al. 2022, eq. for
 * the stationary fluctuation Σ given Hessian H, noise C, learning-rate matrix Λ and momentum μ):
 *   (1−μ)(ΛHΣ + ΣHΛ) − ((1+μ²)/(1−μ²)) ΛHΣHΛ + (μ/(1−μ²))(ΛHΛHΣ + ΣHΛHΛ) = ΛCΛ.
 * It is linear in Σ; solved here by vectorization (a d²×d² dense system), fine for d up to ~30.
 */
import { matmul, solve, type Matrix } from './linalg.js';

export function solveGeneralizedLyapunov(H: Matrix, C: Matrix, lr: Matrix, momentum = 0): Matrix {
  const d = H.length;
  const mu = momentum;
  const LH = matmul(lr, H);
  const HL = matmul(H, lr);
  const LHLH = matmul(LH, LH);
  const HLHL = matmul(HL, HL);
  const c1 = 1 - mu;
  const c2 = (1 + mu * mu) / (1 - mu * mu);
  const c3 = mu / (1 - mu * mu);
  // Column k of the operator: apply it to the basis matrix E_pq (Σ = E_pq), read off vec().
  const op = (S: Matrix): Matrix => {
    const t1 = matmul(LH, S);
    const t2 = matmul(S, HL);
    const t3 = matmul(matmul(LH, S), HL);
    const t4 = matmul(LHLH, S);
    const t5 = matmul(S, HLHL);
    return t1.map((row, i) => row.map((_, j) => c1 * (t1[i]![j]! + t2[i]![j]!) - c2 * t3[i]![j]! + c3 * (t4[i]![j]! + t5[i]![j]!)));
  };
  const n = d * d;
  const M: Matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let p = 0; p < d; p++) {
    for (let q = 0; q < d; q++) {
      const E = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === p && j === q ? 1 : 0)));
      const out = op(E);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) M[i * d + j]![p * d + q] = out[i]![j]!;
    }
  }
  const rhs = matmul(matmul(lr, C), lr).flat();
  const x = solve(M, rhs);
  return Array.from({ length: d }, (_, i) => x.slice(i * d, (i + 1) * d));
}
