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

