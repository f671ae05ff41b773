/**
 * `sgdlab measure landscape --checkpoint PATH [--from A] [--to A] [--points N] [--two-d]
 * [--batch-norm running|batch [--batch-norm-batch all|N]]`: the loss along one or two random
 * filter-normalized directions from a checkpoint (Li et al. 2018), batch norm by its running statistics
 * (Li et al.'s) or by those of the evaluated examples (Keskar et al.'s objective). No --probability-clip:
 * the slice reports the plain loss and accuracy (evaluate), which clipping would not change below c.
 */
import { Command } from 'commander';
import { alphaGrid, landscapeSlice } from '../measure/index.js';
import { positiveFlag as positive, seedFlag } from './flags.js';
import { common, objectiveOptions, output, range, withCheckpoint, type CommonFlags } from './measure-checkpoint.js';

export function landscapeCommand(): Command {
  return common(new Command('landscape'))
    .description('loss along one or two random filter-normalized directions (Li et al. 2018)')
    .option('--from <alpha>', 'first coordinate (default -1)')
    .option('--to <alpha>', 'last coordinate (default 1)')
    .option('--points <n>', 'points per axis (default 21)')
    .option('--two-d', 'a 2-D slice along two directions')
    .option('--seed <n>', 'seed of the directions (default 0)')
    .option('--batch-norm <convention>', "batch norm by its running statistics (running, default: evaluation mode, Li et al.'s) or by those of the evaluated examples (batch: Keskar et al.'s convention)")
    .option('--batch-norm-batch <n>', 'with --batch-norm batch: all (default: each split as one batch) or n, chunks of n examples each normalized by its own statistics')
    .action((flags: CommonFlags & { from?: string; to?: string; points?: string; twoD?: boolean; seed?: string; batchNorm?: string; batchNormBatch?: string }) => {
      const seed = seedFlag(flags.seed);
      const { batchNorm, batchNormBatch } = objectiveOptions({ batchNorm: flags.batchNorm, batchNormBatch: flags.batchNormBatch });
      withCheckpoint(flags, (s) => {
        const { from, to } = range(flags, -1, 1);
        const grid = alphaGrid(from, to, positive('points', flags.points, 21));
        const { points, cost } = landscapeSlice(s.model, { train: s.split, test: s.data.test }, s.loss, { alphas: grid, betas: flags.twoD ? grid : undefined, seed, limit: s.n, batchNorm, batchNormBatch });
        // The convention goes with the numbers, as every measurement's result records its objective.
        const convention = batchNorm === 'batch' ? { batchNorm, batchNormBatch: batchNormBatch ?? 'all' } : { batchNorm: 'running' as const };
        const note = batchNorm === 'batch' ? `\n(batch norm by the statistics of the evaluated examples, ${convention.batchNormBatch === 'all' ? 'all as one batch' : `in chunks of ${convention.batchNormBatch}`})` : '';
        output(flags, { points, cost, seconds: cost.seconds, objective: convention }, points.map((p) => `α ${p.alpha.toFixed(3)}${p.beta === undefined ? '' : ` β ${p.beta.toFixed(3)}`}: train loss ${p.train.loss.toPrecision(4)}`).join('\n') + note);
      });
    });
}
