/**
 * `sgdlab measure interpolate --checkpoint PATH --other PATH [--from A] [--to A] [--points N] [--curved]`:
 * loss and accuracy along the path between two checkpoints of the same model (Keskar et al.'s Fig. 3),
 * with the distance between them and from their initializations.
 */
import { Command } from 'commander';
import * as T from '../tensor/index.js';
import { buildModel } from '../nn/index.js';
import { distanceFromInitial, loadCheckpoint } from '../train/index.js';
import { alphaGrid, interpolate, parameterDistance, type BatchNormAlongPath } from '../measure/index.js';
import { UsageError } from './errors.js';
import { positiveFlag as positive, seedFlag } from './flags.js';
import { common, objectiveOptions, output, range, withCheckpoint, type CommonFlags } from './measure-checkpoint.js';

export function interpolateCommand(): Command {
  return common(new Command('interpolate'))
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
    });
}
