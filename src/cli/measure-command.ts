/**
 * `sgdlab measure hessian|sharpness|noise|landscape|interpolate|robustness --checkpoint PATH …`: measurements
 * of a saved model on its own training data (the checkpoint's data spec and preprocessing), or --dataset.
 * --subset N uses the first N examples of the split. Prints a summary, or JSON with --json. Each
 * subcommand in a module of its own (hessian-command.ts, …); their shared flags in measure-checkpoint.ts.
 *
 *   sgdlab measure hessian --checkpoint runs/f1 --top-k 3 --json  →  { "eigenvalues": [...], "hvps": n, … }
 *   sgdlab measure sharpness --checkpoint runs/f1 --epsilon 1e-3 [--subspace 100] --json  →  { "phi": x, "iterations": n, … }
 *   sgdlab measure noise --checkpoint runs/f1 --json  →  { "gradNormSq", "traceSigma", "bSimple", "varianceByBatchSize": [...] }
 */
import { Command } from 'commander';
import { hessianCommand } from './hessian-command.js';
import { sharpnessCommand } from './sharpness-command.js';
import { noiseCommand } from './noise-command.js';
import { landscapeCommand } from './landscape-command.js';
import { interpolateCommand } from './interpolate-command.js';
import { robustnessCommand } from './robustness-command.js';

export function measureCommand(): Command {
  const measure = new Command('measure').description('measure a checkpoint: Hessian spectrum, sharpness, gradient noise, interpolation');
  for (const c of [hessianCommand(), sharpnessCommand(), noiseCommand(), landscapeCommand(), interpolateCommand(), robustnessCommand()]) measure.addCommand(c);
  return measure;
}
