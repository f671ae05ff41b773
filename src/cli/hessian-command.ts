/**
 * `sgdlab measure hessian --checkpoint PATH [--top-k K] [--method lanczos|power] [--trace-probes K] [--density]`:
 * the top eigenvalues of the Hessian of the training loss at a checkpoint, optionally its trace
 * (Hutchinson) and spectral density (stochastic Lanczos quadrature).
 *
 *   sgdlab measure hessian --checkpoint runs/f1 --top-k 3 --json  →  { "eigenvalues": [...], "hvps": n, … }
 */
import { Command } from 'commander';
import { Objective, hessianTrace, lanczosSteps, spectralDensity, topEigenvalues } from '../measure/index.js';
import { UsageError } from './errors.js';
import { positiveFlag as positive, seedFlag } from './flags.js';
import { common, conventionNote, objectiveFlags, objectiveOptions, output, withCheckpoint, type CommonFlags, type ObjectiveFlags } from './measure-checkpoint.js';
import { progress } from './measure-progress.js';

export function hessianCommand(): Command {
  return objectiveFlags(common(new Command('hessian')))
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
    });
}
