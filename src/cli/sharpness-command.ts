/**
 * `sgdlab measure sharpness --checkpoint PATH [--epsilon E] [--subspace P] [--solver lbfgsb|projected]`:
 * Keskar et al.'s ε-sharpness of a checkpoint, in the full space or a random subspace.
 *
 *   sgdlab measure sharpness --checkpoint runs/f1 --epsilon 1e-3 [--subspace 100] --json  →  { "phi": x, "iterations": n, … }
 */
import { Command } from 'commander';
import { DEFAULT_SHARPNESS_SOLVER, Objective, SHARPNESS_SOLVERS, keskarSharpness, type SharpnessSolver } from '../measure/index.js';
import { UsageError } from './errors.js';
import { countFlag, positiveFlag as positive, seedFlag } from './flags.js';
import { common, conventionNote, objectiveFlags, objectiveOptions, output, subspaceDistributionFlag, withCheckpoint, type CommonFlags, type ObjectiveFlags } from './measure-checkpoint.js';
import { progress } from './measure-progress.js';

export function sharpnessCommand(): Command {
  return objectiveFlags(common(new Command('sharpness')))
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
    });
}
