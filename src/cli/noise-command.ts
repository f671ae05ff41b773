/**
 * `sgdlab measure noise --checkpoint PATH [--monte-carlo K] [--b-noise K] [--covariance-top-k K] [--alignment]`:
 * the gradient noise of a checkpoint: ‖G‖², tr Σ, B_simple and the minibatch variance for every b.
 *
 *   sgdlab measure noise --checkpoint runs/f1 --json  →  { "gradNormSq", "traceSigma", "bSimple", "varianceByBatchSize": [...] }
 */
import { Command } from 'commander';
import * as T from '../tensor/index.js';
import { Objective, noiseCovarianceTopEigenvalues, noiseHessianAlignment, noiseScaleBNoise, noiseStatistics } from '../measure/index.js';
import { positiveFlag as positive, seedFlag } from './flags.js';
import { common, output, withCheckpoint, type CommonFlags } from './measure-checkpoint.js';

export function noiseCommand(): Command {
  return common(new Command('noise'))
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
    });
}
