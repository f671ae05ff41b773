/**
 * Train a small MLP on a slice of MNIST from code, save its checkpoint, load it back as a later session
 * would, and measure the minimum it reached: the top Hessian eigenvalue λ_max by Lanczos and by power
 * iteration (two methods, one number), and Keskar et al.'s ε-sharpness φ (2017, Metric 2.1).
 * The same as `sgdlab train … --save DIR` followed by `sgdlab measure hessian|sharpness --checkpoint DIR`.
 *
 *   npm run example -- train-and-measure [--quick]
 *   node dist/examples/train-and-measure.js [--quick]
 *
 * Sizes: default MLP 784-256-10, 10,000 training examples, 10 epochs of batch 32 (3,120 steps; about
 * 97% test accuracy), measured on 5,000 of them; --quick (CI) MLP 784-32-10, 1,000 examples, 1 epoch,
 * measured on 500. Measured runtime (2 cores shared at load 6–9, /usr/bin/time -v): 12–31 s default
 * (10–11 s of CPU, 600 MB), 1.1–3.5 s --quick (0.8 s of CPU, 550 MB: MNIST is loaded whole, then subset).
 * Prints the run's train/test accuracy, the checkpoint's path, λ_max by both methods with their
 * Hessian-vector products and relative difference, and φ(ε = 1e-3) with its first-order part.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { data, measure, nn, train } from 'sgdlab';

const quick = process.argv.includes('--quick');
const size = quick
  ? { widths: [32], examples: 1000, epochs: 1, measured: 500 }
  : { widths: [256], examples: 10000, epochs: 10, measured: 5000 };

// 1. Train. parseTrainConfig fills in the defaults and names any bad field; `save` writes the checkpoint.
const dir = mkdtempSync(join(tmpdir(), 'sgdlab-example-'));
const config = train.parseTrainConfig({
  model: { name: 'mlp', widths: size.widths },
  data: { name: 'mnist', subset: size.examples },
  optimizer: { name: 'sgd', lr: 0.1 }, // plain SGD: with momentum 0.9 this rate (effectively 1.0) trains badly
  batchSize: 32,
  budget: { epochs: size.epochs },
  seed: 0,
  save: join(dir, 'mlp'),
}, 'train-and-measure');
const trained = train.train(config);
trained.model.dispose();
const r = trained.result;
const pct = (a: number | null) => (a === null ? '—' : `${(100 * a).toFixed(1)}%`);
console.log(`trained ${r.numParameters} parameters on ${r.data}: ${r.steps} steps of batch ${r.batchSize} in ${r.seconds.toFixed(1)} s`);
console.log(`train loss ${r.train.loss.toPrecision(4)}, accuracy ${pct(r.train.accuracy)}; test accuracy ${pct(r.test.accuracy)}`);
if (r.checkpoint === undefined) throw new Error(`the run ${r.status === 'diverged' ? `diverged (${r.reason})` : 'ended'} without a checkpoint to measure`);
console.log(`checkpoint ${r.checkpoint}`);

// 2. Load the checkpoint and its training data: the sidecar (model.json) records both.
const { model, sidecar } = train.loadCheckpoint(r.checkpoint);
const splits = data.prepareData(sidecar.config.data);
const loss = sidecar.config.loss ?? nn.modelInfo(sidecar.model.name).defaultLoss;
try {
  // f(θ) = mean loss over the first `measured` training examples, in evaluation mode, with exact H·v.
  const objective = new measure.Objective(model, splits.train.x, splits.train.y, loss, { limit: size.measured });

  // 3. λ_max two ways: Lanczos (30 steps by default) and power iteration to a tight tolerance.
  const lanczos = measure.topEigenvalues(objective, { method: 'lanczos', seed: 0 });
  const power = measure.topEigenvalues(objective, { method: 'power', maxIter: 500, tol: 1e-6, seed: 1 });
  const a = lanczos.eigenvalues[0]!;
  const b = power.eigenvalues[0]!;
  console.log(`λ_max (Lanczos) = ${a.toPrecision(6)} (${lanczos.hvps} Hessian-vector products on ${objective.n} examples, residual ${lanczos.residuals[0]!.toExponential(1)})`);
  console.log(`λ_max (power) = ${b.toPrecision(6)} (${power.hvps} Hessian-vector products, ${power.iterations} iterations)`);
  console.log(`relative difference ${(Math.abs(a - b) / Math.abs(a)).toExponential(2)}`);

  // 4. Keskar's φ over the full parameter space (A = I), ε = 1e-3 as in the paper.
  const phi = measure.keskarSharpness(objective, { epsilon: 1e-3, randomStarts: 2, seed: 0 });
  console.log(`φ(ε=1e-3) = ${phi.phi.toPrecision(5)} (first-order part ${phi.firstOrder.toPrecision(5)}, ${phi.solver}, ${phi.starts.length} starts, ${phi.seconds.toFixed(1)} s)`);
} finally {
  model.dispose();
  data.disposeSplits(splits);
}
