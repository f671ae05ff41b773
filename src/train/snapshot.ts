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
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../tensor/index.js';
import { loadSafetensors, saveSafetensors, type Module } from '../nn/index.js';
import type { Optimizer } from '../optim/index.js';
import type { BatchScheduleState, DynamicBatch } from './batch-schedule.js';
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
function withPrefix(tensors: ReadonlyMap<string, T.Tensor>, prefix: string): Map<string, T.Tensor> {
  return new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

/** A sampler whose position a snapshot keeps (a permutation and the place in it). */
export interface SnapshotSampler {
  state(): { order?: T.Tensor; position: number };
  restore(state: { order?: T.Tensor; position: number }): void;
}

/** What a training run changes as it goes: the parts a snapshot saves and restores. */
export interface TrainingParts {
  model: Module;
  optimizer: Optimizer;
  generators: Record<string, T.Generator>;
  samplers: Record<string, object | undefined>;
  schedule?: DynamicBatch;
  /** The initial weights (kept for the distance from initialization; DIR/initial.safetensors), when the run saves. */
  initial?: Map<string, T.Tensor>;
}

/** Where a run is: what snapshot.json records besides the tensors. */
export interface TrainingProgress<H> {
  step: number;
  examples: number;
  seconds: number;
  history: H;
}

const isSnapshotSampler = (s: object | undefined): s is SnapshotSampler => s !== undefined && 'state' in s && 'restore' in s;

/** Writes DIR/initial.safetensors (at the start of a run that takes snapshots: a resumed run reads them back). */
export function saveInitialWeights(dir: string, initial: ReadonlyMap<string, T.Tensor>): void {
  mkdirSync(dir, { recursive: true });
  saveSafetensors(join(dir, 'initial.safetensors'), initial, { format: 'sgdlab-initial-weights-v1', step: '0' });
}

export function saveTrainingSnapshot<H>(dir: string, config: TrainConfig, parts: TrainingParts, progress: TrainingProgress<H>): void {
  T.tidy(() => {
    const tensors = new Map<string, T.Tensor>();
    for (const [k, v] of parts.model.stateDict()) tensors.set(`model.${k}`, v);
    for (const [k, v] of parts.optimizer.state()) tensors.set(`optimizer.${k}`, v);
    for (const [name, g] of Object.entries(parts.generators)) tensors.set(`generator.${name}`, g.getState());
    const samplerPositions: Record<string, number> = {};
    for (const [name, sampler] of Object.entries(parts.samplers)) {
      if (!isSnapshotSampler(sampler)) continue;
      const st = sampler.state();
      if (st.order) tensors.set(`sampler.${name}.order`, st.order);
      samplerPositions[name] = st.position;
    }
    saveSnapshot(dir, tensors, { ...progress, samplerPositions, ...(parts.schedule ? { batchSchedule: parts.schedule.state() } : {}), config });
  });
}

/** Restores the parts from DIR's snapshot and returns where the run was; undefined when there is no snapshot. */
export function restoreTrainingSnapshot<H>(dir: string, config: TrainConfig, parts: TrainingParts): TrainingProgress<H> | undefined {
  const snapshot = loadSnapshot<H>(dir, config);
  if (!snapshot) return undefined;
  const { tensors, meta } = snapshot;
  try {
    parts.model.loadStateDict(withPrefix(tensors, 'model.'));
    parts.optimizer.loadState(withPrefix(tensors, 'optimizer.'));
    for (const [name, g] of Object.entries(parts.generators)) {
      const state = tensors.get(`generator.${name}`);
      if (!state) throw new Error(`snapshot in ${dir} has no state for the ${name} generator`);
      g.setState(state);
    }
    for (const [name, sampler] of Object.entries(parts.samplers)) {
      if (isSnapshotSampler(sampler)) sampler.restore({ order: tensors.get(`sampler.${name}.order`), position: meta.samplerPositions[name] ?? 0 });
    }
    if (parts.schedule && meta.batchSchedule) parts.schedule.restore(meta.batchSchedule);
    const initial = loadSafetensors(join(dir, 'initial.safetensors'));
    T.noGrad(() => initial.tensors.forEach((v, k) => parts.initial?.get(k)?.copy_(v)));
    T.dispose([...initial.tensors.values()]);
  } finally {
    T.dispose([...tensors.values()]);
  }
  return { step: meta.step, examples: meta.examples, seconds: meta.seconds, history: meta.history };
}
