/**
 * Checkpoints at training-loss levels: the model saved the first time the training loss at an
 * evaluation falls below each level (`checkpointAt: { trainLoss: [0.1, 0.03, 0.01, 0.003, 0.001] }`).
 * Sharpness shrinks as the loss goes to zero (softmax saturation), so minima of different batch
 * sizes are comparable only at equal training loss (Keskar et al. 2017, Fig. 6; SCIENCE.md §1): these
 * checkpoints are what a study measures at each level. Several levels crossed at one evaluation each
 * get the same weights. Each level's folder (SAVE/loss-LEVEL) is a full checkpoint with the run's
 * initial weights beside it, so ‖θ − θ₀‖ and every measurement work on it as on a final checkpoint;
 * ‖θ − θ₀‖ is also recorded when the level is reached. Without a save folder the levels are recorded
 * (step, loss, distance) but nothing is written.
 */
import { join } from 'node:path';
import * as T from '../tensor/index.js';
import { saveSafetensors, type Module } from '../nn/index.js';
import { distanceFromWeights, saveCheckpoint, type CheckpointSidecar } from './checkpoint.js';
import type { Evaluation } from './evaluate.js';

export interface LossLevelRecord {
  level: number;
  step: number;
  epoch: number;
  /** The training loss at the evaluation that crossed the level, and on how many examples it was measured. */
  trainLoss: number;
  trainExamples: number;
  testAccuracy: number | null;
  distanceFromInitial: number;
  /** The checkpoint folder (absent without a save folder). */
  checkpoint?: string;
}

/** SAVE/loss-LEVEL: where the checkpoint of a level lives. */
export const lossLevelDir = (save: string, level: number) => join(save, `loss-${level}`);

export class LossLevelCheckpoints {
  readonly records: LossLevelRecord[] = [];
  private readonly pending: number[];

  /**
   * `initial`: the run's initial state dict (for ‖θ − θ₀‖ and to save beside each checkpoint);
   * `sidecar`: the checkpoint description at a step (the trainer's).
   */
  constructor(levels: readonly number[], private readonly save: string | undefined, private readonly initial: ReadonlyMap<string, T.Tensor>,
    private readonly sidecar: (step: number, epoch: number, metrics: Record<string, unknown>) => CheckpointSidecar) {
    this.pending = [...new Set(levels)].sort((a, b) => b - a);
  }

  /** A resumed run: the levels its snapshot says were crossed (their checkpoints are on disk) are not saved again. */
  restore(records: readonly LossLevelRecord[]): void {
    for (const r of records) {
      const i = this.pending.indexOf(r.level);
      if (i >= 0) this.pending.splice(i, 1);
      this.records.push(r);
    }
  }

  /** After an evaluation: saves the model for every level the training loss is now below. */
  observe(e: { step: number; epoch: number; train: Evaluation; test: Evaluation }, model: Module): void {
    const crossed = this.pending.filter((level) => e.train.loss < level);
    if (crossed.length === 0) return;
    const distance = distanceFromWeights(model, this.initial, 'the initial weights');
    for (const level of crossed) {
      this.pending.splice(this.pending.indexOf(level), 1);
      const record: LossLevelRecord = { level, step: e.step, epoch: e.epoch, trainLoss: e.train.loss, trainExamples: e.train.examples, testAccuracy: e.test.accuracy, distanceFromInitial: distance };
      if (this.save) {
        const dir = lossLevelDir(this.save, level);
        saveCheckpoint(dir, model, this.sidecar(e.step, e.epoch, { level, train: e.train, test: e.test, distanceFromInitial: distance }));
        saveSafetensors(join(dir, 'initial.safetensors'), this.initial, { format: 'sgdlab-initial-weights-v1', step: '0' });
        record.checkpoint = dir;
      }
      this.records.push(record);
    }
  }
}
