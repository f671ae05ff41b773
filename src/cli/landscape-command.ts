/**
 * `sgdlab measure landscape --checkpoint PATH [--from A] [--to A] [--points N] [--two-d]`: the loss
 * along one or two random filter-normalized directions from a checkpoint (Li et al. 2018).
 */
import { Command } from 'commander';
import { alphaGrid, landscapeSlice } from '../measure/index.js';
import { positiveFlag as positive, seedFlag } from './flags.js';
import { common, output, range, withCheckpoint, type CommonFlags } from './measure-checkpoint.js';

export function landscapeCommand(): Command {
  return common(new Command('landscape'))
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
    });
}
