/**
 * A run paused with only part of its evaluation: how a study's pruning rule looks at a trial at its
 * rungs (study/prune-trial.ts) without evaluating the splits the rule does not read. A rung's decision
 * needs one number (say the test accuracy), and most rungs say "continue", where the rest of a full
 * evaluation (the whole training set, the validation set) would be thrown away. The trainer
 * (trainPausable) ends such a pause with a PausedRun: the pause's snapshot is written (the resumed
 * run is bit for bit the run never paused), the asked splits evaluated, and everything of the result
 * that does not depend on the evaluation kept; completePause evaluates the other splits with the
 * paused model and gives exactly the TrainResult a full-evaluation pause (train with pauseAfter) gives,
 * checkpoint included. The evaluation of a split does not depend on which others were evaluated or in
 * what order (evaluation mode, no random draws), so the numbers are the same.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import * as T from '../tensor/index.js';
import { disposeSplits, splitsOnDevice, type DataSplits } from '../data/index.js';
import { saveSafetensors, type LossName, type Module } from '../nn/index.js';
import { saveCheckpoint, type CheckpointSidecar } from './checkpoint.js';
import { configDevice, type TrainConfig } from './config.js';
import { evaluate, type Evaluation } from './evaluate.js';
import type { EvalRecord, TrainHooks, TrainResult } from './run-types.js';

/** The splits a run is evaluated on. */
export const SPLITS = ['train', 'validation', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** An evaluation at a step of some splits: a split not evaluated is absent (never a placeholder). */
export type PartialEvalRecord = Pick<EvalRecord, 'step' | 'epoch'> & Partial<Pick<EvalRecord, Split>>;

/** A TrainResult's fields before its evaluation (status … samplesPerSecond), in the order a result lists them. */
export type ResultHead = Pick<TrainResult, 'status' | 'reason' | 'steps' | 'epochs' | 'batchSize' | 'examples' | 'batchSchedule' | 'baseLr' | 'seconds' | 'samplesPerSecond'>;
/** A TrainResult's fields after its history (lossLevels … record), in the order a result lists them. */
export type ResultTail = Pick<TrainResult, 'lossLevels' | 'distanceFromInitial' | 'stopped' | 'stoppedBy' | 'plateau' | 'numParameters' | 'data' | 'config' | 'record'>;

/** A result from its parts (the trainer's finish and completePause: one place, so both list the fields in the same order). */
export function assembleResult(head: ResultHead, final: EvalRecord, history: TrainResult['history'], tail: ResultTail): TrainResult {
  return { ...head, train: final.train, ...(final.validation ? { validation: final.validation } : {}), test: final.test, history, ...tail };
}

/** A checkpoint's description but its metrics (the evaluation at its step). */
export type CheckpointDescription = Omit<CheckpointSidecar, 'metrics'>;

/** The checkpoint of a run's end: its description, its status and the final evaluation (train, test, validation), in the sidecar's order. */
export function saveFinalCheckpoint(dir: string, model: Module, described: CheckpointDescription, status: TrainResult['status'], final: EvalRecord): string {
  const { batchSchedule, ...head } = described;
  return saveCheckpoint(dir, model, {
    ...head,
    metrics: { status, train: final.train, test: final.test, ...(final.validation ? { validation: final.validation } : {}) },
    ...(batchSchedule ? { batchSchedule } : {}),
  });
}

/** The initial weights beside a checkpoint (DIR/initial.safetensors: ‖θ − θ₀‖, and what a resumed run reads back). */
export function saveInitial(dir: string, initial: ReadonlyMap<string, T.Tensor>): void {
  mkdirSync(dir, { recursive: true });
  saveSafetensors(join(dir, 'initial.safetensors'), initial, { format: 'sgdlab-initial-weights-v1', step: '0' });
}

/** How a run evaluates: its loss, and the chunk size of config.eval. */
export interface EvaluationSetup {
  model: Module;
  data: DataSplits;
  loss: LossName;
  batchSize: number | undefined;
}

/** One split on the whole of it (the final evaluation's; the periodic one may limit the training set: trainer.ts). A split the data lack is undefined. */
export function evaluateSplit(s: EvaluationSetup, split: Split): Evaluation | undefined {
  const d = s.data[split];
  return d && evaluate(s.model, d, s.loss, { batchSize: s.batchSize });
}

/** `done` with the splits in `splits` it lacks evaluated (those the data have), in the order train, validation, test. */
export function evaluateSplits(s: EvaluationSetup, splits: Iterable<Split>, done: PartialEvalRecord): PartialEvalRecord {
  const wanted = new Set(splits);
  const out: PartialEvalRecord = { ...done };
  for (const split of SPLITS) {
    if (!wanted.has(split) || out[split] !== undefined) continue;
    const e = evaluateSplit(s, split);
    if (e) out[split] = e;
  }
  return out;
}

/** A run the trainer ended at a pause (trainPausable) with only the splits it was asked for evaluated. */
export interface PausedRun {
  /** The result's fields before the evaluation; `steps` is the step it paused after. */
  head: ResultHead;
  tail: ResultTail;
  /** The history up to the pause, without the pause's evaluation. */
  history: TrainResult['history'];
  /** The evaluation at the pause: the splits asked for (and train and test when the run keeps loss-level checkpoints, which read them). */
  evaluation: PartialEvalRecord;
  /** The model at the pause; the caller's (dispose it). */
  model: Module;
  loss: LossName;
  /** With config.save: the checkpoint to write once the evaluation is complete (a run resumed from the snapshot writes its own at its end). */
  checkpoint: CheckpointDescription | undefined;
}

/** The whole evaluation: a record with train and test (and validation when the data have it), or an error naming what is missing. */
function wholeRecord(e: PartialEvalRecord, hasValidation: boolean): EvalRecord {
  const { train, validation, test } = e;
  if (!train || !test || (hasValidation && !validation)) {
    throw new Error(`completePause: the evaluation at step ${e.step} lacks ${SPLITS.filter((s) => e[s] === undefined).join(', ')}`);
  }
  return { step: e.step, epoch: e.epoch, train, ...(validation ? { validation } : {}), test };
}

/**
 * The paused run's TrainResult, as a pause with the full evaluation gives it: the splits not evaluated
 * at the pause are evaluated now with the paused model on `data` (the data it was trained on, as given
 * to the trainer); the evaluation is added to the history and goes to hooks.onEval; with config.save
 * the checkpoint is written (its metrics the whole evaluation). The model stays the caller's.
 */
export function completePause(paused: PausedRun, data: DataSplits, hooks: Pick<TrainHooks, 'onEval'> = {}): TrainResult {
  const config: TrainConfig = paused.tail.config;
  if (data.description !== paused.tail.data) {
    throw new Error(`completePause: data: the run was trained on '${paused.tail.data}', not '${data.description}'`);
  }
  const onDevice = splitsOnDevice(data, configDevice(config));
  let final: EvalRecord;
  try {
    const setup = { model: paused.model, data: onDevice, loss: paused.loss, batchSize: config.eval.batchSize };
    final = wholeRecord(evaluateSplits(setup, SPLITS, paused.evaluation), onDevice.validation !== undefined);
  } finally {
    if (onDevice !== data) disposeSplits(onDevice);
  }
  const history = { steps: paused.history.steps, evals: [...paused.history.evals, final] };
  hooks.onEval?.(final, paused.model);
  const result = assembleResult(paused.head, final, history, paused.tail);
  if (paused.checkpoint) result.checkpoint = saveFinalCheckpoint(config.save!, paused.model, paused.checkpoint, paused.head.status, final);
  return result;
}
