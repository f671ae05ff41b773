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
import { inEvaluationMode, type LossName, type Module } from '../nn/index.js';
import { perExampleLoss } from '../train/loss.js';
import { lanczosSteps, lanczosTopEigen, type SymmetricOperator } from './hessian.js';
import { sampleStatistics } from '../theory/statistics.js';
import { Objective, sumCosts, type MeasurementCost } from './objective.js';
import { axpy, dot, keepAll, rademacherLike, type ParamVector } from './vectors.js';

/**
 * C·v over (x, y) at the model's parameters, in evaluation mode; also returns G and what the products
 * cost so far. Dispose `gradient` when done.
 */
export function noiseCovarianceOperator(model: Module, x: T.Tensor, y: T.Tensor, loss: LossName, options: { chunkSize?: number } = {}): { apply: SymmetricOperator; gradient: ParamVector; n: number; cost: MeasurementCost } {
  const n = x.shape[0]!;
  const chunk = options.chunkSize ?? 500;
  const params = model.parameters();
  const objective = new Objective(model, x, y, loss, { chunkSize: chunk });
  const gradient = keepAll(T.tidy(() => objective.valueAndGradient().gradient));
  const cost = { ...objective.cost };
  const apply: SymmetricOperator = (v) => {
    const started = performance.now();
    const acc = params.map((p) => T.zerosLike(p));
    inEvaluationMode(model, () => T.enableGrad(() => {
      for (let s = 0; s < n; s += chunk) {
        T.tidy(() => {
          const c = Math.min(chunk, n - s);
          const l = perExampleLoss(loss, model.forward(x.narrow(0, s, c)), y.narrow(0, s, c));
          const z = T.zeros([c], { dtype: l.dtype, device: T.deviceOf(l) }).requiresGrad_();
          const jtz = T.gradients([l.mul(z).sum()], params, { createGraph: true, retainGraph: true });
          const [jv] = T.gradients([T.listDot(jtz, v)], [z], { retainGraph: true });
          const jtjv = T.gradients([l.mul(jv!.detach()).sum()], params);
          T.noGrad(() => T.listAdd_(acc, jtjv, 1 / n));
        });
      }
    }));
    const out = T.noGrad(() => axpy(acc, gradient, -dot(gradient, v)));
    cost.covarianceVectorProducts++;
    cost.examples += n;
    cost.seconds += (performance.now() - started) / 1000;
    return out;
  };
  return { apply, gradient, n, cost };
}

export interface NoiseCovarianceResult {
  /** Top eigenvalues of C, decreasing. */
  eigenvalues: number[];
  iterations: number;
  cost: MeasurementCost;
}

export function noiseCovarianceTopEigenvalues(model: Module, x: T.Tensor, y: T.Tensor, loss: LossName, options: { topK?: number; maxIter?: number; seed?: number } = {}): NoiseCovarianceResult {
  const op = noiseCovarianceOperator(model, x, y, loss);
  try {
    const topK = options.topK ?? 1;
    const r = lanczosTopEigen(op.apply, model.parameters(), { topK, maxIter: options.maxIter ?? lanczosSteps(topK), seed: options.seed ?? 0, returnEigenvectors: false, residuals: false });
    return { eigenvalues: r.eigenvalues, iterations: r.iterations, cost: op.cost };
  } finally {
    T.dispose(op.gradient);
  }
}

export interface AlignmentResult {
  /** tr(HC)/(‖H‖_F ‖C‖_F) ∈ [−1, 1]. */
  cosine: number;
  /** Its standard error over the probes (delta method on the three Hutchinson means). */
  cosineStandardError: number;
  traceHC: number;
  frobeniusH: number;
  frobeniusC: number;
  /** ‖U_Hᵀ U_C‖_F²/k for the top-k eigenvectors (1: the same subspace). */
  overlap: number;
  topK: number;
  probes: number;
  /** Hessian-vector products and gradients (the objective's) plus the C·v products. */
  cost: MeasurementCost;
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
    // Per probe z: zᵀHCz, zᵀH²z, zᵀC²z (each an unbiased estimate of tr HC, ‖H‖_F², ‖C‖_F²).
    const samples: [number, number, number][] = [];
    for (let k = 0; k < probes; k++) {
      T.tidy(() => {
        const z = rademacherLike(objective.params, g);
        const hz = objective.hessianVectorProduct(z);
        const cz = op.apply(z);
        samples.push([dot(hz, cz), dot(hz, hz), dot(cz, cz)]);
      });
    }
    const [hc, hh, cc] = [0, 1, 2].map((j) => sampleStatistics(samples.map((s) => s[j]!)).mean) as [number, number, number];
    const cosine = hc / Math.sqrt(hh * cc);
    // Delta method for f(a, b, c) = a/√(bc) over the probe means: ∇f = f·(1/a, −1/(2b), −1/(2c)).
    const grad = [1 / hc, -1 / (2 * hh), -1 / (2 * cc)].map((d) => d * cosine);
    const centered = samples.map((s) => [s[0] - hc, s[1] - hh, s[2] - cc]);
    const projected = centered.map((c) => c.reduce((acc, v, j) => acc + v * grad[j]!, 0));
    const cosineStandardError = sampleStatistics(projected).standardError;
    const maxIter = options.maxIter ?? lanczosSteps(topK);
    const uh = lanczosTopEigen((v) => objective.hessianVectorProduct(v), objective.params, { topK, maxIter, seed: options.seed ?? 0, returnEigenvectors: true, residuals: false }).eigenvectors!;
    const uc = lanczosTopEigen(op.apply, objective.params, { topK, maxIter, seed: (options.seed ?? 0) + 1, returnEigenvectors: true, residuals: false }).eigenvectors!;
    let overlap = 0;
    for (const a of uh) for (const b of uc) overlap += dot(a, b) ** 2;
    T.dispose([...uh.flat(), ...uc.flat()]);
    const cost = sumCosts([objective.cost, op.cost]);
    return { cosine, cosineStandardError, traceHC: hc, frobeniusH: Math.sqrt(hh), frobeniusC: Math.sqrt(cc), overlap: overlap / topK, topK, probes, cost };
  } finally {
    T.dispose([...op.gradient, x, y]);
  }
}
