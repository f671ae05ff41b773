/**
 * Synthetic data with known ground truth, for checking theory.
 *
 * Linear regression (Ziyin et al. 2022, §3): x ~ N(0, A), y = uᵀx + ε with Var ε = σ²; the model
 * may observe x + ξ, ξ ~ N(0, τ²I) (input noise). A is diagonal (its eigenvalues) or a full
 * symmetric positive-definite matrix; u is given or drawn N(0, I/d) from the data seed.
 *
 * Gaussian classification: K class means μ_k ~ N(0, s²/d · I); x = μ_y + N(0, I), y uniform.
 */
import * as T from '../tensor/index.js';

export interface LinearRegressionSpec {
  dim: number;
  /** Eigenvalues of a diagonal A, or the full matrix A; default the identity. */
  covariance?: number[] | number[][];
  /** Teacher vector u; default drawn from the data seed. */
  teacher?: number[];
  /** Label noise standard deviation σ. */
  labelNoise?: number;
  /** Input noise standard deviation τ (the model sees x + ξ). */
  inputNoise?: number;
}

export interface GaussianClassificationSpec {
  dim: number;
  classes: number;
  /** Scale s of the class means. */
  separation?: number;
}

export interface Sampler {
  /** Draws n examples from the generator. */
  sample(n: number, g: T.Generator): { x: T.Tensor; y: T.Tensor };
  describe: string;
}

/** x = z·M with z ~ N(0, I), so that Cov x = MᵀM = A. */
function covarianceFactor(spec: LinearRegressionSpec): T.Tensor {
  const d = spec.dim;
  const c = spec.covariance;
  if (c === undefined) return T.eye(d);
  if (typeof c[0] === 'number') {
    const diag = c as number[];
    if (diag.length !== d) throw new Error(`linear-regression: covariance has ${diag.length} eigenvalues for dim ${d}`);
    if (diag.some((v) => !(v >= 0))) throw new Error('linear-regression: covariance eigenvalues must be non-negative');
    return T.tidy(() => T.eye(d).mul(T.tensor(diag.map(Math.sqrt))));
  }
  const m = c as number[][];
  if (m.length !== d || m.some((row) => row.length !== d)) throw new Error(`linear-regression: covariance must be a ${d}×${d} matrix`);
  return T.tidy(() => {
    const a = T.tensor(m, { dtype: 'float64' });
    const { eigenvalues, eigenvectors } = T.eigh(a);
    if (eigenvalues.min().item() < -1e-10) throw new Error('linear-regression: the covariance matrix is not positive semi-definite');
    // M = √Λ Qᵀ: then MᵀM = Q Λ Qᵀ = A.
    return eigenvectors.mul(eigenvalues.clamp(0).sqrt()).t().float();
  });
}

export function linearRegressionSampler(spec: LinearRegressionSpec, dataSeed: number): Sampler & { teacher: T.Tensor; covariance: T.Tensor } {
  if (!(Number.isInteger(spec.dim) && spec.dim >= 1)) throw new Error(`linear-regression: dim must be a positive integer, got ${spec.dim}`);
  const factor = T.keep(covarianceFactor(spec));
  const teacher = T.keep(
    spec.teacher
      ? T.tensor(spec.teacher)
      : T.tidy(() => T.randn([spec.dim], { generator: new T.Generator(dataSeed + 7919) }).div(Math.sqrt(spec.dim))),
  );
  if (teacher.numel !== spec.dim) throw new Error(`linear-regression: teacher has ${teacher.numel} entries for dim ${spec.dim}`);
  const covariance = T.keep(T.tidy(() => factor.t().matmul(factor)));
  const sigma = spec.labelNoise ?? 0;
  const tau = spec.inputNoise ?? 0;
  return {
    teacher,
    covariance,
    describe: `linear regression d=${spec.dim}, σ=${sigma}, τ=${tau}`,
    sample(n, g) {
      return T.tidy(() => {
        const x = T.randn([n, spec.dim], { generator: g }).matmul(factor);
        let y = x.matmul(teacher).unsqueeze(1);
        if (sigma > 0) y = y.add(T.randn([n, 1], { generator: g }).mul(sigma));
        const seen = tau > 0 ? x.add(T.randn([n, spec.dim], { generator: g }).mul(tau)) : x;
        return { x: seen, y };
      });
    },
  };
}

export function gaussianClassificationSampler(spec: GaussianClassificationSpec, dataSeed: number): Sampler {
  if (!(Number.isInteger(spec.classes) && spec.classes >= 2)) throw new Error(`gaussian-classification: classes must be an integer ≥ 2, got ${spec.classes}`);
  if (!(Number.isInteger(spec.dim) && spec.dim >= 1)) throw new Error(`gaussian-classification: dim must be a positive integer, got ${spec.dim}`);
  const s = spec.separation ?? 3;
  const means = T.keep(T.tidy(() => T.randn([spec.classes, spec.dim], { generator: new T.Generator(dataSeed + 104729) }).mul(s / Math.sqrt(spec.dim))));
  return {
    describe: `gaussian classification d=${spec.dim}, K=${spec.classes}, separation ${s}`,
    sample(n, g) {
      return T.tidy(() => {
        const y = T.randint(0, spec.classes, [n], { generator: g });
        return { x: means.indexSelect(0, y).add(T.randn([n, spec.dim], { generator: g })), y };
      });
    },
  };
}
