/**
 * What a training run reports and the hooks it calls: its result, the evaluations and step metrics in
 * its history, what a hook sees. Types only, in a module of their own so that the trainer and what ends
 * a paused run (paused-run.ts, which the trainer imports) can both name them without an import circle.
 */
import type { DataSplits } from '../data/index.js';
import type { Module } from '../nn/index.js';
import type { LossLevelRecord } from './checkpoint-levels.js';
import type { TrainConfig } from './config.js';
import type { Evaluation } from './evaluate.js';
import type { PlateauRecord } from './plateau.js';
import type { RunRecord } from './record.js';

export interface StepMetrics {
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
  /** Examples in the step's batch. */
  batchSize: number;
  /** The adaptive batch schedule's norm-test ratio ‖Var‖₁/(|B|·‖ĝ‖²), at the steps it ran. */
  normTest?: number;
}

export interface EvalRecord {
  step: number;
  epoch: number;
  train: Evaluation;
  validation?: Evaluation;
  test: Evaluation;
}

export interface TrainResult {
  status: 'completed' | 'diverged';
  /** Why a diverged run stopped. */
  reason?: string;
  steps: number;
  epochs: number;
  /** The configured batch size (the first batch of a batch schedule). */
  batchSize: number;
  /** Training examples drawn in all. */
  examples: number;
  /** With a batch schedule: the largest batch it reached and every change (first step at the new size). */
  batchSchedule?: { largestBatchSize: number; changes: { step: number; batchSize: number }[] };
  /** Learning rate after the scaling rule, before the schedule. */
  baseLr: number;
  seconds: number;
  samplesPerSecond: number;
  train: Evaluation;
  validation?: Evaluation;
  test: Evaluation;
  history: { steps: StepMetrics[]; evals: EvalRecord[] };
  checkpoint?: string;
  /** The first evaluations below each level of config.checkpointAt (and their checkpoints). */
  lossLevels?: LossLevelRecord[];
  /** Why the run ended before its budget (config.stopAt). */
  stopped?: string;
  /** With config.stopAt, a completed run's end: the budget, or the stopAt rule that ended it first. */
  stoppedBy?: StoppedBy;
  /** With config.stopAt.plateau: the losses the rule compared, the best and the checks since it. */
  plateau?: PlateauRecord;
  /** ‖θ − θ₀‖ at the end (when the initial weights are kept: save or checkpointAt). */
  distanceFromInitial?: number;
  numParameters: number;
  data: string;
  config: TrainConfig;
  record: RunRecord;
}

/** What ended a completed run: its budget, or a stopAt rule before it. */
export type StoppedBy = 'budget' | 'trainLoss' | 'plateau';

export interface StepContext {
  step: number;
  epoch: number;
  metrics: StepMetrics;
  model: Module;
  data: DataSplits;
}

export interface TrainHooks {
  /** After every optimizer step (measurements during training). */
  onStep?(ctx: StepContext): void;
  /** After every evaluation. */
  onEval?(record: EvalRecord, model: Module): void;
  /** For progress bars: steps done of the total, latest loss, throughput. */
  onProgress?(p: { step: number; totalSteps: number; loss: number; samplesPerSecond: number }): void;
  /**
   * After a step (and its progress): true ends the run there as if its budget were done (the final
   * evaluation, the checkpoint) after writing a training snapshot into config.save, so that a later
   * `train(config, { resume: true })` continues as if it had never stopped: how a study evaluates a
   * trial at the rungs of its pruning rule (study/prune-trial.ts, through trainPausable, whose pause
   * evaluates only the splits the rule reads). Not asked after the last step.
   */
  pauseAfter?(p: { step: number; epoch: number; totalSteps: number }): boolean;
}
