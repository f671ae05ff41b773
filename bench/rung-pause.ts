/**
 * What one rung pause of a pruned study costs a trial trained alone (issue 23): the sweep's MLP
 * 784–512–512–10 on 10,000 MNIST images at batch size B, one thread. A 2-epoch run paused once at the
 * end of epoch 1 and resumed to its end, against the same run never paused; the difference is the
 * pause's whole cost (snapshot, evaluation, checkpoint, building the run again and restoring it):
 *   full:    train() with pauseAfter (the whole training and test sets evaluated, a checkpoint written);
 *   partial: trainPausable with pauseEvaluates [test] (a testAccuracy rule's "continue" rung: nothing
 *            more evaluated, no checkpoint).
 * Also one evaluation of each split alone. Each a median of `--rounds` rounds.
 *
 *   node dist/bench/rung-pause.js [--batch-size=128] [--rounds=5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareData } from '../src/data/index.js';
import { setNumThreads } from '../src/tensor/index.js';
import { evaluate, parseTrainConfig, train, trainPausable, type TrainConfig } from '../src/train/index.js';
import { quantile } from './claims.js';

const flag = (name: string, fallback: number): number => {
  const arg = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  const value = arg === undefined ? fallback : Number(arg.slice(name.length + 3));
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name}: expected a positive integer, got ${arg}`);
  return value;
};
const batchSize = flag('batch-size', 128);
const rounds = flag('rounds', 5);

setNumThreads(1);
const SUBSET = 10_000;
const data = prepareData({ name: 'mnist', subset: SUBSET });
const stepsPerEpoch = Math.floor(SUBSET / batchSize);
const config = (save?: string): TrainConfig => parseTrainConfig({
  model: { name: 'mlp', widths: [512, 512] }, data: { name: 'mnist', subset: SUBSET }, optimizer: { name: 'sgd', lr: 0.1 },
  batchSize, budget: { epochs: 2 }, eval: { every: 1e9 }, seed: 0, ...(save ? { save } : {}),
});
const timed = (f: () => void): number => {
  const started = performance.now();
  f();
  return performance.now() - started;
};
const atEpoch1 = (p: { step: number }) => p.step === stepsPerEpoch;

/** A paused-then-resumed run in a fresh snapshot directory, ms. */
function pausedRun(pause: (c: TrainConfig) => void): number {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-rung-pause-'));
  try {
    const c = config(dir);
    return timed(() => {
      pause(c);
      train(c, { data, resume: true }).model.dispose();
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = { plain: [] as number[], full: [] as number[], partial: [] as number[], evalTrain: [] as number[], evalTest: [] as number[] };
for (let round = 0; round < rounds; round++) {
  const plain = timed(() => train(config(), { data }).model.dispose());
  const full = pausedRun((c) => train(c, { data, hooks: { pauseAfter: atEpoch1 } }).model.dispose());
  const partial = pausedRun((c) => {
    const end = trainPausable(c, { data, hooks: { pauseAfter: atEpoch1 }, pauseEvaluates: ['test'] });
    if (end.kind !== 'paused') throw new Error('the run did not pause at the end of epoch 1');
    end.paused.model.dispose();
  });
  const { model } = train({ ...config(), budget: { steps: 1 } }, { data });
  rows.evalTrain.push(timed(() => evaluate(model, data.train, 'cross-entropy', { batchSize: config().eval.batchSize })));
  rows.evalTest.push(timed(() => evaluate(model, data.test, 'cross-entropy', { batchSize: config().eval.batchSize })));
  model.dispose();
  rows.plain.push(plain);
  rows.full.push(full - plain);
  rows.partial.push(partial - plain);
}
const ms = (xs: number[]) => quantile(xs, 0.5).toFixed(0);
process.stdout.write(`rung pause, MLP 784-512-512-10, ${SUBSET} MNIST images, B = ${batchSize} (${stepsPerEpoch} steps an epoch), eval batch ${config().eval.batchSize}, median of ${rounds} rounds\n\n`
  + '| plain 2 epochs ms | full pause ms | partial pause (test only) ms | evaluation of the training set ms | of the test set ms |\n|---:|---:|---:|---:|---:|\n'
  + `| ${ms(rows.plain)} | ${ms(rows.full)} | ${ms(rows.partial)} | ${ms(rows.evalTrain)} | ${ms(rows.evalTest)} |\n`);
