/**
 * The per-example gradient covariance C = (1/N) Σ_i (g_i − G)(g_i − G)ᵀ as an operator, without
 * storing per-example gradients: with J the N×P Jacobian of the per-example losses,
 *   C·v = (1/N) Jᵀ(J v) − G⟨G, v⟩,
 * where J v comes from the double-VJP trick (J v = ∂/∂z ⟨Jᵀz, v⟩) and Jᵀw from one backward pass
 * of Σ_i w_i ℓ_i. On it: the top eigenvalues of C (Lanczos), and its alignment with the Hessian
 * (Jastrzębski et al. 2018; Zhu et al. 2019): the normalized trace tr(HC)/(‖H‖_F‖C‖_F), estimated
 * with shared Rademacher probes z (E zᵀAz = tr A), and the overlap ‖U_Hᵀ U_C‖_F²/k of the top-k
 * eigenspaces.
 */
import * as T from '../tensor/index.js';
import type { LossName, Module } from '../nn/index.js';
import { perExampleLoss } from '../train/loss.js';
import { lanczosTopEigen, type SymmetricOperator } from './hessian.js';
import type { Objective } from './objective.js';
import { axpy, dot, keepAll, rademacherLike, type ParamVector } from './vectors.js';

/** C·v over (x, y) at the model's parameters, in evaluation mode; also returns G. Dispose `gradient` when done. */
export function noiseCovarianceOperator(model: Module, x: T.Tensor, y: T.Tensor, loss: LossName, options: { chunkSize?: number } = {}): { apply: SymmetricOperator; gradient: ParamVector; n: number } {
  const n = x.shape[0]!;
  const chunk = options.chunkSize ?? 500;
  const params = model.parameters();
  const inEval = <R>(fn: () => R): R => {
    const wasTraining = model.training;
    model.eval();
    try {
      return T.enableGrad(fn);
    } finally {
      model.train(wasTraining);
    }
  };
  const gradient = keepAll(inEval(() => T.tidy(() => {
    const acc = params.map((p) => T.zerosLike(p));
    for (let s = 0; s < n; s += chunk) {
      const c = Math.min(chunk, n - s);
      const g = T.gradients([perExampleLoss(loss, model.forward(x.narrow(0, s, c)), y.narrow(0, s, c)).sum().div(n)], params);
      T.noGrad(() => T.listAdd_(acc, g, 1));
    }
    return acc;
  })));
  const apply: SymmetricOperator = (v) => inEval(() => {
    const acc = params.map((p) => T.zerosLike(p));
    for (let s = 0; s < n; s += chunk) {
      T.tidy(() => {
        const c = Math.min(chunk, n - s);
        const l = perExampleLoss(loss, model.forward(x.narrow(0, s, c)), y.narrow(0, s, c));
        const z = T.zeros([c], { dtype: l.dtype }).requiresGrad_();
        const jtz = T.gradients([l.mul(z).sum()], params, { createGraph: true, retainGraph: true });
        const [jv] = T.gradients([T.listDot(jtz, v)], [z], { retainGraph: true });
        const jtjv = T.gradients([l.mul(jv!.detach()).sum()], params);
        T.noGrad(() => T.listAdd_(acc, jtjv, 1 / n));
      });
    }
    return T.noGrad(() => axpy(acc, gradient, -dot(gradient, v)));
  });
  return { apply, gradient, n };
}

export interface NoiseCovarianceResult {
  /** Top eigenvalues of C, decreasing. */
  eigenvalues: number[];
  iterations: number;
}

export function noiseCovarianceTopEigenvalues(model: Module, x: T.Tensor, y: T.Tensor, loss: LossName, options: { topK?: number; maxIter?: number; seed?: number } = {}): NoiseCovarianceResult {
  const op = noiseCovarianceOperator(model, x, y, loss);
  try {
    const topK = options.topK ?? 1;
    const r = lanczosTopEigen(op.apply, model.parameters(), { topK, maxIter: options.maxIter ?? Math.max(2 * topK + 20, 30), seed: options.seed ?? 0, returnEigenvectors: false });
    return { eigenvalues: r.eigenvalues, iterations: r.iterations };
  } finally {
    T.dispose(op.gradient);
  }
}

export interface AlignmentResult {
  /** tr(HC)/(‖H‖_F ‖C‖_F) ∈ [−1, 1]. */
  cosine: number;
  traceHC: number;
  frobeniusH: number;
  frobeniusC: number;
  /** ‖U_Hᵀ U_C‖_F²/k for the top-k eigenvectors (1: the same subspace). */
  overlap: number;
  topK: number;
  probes: number;
}

/** How the noise covariance lines up with the Hessian, over the objective's data. */
export function noiseHessianAlignment(objective: Objective, options: { probes?: number; topK?: number; seed?: number; maxIter?: number } = {}): AlignmentResult {
  const x = objective.x.narrow(0, 0, objective.n);
  const y = objective.y.narrow(0, 0, objective.n);
  const op = noiseCovarianceOperator(objective.model, x, y, objective.loss);
  const probes = options.probes ?? 30;
  const topK = options.topK ?? 5;
  const g = new T.Generator(options.seed ?? 0);
  try {
    let hc = 0;
    let hh = 0;
    let cc = 0;
    for (let k = 0; k < probes; k++) {
      T.tidy(() => {
        const z = rademacherLike(objective.params, g);
        const hz = objective.hessianVectorProduct(z);
        const cz = op.apply(z);
        hc += dot(hz, cz) / probes;
        hh += dot(hz, hz) / probes;
        cc += dot(cz, cz) / probes;
      });
    }
    const maxIter = options.maxIter ?? Math.max(2 * topK + 20, 30);
    const uh = lanczosTopEigen((v) => objective.hessianVectorProduct(v), objective.params, { topK, maxIter, seed: options.seed ?? 0, returnEigenvectors: true }).eigenvectors!;
    const uc = lanczosTopEigen(op.apply, objective.params, { topK, maxIter, seed: (options.seed ?? 0) + 1, returnEigenvectors: true }).eigenvectors!;
    let overlap = 0;
    for (const a of uh) for (const b of uc) overlap += dot(a, b) ** 2;
    T.dispose([...uh.flat(), ...uc.flat()]);
    return { cosine: hc / Math.sqrt(hh * cc), traceHC: hc, frobeniusH: Math.sqrt(hh), frobeniusC: Math.sqrt(cc), overlap: overlap / topK, topK, probes };
  } finally {
    T.dispose([...op.gradient, x, y]);
  }
}
