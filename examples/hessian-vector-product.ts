/**
 * Exact Hessian-vector products with sgdlab's tensor API (double backward, Pearlmutter 1994), checked
 * against the closed-form Hessian of L2-regularized logistic regression.
 *
 *   f(w) = (1/n) Σ_i softplus(−y_i x_iᵀw) + (λ/2)‖w‖²,   y_i ∈ {−1, +1}
 *   H    = (1/n) Xᵀ diag(s) X + λI,   s_i = σ(x_iᵀw)(1 − σ(x_iᵀw))
 *
 * It shows: seeded generators, `T.tidy` (every intermediate freed on return, `T.memory()` back where it
 * started), `T.gradients` with `createGraph` for the gradient, a second `T.gradients` of ⟨∇f, v⟩ for
 * H·v, and `T.eigh` on the Hessian assembled column by column from d products.
 * Dimensions: n = examples, d = parameters.
 *
 *   npm run example -- hessian-vector-product [--quick]
 *   node dist/examples/hessian-vector-product.js [--quick]
 *
 * Sizes: default n = 5000, d = 200; --quick (CI) n = 50, d = 5. Measured runtime (2 cores shared at
 * load 6–9, /usr/bin/time -v): 0.6–1.6 s default, 0.5–1.1 s --quick (0.4–0.6 s of CPU, 240 MB), nearly
 * all of it loading Node and libtorch.
 * Prints the max error of H·v against the closed form for a random v, of the whole Hessian built
 * from products, its largest and smallest eigenvalues (≥ λ: f is λ-strongly convex), and the live
 * tensor count before and after.
 */
import * as T from 'sgdlab/tensor';

const quick = process.argv.includes('--quick');
const n = quick ? 50 : 5000;
const d = quick ? 5 : 200;
const lambda = 1e-2;

const liveBefore = T.memory().numTensors;
const g = new T.Generator(0);
// float64 throughout: the two routes then agree to ~1e-15, so any error above that is a real difference.
// tidy frees the intermediates (the draws before .sign() and .mul()) and keeps what it returns.
const { X, y, w, v } = T.tidy(() => ({
  X: T.randn([n, d], { generator: g, dtype: 'float64' }),
  y: T.randn([n], { generator: g, dtype: 'float64' }).sign(),
  w: T.randn([d], { generator: g, dtype: 'float64' }).mul(0.5).requiresGrad_(),
  v: T.randn([d], { generator: g, dtype: 'float64' }),
}));

/** f(w), recorded for autograd. */
const objective = (): T.Tensor => X.matmul(w).mul(y).neg().softplus().mean().add(w.square().sum().mul(lambda / 2));

/** H·u by double backward: ∇f with its graph kept, then ∇⟨∇f, u⟩ = H·u (the graph is rebuilt per call). */
const hvp = (u: T.Tensor): T.Tensor => T.tidy(() => {
  const [gradient] = T.gradients([objective()], [w], { createGraph: true });
  const [hu] = T.gradients([T.listDot([gradient!], [u])], [w]);
  return hu!.detach();
});

const report = T.tidy(() => {
  // The closed form, from the same data: s_i = σ(z)(1 − σ(z)) with z = Xw (independent of y since y² = 1).
  const s = T.noGrad(() => {
    const p = X.matmul(w).sigmoid();
    return p.mul(p.neg().add(1));
  });
  const exactHv = X.t().matmul(X.matmul(v).mul(s)).div(n).add(v.mul(lambda));
  const hvError = hvp(v).sub(exactHv).abs().max().item();

  const eye = T.eye(d, d, { dtype: 'float64' });
  const exactH = X.t().matmul(X.mul(s.unsqueeze(1))).div(n).add(eye.mul(lambda));
  const columns = Array.from({ length: d }, (_, j) => hvp(eye.select(0, j)));
  const built = T.stack(columns, 1);
  const hError = built.sub(exactH).abs().max().item();
  const symmetry = built.sub(built.t()).abs().max().item();
  const eigenvalues = T.eigh(built.add(built.t()).div(2)).eigenvalues.toArray() as number[];
  return { hvError, hError, symmetry, lambdaMin: eigenvalues[0]!, lambdaMax: eigenvalues[d - 1]!, hvNorm: exactHv.norm().item() };
});
T.dispose([X, y, w, v]);

console.log(`logistic regression, n = ${n} examples, d = ${d} parameters, λ = ${lambda} (float64)`);
console.log(`‖H·v‖ = ${report.hvNorm.toPrecision(6)} for a random Gaussian v`);
console.log(`max |H·v (autograd) − H·v (closed form)| = ${report.hvError.toExponential(2)}`);
console.log(`max |H from ${d} products − H (closed form)| = ${report.hError.toExponential(2)}; asymmetry ${report.symmetry.toExponential(2)}`);
console.log(`eigenvalues of H: λ_min = ${report.lambdaMin.toPrecision(6)} (≥ λ = ${lambda}), λ_max = ${report.lambdaMax.toPrecision(6)}`);
console.log(`live tensors: ${liveBefore} before, ${T.memory().numTensors} after`);
