/**
 * Datasets as tensors in memory: x [N, ...inputShape] float32, y [N] (int64 class labels, or
 * float32 [N, outputs] regression targets). Everything later selects minibatches by index.
 */
import * as T from '../tensor/index.js';

export interface TensorDataset {
  readonly x: T.Tensor;
  readonly y: T.Tensor;
  /** Shape of one example. */
  readonly inputShape: readonly number[];
  /** Number of classes (classification), or undefined for regression. */
  readonly numClasses: number | undefined;
  /** Output dimension of regression targets (y is [N, outputs]). */
  readonly outputs: number;
}

export interface DataSplits {
  /** Identifies the data (name and options), recorded with every run. */
  readonly description: string;
  readonly train: TensorDataset;
  readonly validation?: TensorDataset;
  readonly test: TensorDataset;
  /** Synthetic data can draw fresh training examples for every step (online SGD). */
  readonly fresh?: (n: number, g: T.Generator) => { x: T.Tensor; y: T.Tensor };
  /** Per-channel normalization applied to x, if any (mean, std). */
  readonly normalization?: { mean: number[]; std: number[] };
  /** The range of the raw inputs before normalization, where there is one (image pixels: [0, 1]). */
  readonly inputRange?: { low: number; high: number };
}

/** The normalization as applied (x − mean)/std, per channel; a zero std divides by 1 (registry.ts). */
export function appliedNormalization(s: DataSplits): { mean: number[]; std: number[] } | undefined {
  return s.normalization ? { mean: s.normalization.mean, std: s.normalization.std.map((v) => (v > 0 ? v : 1)) } : undefined;
}

/** Per channel, the value that a raw input value takes after the data's normalization (the value itself without one). */
export function normalizedValue(s: DataSplits, raw: number): number[] {
  const n = appliedNormalization(s);
  return n ? n.mean.map((m, i) => (raw - m) / n.std[i]!) : [raw];
}

export function size(d: TensorDataset): number {
  return d.x.shape[0]!;
}

/** A dataset whose tensors are kept (outside every tidy scope) and freed by disposeSplits. */
export function makeDataset(x: T.Tensor, y: T.Tensor, numClasses: number | undefined): TensorDataset {
  if (x.shape[0] !== y.shape[0]) throw new Error(`dataset: ${x.shape[0]} inputs but ${y.shape[0]} targets`);
  return {
    x: T.keep(x),
    y: T.keep(y),
    inputShape: x.shape.slice(1),
    numClasses,
    outputs: numClasses ?? (y.rank > 1 ? y.shape[1]! : 1),
  };
}

/** The examples at the given indices (an int64 tensor). */
export function take(d: TensorDataset, indices: T.Tensor): { x: T.Tensor; y: T.Tensor } {
  // Samplers draw their indices on the CPU (seeded generators); data on a GPU needs them there.
  const at = T.isOnDevice(indices, T.deviceOf(d.x)) ? indices : indices.to({ device: T.deviceOf(d.x) });
  return { x: d.x.indexSelect(0, at), y: d.y.indexSelect(0, at) };
}

export function disposeSplits(s: DataSplits): void {
  for (const d of [s.train, s.validation, s.test]) if (d) T.dispose([d.x, d.y]);
}

/**
 * The splits with every tensor on `device`: `s` itself when they all are there already (nothing is
 * copied, e.g. on the CPU), else a copy there, freed by disposeSplits independently of `s`. Fresh
 * draws keep coming from the CPU's seeded generators and are moved, so a seed draws the same
 * examples on any device.
 */
export function splitsOnDevice(s: DataSplits, device: T.Device): DataSplits {
  const sets = [s.train, s.validation, s.test].filter((d): d is TensorDataset => d !== undefined);
  if (sets.every((d) => T.isOnDevice(d.x, device) && T.isOnDevice(d.y, device))) return s;
  const move = (d: TensorDataset): TensorDataset => makeDataset(d.x.to({ device }), d.y.to({ device }), d.numClasses);
  const fresh = s.fresh;
  return {
    ...s,
    train: move(s.train),
    ...(s.validation ? { validation: move(s.validation) } : {}),
    test: move(s.test),
    ...(fresh ? { fresh: (n: number, g: T.Generator) => T.tidy(() => { const b = fresh(n, g); return { x: b.x.to({ device }), y: b.y.to({ device }) }; }) } : {}),
  };
}
