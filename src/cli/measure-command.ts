/**
 * `sgdlab measure hessian|sharpness|noise|interpolate|robustness --checkpoint PATH …`: measurements of a saved
 * model on its own training data (the checkpoint's data spec and preprocessing), or --dataset.
 * --subset N uses the first N examples of the split. Prints a summary, or JSON with --json.
 *
 *   sgdlab measure hessian --checkpoint runs/f1 --top-k 3 --json  →  { "eigenvalues": [...], "hvps": n, … }
 *   sgdlab measure sharpness --checkpoint runs/f1 --epsilon 1e-3 [--subspace 100] --json  →  { "phi": x, "iterations": n, … }
 *   sgdlab measure noise --checkpoint runs/f1 --json  →  { "gradNormSq", "traceSigma", "bSimple", "varianceByBatchSize": [...] }
 */
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import * as T from '../tensor/index.js';
import { buildModel } from '../nn/index.js';
import { distanceFromInitial, loadCheckpoint } from '../train/index.js';
import { DEFAULT_SHARPNESS_SOLVER, Objective, SHARPNESS_SOLVERS, alphaGrid, hessianTrace, interpolate, lanczosSteps, keskarSharpness, landscapeSlice, noiseCovarianceTopEigenvalues, noiseHessianAlignment, noiseScaleBNoise, noiseStatistics, parameterDistance, spectralDensity, topEigenvalues, type BatchNormAlongPath, type MeasurementCost, type SharpnessSolver } from '../measure/index.js';
import { UsageError } from './errors.js';
import { countFlag, numberFlag, positiveFlag as positive, seedFlag } from './flags.js';
import { robustnessCommand } from './robustness-command.js';
import { common, conventionNote, objectiveFlags, objectiveOptions, output, subspaceDistributionFlag, withCheckpoint, type CommonFlags, type ObjectiveFlags } from './measure-checkpoint.js';

/** A progress bar on stderr (shown on terminals only) counting passes over the data. */
function progress(objective: Objective, task: string, expectedPasses: number): { stop(): void } {
  const bar = new cliProgress.SingleBar({ format: `${task} |{bar}| {value}/{total} passes over {examples} examples | {duration_formatted}`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(expectedPasses, 0, { examples: objective.n });
  const passes = (c: MeasurementCost) => c.lossEvaluations + c.gradients + c.hessianVectorProducts;
  objective.onWork = (c) => {
    const done = passes(c);
    if (done > expectedPasses) bar.setTotal(done);
    bar.update(done);
  };
  return { stop: () => bar.stop() };
}

/** --from/--to of a path or slice: two numbers, from < to. */
function range(flags: { from?: string; to?: string }, from: number, to: number): { from: number; to: number } {
  const r = { from: flags.from === undefined ? from : numberFlag('from', flags.from), to: flags.to === undefined ? to : numberFlag('to', flags.to) };
  if (r.from >= r.to) throw new UsageError(`--from/--to: need from < to, got ${r.from} and ${r.to}`);
  return r;
}

export function measureCommand(): Command {
  const measure = new Command('measure').description('measure a checkpoint: Hessian spectrum, sharpness, gradient noise, interpolation');

  measure.addCommand(objectiveFlags(common(new Command('hessian')))
    .description('top Hessian eigenvalues (Lanczos or power iteration), optionally the trace (Hutchinson) and spectral density (SLQ)')
    .option('--top-k <k>', 'number of top eigenvalues (default 1)')
    .option('--method <name>', 'lanczos (default) or power')
    .option('--max-iter <n>', 'Lanczos steps, or power iterations per eigenvalue')
    .option('--trace-probes <k>', 'also estimate the trace with k Rademacher probes')
    .option('--density', 'also estimate the spectral density (stochastic Lanczos quadrature)')
    .option('--seed <n>', 'random seed of the probes (default 0)')
    .action((flags: CommonFlags & ObjectiveFlags & { topK?: string; method?: string; maxIter?: string; traceProbes?: string; density?: boolean; seed?: string }) => {
      if (flags.method !== undefined && flags.method !== 'lanczos' && flags.method !== 'power') throw new UsageError(`--method: '${flags.method}' must be lanczos or power`);
      const topK = positive('top-k', flags.topK, 1);
      const seed = seedFlag(flags.seed);
      const maxIter = flags.maxIter === undefined ? undefined : positive('max-iter', flags.maxIter, 1);
      const traceProbes = flags.traceProbes === undefined ? undefined : positive('trace-probes', flags.traceProbes, 2);
      if (traceProbes === 1) throw new UsageError(`--trace-probes: '1' must be at least 2 (the standard error needs two probes)`);
      const objectiveOptionsOf = objectiveOptions(flags);
      withCheckpoint(flags, (s) => {
        const objective = new Objective(s.model, s.split.x, s.split.y, s.loss, { limit: s.n, ...objectiveOptionsOf });
        const bar = progress(objective, 'hessian', (maxIter ?? lanczosSteps(topK)) + topK + (traceProbes ?? 0) + (flags.density ? 80 : 0));
        const eig = topEigenvalues(objective, { topK, method: flags.method as 'lanczos' | 'power' | undefined, maxIter, seed });
        const trace = traceProbes ? hessianTrace(objective, { probes: traceProbes, seed }) : undefined;
        const density = flags.density ? spectralDensity(objective, { seed }) : undefined;
        bar.stop();
        const result = {
          eigenvalues: eig.eigenvalues, residuals: eig.residuals, method: eig.method, iterations: eig.iterations,
          hvps: objective.cost.hessianVectorProducts, examples: s.n, seconds: objective.cost.seconds, objective: objective.convention,
          ...(trace ? { trace: trace.trace, traceStandardError: trace.standardError, traceProbes: trace.probes } : {}),
          ...(density ? { density: { grid: density.grid, density: density.density, sigma: density.sigma } } : {}),
        };
        output(flags, result, `top eigenvalues ${eig.eigenvalues.map((e) => e.toPrecision(5)).join(', ')} (${eig.method}, ${objective.cost.hessianVectorProducts} Hessian-vector products on ${s.n} examples, ${objective.cost.seconds.toFixed(1)} s)` +
          (trace ? `\ntrace ${trace.trace.toPrecision(5)} ± ${trace.standardError.toPrecision(2)} (${trace.probes} probes)` : '') + conventionNote(objective.convention));
      });
    }));

  measure.addCommand(objectiveFlags(common(new Command('sharpness')))
    .description("Keskar et al.'s ε-sharpness φ(ε, A): full space, or a random subspace with --subspace p")
    .option('--epsilon <e>', 'box size ε (default 1e-3; the paper also uses 5e-4)')
    .option('--subspace <p>', 'dimension p of a random subspace (the paper uses 100)')
    .option('--max-iter <n>', 'iterations of the inner maximization (default 10, as in the paper)')
    .option('--random-starts <k>', 'random starts in the box besides y = 0 (default 2)')
    .option('--seed <n>', 'seed of A and of the random starts (default 0)')
    .option('--solver <name>', `inner maximizer: lbfgsb (the paper's L-BFGS-B, scipy's defaults) or projected (default ${DEFAULT_SHARPNESS_SOLVER})`)
    .option('--subspace-distribution <name>', "entries of the random subspace's A: normal (default) or uniform in [0, 1) (the paper does not say)")
    .action((flags: CommonFlags & ObjectiveFlags & { subspaceDistribution?: string; epsilon?: string; subspace?: string; maxIter?: string; randomStarts?: string; seed?: string; solver?: string }) => {
      const solver = (flags.solver ?? DEFAULT_SHARPNESS_SOLVER) as SharpnessSolver;
      if (!SHARPNESS_SOLVERS.includes(solver)) throw new UsageError(`--solver: '${flags.solver}' must be one of ${SHARPNESS_SOLVERS.join(', ')}`);
      const epsilon = positive('epsilon', flags.epsilon, 1e-3, false);
      const subspace = flags.subspace === undefined ? undefined : positive('subspace', flags.subspace, 100);
      const randomStarts = countFlag('random-starts', flags.randomStarts, 2);
      const seed = seedFlag(flags.seed);
      const objectiveOptionsOf = objectiveOptions(flags);
      const subspaceDistribution = subspaceDistributionFlag(flags.subspaceDistribution);
      withCheckpoint(flags, (s) => {
        const objective = new Objective(s.model, s.split.x, s.split.y, s.loss, { limit: s.n, ...objectiveOptionsOf });
        const bar = progress(objective, 'sharpness', 1 + (randomStarts + 1) * 2 * positive('max-iter', flags.maxIter, 10));
        const r = keskarSharpness(objective, { epsilon, subspace, subspaceDistribution, maxIter: positive('max-iter', flags.maxIter, 10), randomStarts, seed, solver });
        bar.stop();
        output(flags, { ...r, examples: s.n, objective: objective.convention }, `φ(ε=${epsilon}, ${r.space === 'full' ? 'A = I' : `random ${r.dimension}-dim A`}) = ${r.phi.toPrecision(5)} at training loss ${r.loss.toPrecision(4)} (${solver === 'lbfgsb' ? 'L-BFGS-B' : 'projected maximizer'}, ${objective.cost.seconds.toFixed(1)} s); first-order part ${r.firstOrder.toPrecision(5)}\n` +
          r.starts.map((st) => `  start ${st.start}: φ ${st.phi.toPrecision(4)}, ${st.iterations} iterations, ${st.evaluations} evaluations, ${st.moved ? 'moved' : 'DID NOT MOVE'}, ${st.coordinatesAtBound} of ${r.dimension} coordinates on the box (${st.reason})`).join('\n') + conventionNote(objective.convention));
      });
    }));

  measure.addCommand(common(new Command('noise'))
    .description('gradient noise: ‖G‖², tr Σ, B_simple, minibatch variance for every b (closed form), optional Monte Carlo')
    .option('--monte-carlo <k>', 'also sample k minibatches per batch size and sampling')
    .option('--b-noise <k>', "also estimate McCandlish's B_noise = tr(HΣ)/(GᵀHG) from k sampled examples")
    .option('--covariance-top-k <k>', 'also the top k eigenvalues of the noise covariance C (Lanczos)')
    .option('--alignment', 'also the alignment of C with the Hessian: tr(HC)/(‖H‖‖C‖) and the overlap of their top-5 eigenspaces')
    .option('--seed <n>', 'seed of the Monte Carlo draws')
    .action((flags: CommonFlags & { monteCarlo?: string; bNoise?: string; covarianceTopK?: string; alignment?: boolean; seed?: string }) => {
      const seed = seedFlag(flags.seed);
      withCheckpoint(flags, (s) => {
        const x = s.split.x.narrow(0, 0, s.n);
        const y = s.split.y.narrow(0, 0, s.n);
        const r = noiseStatistics(s.model, x, y, s.loss, { monteCarloSamples: flags.monteCarlo ? positive('monte-carlo', flags.monteCarlo, 2) : 0, seed });
        const bNoise = flags.bNoise ? noiseScaleBNoise(new Objective(s.model, x, y, s.loss), { samples: positive('b-noise', flags.bNoise, 2), seed }) : undefined;
        const covariance = flags.covarianceTopK ? noiseCovarianceTopEigenvalues(s.model, x, y, s.loss, { topK: positive('covariance-top-k', flags.covarianceTopK, 1), seed }) : undefined;
        const alignment = flags.alignment ? noiseHessianAlignment(new Objective(s.model, x, y, s.loss), { seed }) : undefined;
        T.dispose([x, y]);
        output(flags, { ...r, ...(bNoise ? { bNoise } : {}), ...(covariance ? { covarianceEigenvalues: covariance.eigenvalues, covarianceCost: covariance.cost } : {}), ...(alignment ? { alignment } : {}) }, `‖G‖² ${r.gradNormSq.toPrecision(5)}, tr Σ ${r.traceSigma.toPrecision(5)}, B_simple ${r.bSimple.toPrecision(4)} on ${r.examples} examples (${r.method}, ${r.cost.seconds.toFixed(1)} s)` +
          (bNoise ? `\nB_noise ${bNoise.bNoise.toPrecision(4)} (tr(HΣ) ${bNoise.traceHSigma.toPrecision(4)} ± ${bNoise.traceHSigmaStandardError.toPrecision(2)}, ${bNoise.samples} samples)` : '') +
          (covariance ? `\ntop eigenvalues of C: ${covariance.eigenvalues.map((e) => e.toPrecision(4)).join(', ')}` : '') +
          (alignment ? `\nalignment of C with H: cosine ${alignment.cosine.toFixed(3)}, top-${alignment.topK} eigenspace overlap ${alignment.overlap.toFixed(3)}` : ''));
      });
    }));

  measure.addCommand(common(new Command('landscape'))
    .description('loss along one or two random filter-normalized directions (Li et al. 2018)')
    .option('--from <alpha>', 'first coordinate (default -1)')
    .option('--to <alpha>', 'last coordinate (default 1)')
    .option('--points <n>', 'points per axis (default 21)')
    .option('--two-d', 'a 2-D slice along two directions')
    .option('--seed <n>', 'seed of the directions (default 0)')
    .action((flags: CommonFlags & { from?: string; to?: string; points?: string; twoD?: boolean; seed?: string }) => {
      const seed = seedFlag(flags.seed);
      withCheckpoint(flags, (s) => {
        const { from, to } = range(flags, -1, 1);
        const grid = alphaGrid(from, to, positive('points', flags.points, 21));
        const { points, cost } = landscapeSlice(s.model, { train: s.split, test: s.data.test }, s.loss, { alphas: grid, betas: flags.twoD ? grid : undefined, seed, limit: s.n });
        output(flags, { points, cost, seconds: cost.seconds }, points.map((p) => `α ${p.alpha.toFixed(3)}${p.beta === undefined ? '' : ` β ${p.beta.toFixed(3)}`}: train loss ${p.train.loss.toPrecision(4)}`).join('\n'));
      });
    }));

  measure.addCommand(common(new Command('interpolate'))
    .description("loss and accuracy along the path between two checkpoints (Keskar et al.'s Fig. 3)")
    .requiredOption('--other <path>', 'the second checkpoint (α = 1)')
    .option('--from <alpha>', 'first α (default -1)')
    .option('--to <alpha>', 'last α (default 2)')
    .option('--points <n>', 'number of α values (default 25)')
    .option('--curved', 'the curved path sin(απ/2)·θ_B + cos(απ/2)·θ_A')
    .option('--batch-norm <mode>', "batch-norm statistics at each point: recompute (default; a train-mode pass over a fixed random subset of the training data), interpolate (the endpoints' buffers mixed like the weights; for comparison only) or batch (those of the evaluated examples, Keskar et al.'s convention)")
    .option('--batch-norm-batch <n>', 'with --batch-norm batch: all (default: each split as one batch) or n, chunks of n examples')
    .option('--batch-norm-examples <n>', 'training examples of the recomputation (default 4096)')
    .option('--batch-norm-batch-size <n>', 'batch size of the recomputation (default 256)')
    .option('--seed <n>', 'seed of the recomputation subset (default 0)')
    .action((flags: CommonFlags & { other: string; from?: string; to?: string; points?: string; curved?: boolean; batchNorm?: string; batchNormBatch?: string; batchNormExamples?: string; batchNormBatchSize?: string; seed?: string }) => {
      const { from, to } = range(flags, -1, 2);
      const alphas = alphaGrid(from, to, positive('points', flags.points, 25));
      if (flags.batchNorm !== undefined && flags.batchNorm !== 'recompute' && flags.batchNorm !== 'interpolate' && flags.batchNorm !== 'batch') throw new UsageError(`--batch-norm: '${flags.batchNorm}' must be recompute, interpolate or batch`);
      // --batch-norm-batch parsed as the objective's (it needs --batch-norm batch).
      const { batchNormBatch } = objectiveOptions({ batchNorm: flags.batchNorm === 'batch' ? 'batch' : undefined, batchNormBatch: flags.batchNormBatch });
      const options = {
        batchNormBatch,
        alphas, curved: !!flags.curved, batchNorm: flags.batchNorm as BatchNormAlongPath | undefined, seed: seedFlag(flags.seed),
        batchNormExamples: positive('batch-norm-examples', flags.batchNormExamples, 4096), batchNormBatchSize: positive('batch-norm-batch-size', flags.batchNormBatchSize, 256),
      };
      if (options.batchNormBatchSize < 2) throw new UsageError(`--batch-norm-batch-size: '${flags.batchNormBatchSize}' must be at least 2 (training-mode batch norm needs two examples)`);
      withCheckpoint(flags, (s) => {
        const other = loadCheckpoint(flags.other, { device: s.device });
        const probe = buildModel(s.sidecar.model, s.sidecar.io, new T.Generator(0)).to(s.device);
        try {
          if (JSON.stringify(other.sidecar.model) !== JSON.stringify(s.sidecar.model)) throw new UsageError(`--other: ${flags.other} holds a different model (${JSON.stringify(other.sidecar.model)}) than ${flags.checkpoint} (${JSON.stringify(s.sidecar.model)})`);
          const r = interpolate(s.model, other.model, probe, { train: s.split, test: s.data.test }, s.loss, { ...options, limit: s.n });
          const distance = parameterDistance(s.model, other.model);
          const fromInitial = { a: distanceFromInitial(flags.checkpoint, s.model) ?? null, b: distanceFromInitial(flags.other, other.model) ?? null };
          output(flags, { distance, distanceFromInitial: fromInitial, ...r, seconds: r.cost.seconds }, `‖θ_B − θ_A‖ = ${distance.toPrecision(5)}` +
            (fromInitial.a !== null && fromInitial.b !== null ? `; from initialization: ‖θ_A − θ_A,0‖ = ${fromInitial.a.toPrecision(5)}, ‖θ_B − θ_B,0‖ = ${fromInitial.b.toPrecision(5)}, ratio ${(fromInitial.a / fromInitial.b).toPrecision(3)}` : '') +
            (r.batchNorm ? `\nbatch norm: ${r.batchNorm.mode === 'recompute' ? `statistics recomputed at every point from ${r.batchNorm.examples} training examples in batches of ${r.batchNorm.batchSize}` : r.batchNorm.mode === 'batch' ? `by the statistics of the evaluated examples (${r.batchNorm.batchSize === 'all' ? 'each split as one batch' : `in chunks of ${r.batchNorm.batchSize}`})` : "the endpoints' running statistics mixed like the weights (the variance can turn negative outside [0, 1])"}` : '') +
            `\n${r.points.map((p) => `α ${p.alpha.toFixed(3)}: train loss ${p.train.loss.toPrecision(4)}${p.test ? `, test loss ${p.test.loss.toPrecision(4)}` : ''}`).join('\n')}`);
        } finally {
          other.model.dispose();
          probe.dispose();
        }
      });
    }));
  measure.addCommand(robustnessCommand());
  return measure;
}
