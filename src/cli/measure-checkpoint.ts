/**
 * What the `sgdlab measure` subcommands share: the flags that name a checkpoint and the data to measure
 * on, loading both (and freeing them), --from/--to, and printing a result. Apart from measure-command.ts
 * so that each subcommand's module can use it without importing the command that registers it (no
 * import circle).
 */
import { Command } from 'commander';
import * as T from '../tensor/index.js';
import { disposeSplits, prepareData, splitsOnDevice, type DataSplits, type DatasetName, type TensorDataset } from '../data/index.js';
import { modelInfo, type Module } from '../nn/index.js';
import { loadCheckpoint, type CheckpointSidecar } from '../train/index.js';
import { UsageError } from './errors.js';
import { deviceFlag } from './device-flag.js';
import { numberFlag, positiveFlag as positive } from './flags.js';
import type { ObjectiveConvention, ObjectiveConventionOptions, SubspaceDistribution } from '../measure/index.js';

export interface CommonFlags {
  checkpoint: string;
  dataset?: string;
  dataDir?: string;
  subset?: string;
  split?: string;
  device?: string;
  json?: boolean;
}

/** The checkpoint's model and the data to measure on. */
function setup(flags: CommonFlags): { model: Module; sidecar: CheckpointSidecar; data: DataSplits; split: TensorDataset; n: number; loss: ReturnType<typeof modelInfo>['defaultLoss']; device: T.Device } {
  // The device of the measurement, not the one the checkpoint was trained on: checkpoints are portable.
  const device = deviceFlag(flags.device);
  const { model, sidecar } = loadCheckpoint(flags.checkpoint, { device });
  try {
    const spec = flags.dataset ? { name: flags.dataset as DatasetName, dir: flags.dataDir } : { ...sidecar.config.data, ...(flags.dataDir ? { dir: flags.dataDir } : {}) };
    const data = onDevice(prepareData(spec), device);
    const which = flags.split ?? 'train';
    if (which !== 'train' && which !== 'test') throw new UsageError(`--split: '${which}' must be train or test`);
    const split = which === 'train' ? data.train : data.test;
    const total = split.x.shape[0]!;
    const n = positive('subset', flags.subset, total);
    if (n > total) throw new UsageError(`--subset: ${n} exceeds the ${total} examples of the ${which} split`);
    if (split.inputShape.join() !== sidecar.io.inputShape.join()) {
      throw new UsageError(`--dataset: ${spec.name} has inputs of shape [${split.inputShape.join(', ')}] but the checkpoint's model takes [${sidecar.io.inputShape.join(', ')}]`);
    }
    return { model, sidecar, data, split, n, loss: sidecar.config.loss ?? modelInfo(sidecar.model.name).defaultLoss, device };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** The splits on `device`, the CPU copy freed once moved. */
function onDevice(data: DataSplits, device: T.Device): DataSplits {
  const moved = splitsOnDevice(data, device);
  if (moved !== data) disposeSplits(data);
  return moved;
}

/** Loads the checkpoint and its data, runs body, and frees them whatever happens. */
export function withCheckpoint(flags: CommonFlags, body: (s: ReturnType<typeof setup>) => void): void {
  const s = setup(flags);
  try {
    body(s);
  } finally {
    s.model.dispose();
    disposeSplits(s.data);
  }
}

/** --from/--to of a path or slice: two numbers, from < to. */
export function range(flags: { from?: string; to?: string }, from: number, to: number): { from: number; to: number } {
  const r = { from: flags.from === undefined ? from : numberFlag('from', flags.from), to: flags.to === undefined ? to : numberFlag('to', flags.to) };
  if (r.from >= r.to) throw new UsageError(`--from/--to: need from < to, got ${r.from} and ${r.to}`);
  return r;
}

export function output(flags: { json?: boolean }, result: object, summary: string): void {
  process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${summary}\n`);
}

export const common = (c: Command) =>
  c.requiredOption('--checkpoint <path>', 'checkpoint directory (model.safetensors + model.json) or .safetensors file')
    .option('--dataset <name>', "measure on another dataset (default: the checkpoint's training data)")
    .option('--data-dir <dir>', 'directory of the dataset files')
    .option('--subset <n>', 'use the first n examples of the split')
    .option('--split <name>', 'train (default) or test')
    .option('--device <name>', "where to measure: cpu (default), cuda or cuda:K (the checkpoint may come from any device)")
    .option('--json', 'print JSON');


/** The objective's flags (measure/objective.ts): what f is at moved weights. */
export interface ObjectiveFlags {
  batchNorm?: string;
  batchNormBatch?: string;
  probabilityClip?: string;
}

/**
 * --batch-norm running|batch, --batch-norm-batch all|N, --probability-clip c: for the subcommands whose
 * measurement evaluates the objective at moved weights (hessian, sharpness). Not on interpolate, whose
 * --batch-norm says how running statistics are made along the path.
 */
export const objectiveFlags = (c: Command) =>
  c.option('--batch-norm <convention>', "batch norm by its running statistics (running, default: evaluation mode) or by those of the evaluated examples (batch: Keskar et al.'s convention)")
    .option('--batch-norm-batch <n>', 'with --batch-norm batch: all (default: the measured examples as one batch) or n, chunks of n examples each normalized by its own statistics')
    .option('--probability-clip <c>', "clip the predicted probability of the true class to [c, 1 − c] (Keras 1's categorical cross-entropy used 1e-7; default none)");

/** The objective's options from its flags; a bad value is a UsageError naming the flag. */
export function objectiveOptions(flags: ObjectiveFlags): Partial<ObjectiveConventionOptions> {
  const { batchNorm, batchNormBatch, probabilityClip } = flags;
  if (batchNorm !== undefined && batchNorm !== 'running' && batchNorm !== 'batch') throw new UsageError(`--batch-norm: '${batchNorm}' must be running or batch`);
  if (batchNormBatch !== undefined && batchNorm !== 'batch') throw new UsageError(`--batch-norm-batch: '${batchNormBatch}' needs --batch-norm batch`);
  const clip = probabilityClip === undefined ? undefined : numberFlag('probability-clip', probabilityClip);
  if (clip !== undefined && !(clip > 0 && clip < 0.5)) throw new UsageError(`--probability-clip: '${probabilityClip}' must be a number in (0, 0.5)`);
  return {
    ...(batchNorm === undefined ? {} : { batchNorm }),
    ...(batchNormBatch === undefined ? {} : { batchNormBatch: batchNormBatch === 'all' ? 'all' : positive('batch-norm-batch', batchNormBatch, 1) }),
    ...(clip === undefined ? {} : { probabilityClip: clip }),
  };
}

/** --subspace-distribution normal|uniform of sharpness's random subspace. */
export function subspaceDistributionFlag(value: string | undefined): SubspaceDistribution | undefined {
  if (value !== undefined && value !== 'normal' && value !== 'uniform') throw new UsageError(`--subspace-distribution: '${value}' must be normal or uniform`);
  return value;
}

/** A line for a summary when the objective is not the default one ('' for running statistics, no clipping). */
export function conventionNote(c: ObjectiveConvention): string {
  const bn = c.batchNorm === 'batch' ? `batch norm by the statistics of the evaluated examples (${c.batchNormBatch === 'all' ? 'all as one batch' : `in chunks of ${c.batchNormBatch}`})` : '';
  const clip = c.probabilityClip === null ? '' : `probabilities clipped to [${c.probabilityClip}, 1 − ${c.probabilityClip}]`;
  const parts = [bn, clip].filter((p) => p !== '');
  return parts.length === 0 ? '' : `\nobjective: ${parts.join('; ')}`;
}
