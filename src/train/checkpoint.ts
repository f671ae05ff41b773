/**
 * Checkpoints: DIR/model.safetensors holds the state dict under PyTorch's names (so
 * `model.load_state_dict(safetensors.torch.load_file(...))` works on the same nn.Sequential), and
 * DIR/model.json says what it is: the model spec and input/output shape (enough to rebuild the
 * model), the step, the resolved configuration, and the run record.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as T from '../tensor/index.js';
import { buildModel, loadSafetensors, saveSafetensors, type Module, type ModelIO, type ModelSpec } from '../nn/index.js';
import type { BatchScheduleState } from './batch-schedule.js';
import type { TrainConfig } from './config.js';
import type { RunRecord } from './record.js';

export const CHECKPOINT_FORMAT = 'sgdlab-checkpoint-v1';

export interface CheckpointSidecar {
  format: typeof CHECKPOINT_FORMAT;
  model: ModelSpec;
  io: ModelIO;
  step: number;
  epoch: number;
  config: TrainConfig;
  record: RunRecord;
  /** Metrics at the time of saving. */
  metrics?: Record<string, unknown>;
  /** A batch schedule's state at the time of saving (batch-schedule.ts). */
  batchSchedule?: BatchScheduleState;
}

export function saveCheckpoint(dir: string, model: Module, sidecar: CheckpointSidecar): string {
  mkdirSync(dir, { recursive: true });
  const weights = join(dir, 'model.safetensors');
  saveSafetensors(weights, model.stateDict(), { format: CHECKPOINT_FORMAT, model: JSON.stringify(sidecar.model), step: String(sidecar.step) });
  const tmp = join(dir, `model.json.tmp-${process.pid}`);
  writeFileSync(tmp, `${JSON.stringify(sidecar, null, 2)}\n`);
  renameSync(tmp, join(dir, 'model.json'));
  return weights;
}

/** Where the sidecar of a checkpoint lives: DIR/model.json for DIR or DIR/model.safetensors. */
function paths(path: string): { weights: string; sidecar: string } {
  if (path.endsWith('.safetensors')) return { weights: path, sidecar: path.replace(/\.safetensors$/, '.json') };
  return { weights: join(path, 'model.safetensors'), sidecar: join(path, 'model.json') };
}

export function readSidecar(path: string): CheckpointSidecar {
  const { sidecar } = paths(path);
  if (!existsSync(sidecar)) throw new Error(`checkpoint ${path}: no sidecar ${sidecar} (a checkpoint is model.safetensors with model.json next to it)`);
  let parsed: CheckpointSidecar;
  try {
    parsed = JSON.parse(readFileSync(sidecar, 'utf8')) as CheckpointSidecar;
  } catch (error) {
    throw new Error(`checkpoint ${path}: ${sidecar} is not valid JSON (${(error as Error).message})`);
  }
  if (parsed.format !== CHECKPOINT_FORMAT) throw new Error(`checkpoint ${path}: format ${JSON.stringify(parsed.format)} is not ${CHECKPOINT_FORMAT}`);
  if (!parsed.model?.name || !Array.isArray(parsed.io?.inputShape)) throw new Error(`checkpoint ${path}: the sidecar lacks the model spec or its input shape`);
  return parsed;
}

/** ‖θ − θ₀‖ over the model's parameters, θ₀ given by name (e.g. the initial weights); `source` names them in errors. */
export function distanceFromWeights(model: Module, weights: ReadonlyMap<string, T.Tensor>, source: string): number {
  return T.tidy(() => T.listNorm(model.namedParameters().map(([name, p]) => {
    const p0 = weights.get(name);
    if (!p0) throw new Error(`${source} has no '${name}'`);
    // Weights read from a file are on the CPU; the model may be on a GPU.
    return p.detach().sub(T.isOnDevice(p0, T.deviceOf(p)) ? p0 : p0.to({ device: T.deviceOf(p) }));
  })).item());
}

/**
 * ‖θ − θ₀‖ over the parameters, θ₀ the initial weights saved next to a checkpoint by the trainer
 * (DIR/initial.safetensors); undefined when the checkpoint has none.
 */
export function distanceFromInitial(path: string, model: Module): number | undefined {
  const dir = path.endsWith('.safetensors') ? dirname(path) : path;
  const file = join(dir, 'initial.safetensors');
  if (!existsSync(file)) return undefined;
  const initial = loadSafetensors(file);
  try {
    return distanceFromWeights(model, initial.tensors, file);
  } finally {
    T.dispose([...initial.tensors.values()]);
  }
}

/**
 * Rebuilds the model a checkpoint describes and loads its weights, on `device` (default the CPU,
 * whatever device it was trained on: the file holds CPU copies); names every mismatch.
 */
export function loadCheckpoint(path: string, options: { device?: T.Device } = {}): { model: Module; sidecar: CheckpointSidecar } {
  const sidecar = readSidecar(path);
  const { weights } = paths(path);
  const model = buildModel(sidecar.model, sidecar.io, new T.Generator(0)).to(options.device ?? 'cpu');
  const file = loadSafetensors(weights);
  try {
    model.loadStateDict(file.tensors);
  } catch (error) {
    model.dispose();
    throw new Error(`checkpoint ${path}: the weights do not match the model spec ${JSON.stringify(sidecar.model)}: ${(error as Error).message}`);
  } finally {
    T.dispose([...file.tensors.values()]);
  }
  return { model, sidecar };
}
