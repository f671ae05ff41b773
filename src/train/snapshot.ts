/**
 * Resumable snapshots of a training run: everything the loop changes, so that a run stopped after a
 * snapshot and resumed continues bit for bit as if it had never stopped (same machine, same build).
 *   DIR/snapshot.safetensors — model.* (the state dict), optimizer.* (its state), generator.* (the engine
 *     state of every seeded stream: model/dropout, sampling, augmentation, fresh data, attacks) and
 *     sampler.*.order (the current permutation of each sampler);
 *   DIR/snapshot.json — the step, examples seen, seconds spent, the samplers' positions, the batch
 *     schedule's state, the history so far, and the resolved configuration it belongs to.
 * Both are written atomically (snapshot.json last, so a snapshot.json always describes a complete file).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../tensor/index.js';
import { loadSafetensors, saveSafetensors } from '../nn/index.js';
import type { BatchScheduleState } from './batch-schedule.js';
import type { TrainConfig } from './config.js';

export const SNAPSHOT_FORMAT = 'sgdlab-training-state-v1';

export interface SnapshotMeta<H = unknown> {
  format: typeof SNAPSHOT_FORMAT;
  step: number;
  examples: number;
  seconds: number;
  samplerPositions: Record<string, number>;
  batchSchedule?: BatchScheduleState;
  history: H;
  config: TrainConfig;
}

export function saveSnapshot<H>(dir: string, tensors: ReadonlyMap<string, T.Tensor>, meta: Omit<SnapshotMeta<H>, 'format'>): void {
  saveSafetensors(join(dir, 'snapshot.safetensors'), tensors, { format: SNAPSHOT_FORMAT, step: String(meta.step) });
  const tmp = join(dir, `snapshot.json.tmp-${process.pid}`);
  writeFileSync(tmp, JSON.stringify({ format: SNAPSHOT_FORMAT, ...meta }));
  renameSync(tmp, join(dir, 'snapshot.json'));
}

/**
 * The snapshot in dir, if there is one; it must have been written by the same configuration (a resumed
 * run that changed its configuration would be neither run). The tensors belong to the caller.
 */
export function loadSnapshot<H>(dir: string, config: TrainConfig): { tensors: Map<string, T.Tensor>; meta: SnapshotMeta<H> } | undefined {
  const path = join(dir, 'snapshot.json');
  if (!existsSync(path)) return undefined;
  let meta: SnapshotMeta<H>;
  try {
    meta = JSON.parse(readFileSync(path, 'utf8')) as SnapshotMeta<H>;
  } catch (error) {
    throw new Error(`snapshot ${path} is not valid JSON (${(error as Error).message})`);
  }
  if (meta.format !== SNAPSHOT_FORMAT) throw new Error(`snapshot ${path}: format ${JSON.stringify(meta.format)} is not ${SNAPSHOT_FORMAT}`);
  // Both are parsed configurations, whose keys come in the schema's order: their JSON compares field by field.
  const differing = Object.keys({ ...meta.config, ...config }).filter((k) => JSON.stringify((meta.config as Record<string, unknown>)[k]) !== JSON.stringify((config as Record<string, unknown>)[k]));
  if (differing.length > 0) throw new Error(`snapshot ${path} was written by another configuration (it differs in ${differing.join(', ')}); resume with the same configuration or remove the snapshot`);
  const file = loadSafetensors(join(dir, 'snapshot.safetensors'));
  return { tensors: file.tensors, meta };
}

/** The entries of a snapshot under a prefix, with the prefix removed. */
export function withPrefix(tensors: ReadonlyMap<string, T.Tensor>, prefix: string): Map<string, T.Tensor> {
  return new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}
