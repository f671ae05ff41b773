/** Batch-norm conventions of an evaluation: by the batch's statistics (running ones untouched) or by the running ones. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { BatchNorm, Dropout, Sequential, inBatchNormConvention } from './index.js';

// Per feature: values over the batch, running mean 0.5 and variance 4, γ = 2, β = −1, eps 1e-5.
const X = [[1, 10], [3, 20], [8, 60]];
const EPS = 1e-5;

/** y = γ(x − m)/√(v + eps) + β for feature j, computed in plain float64 (an independent computation). */
const normalize = (j: number, m: number, v: number) => X.map((row) => (2 * (row[j]! - m)) / Math.sqrt(v + EPS) - 1);
const column = (j: number) => X.map((row) => row[j]!);
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const biasedVariance = (a: number[]) => mean(a.map((v) => (v - mean(a)) ** 2));

function layer(): BatchNorm {
  const bn = new BatchNorm(2, { eps: EPS });
  T.noGrad(() => {
    bn.weight.fill_(2);
    bn.bias.fill_(-1);
    bn.runningMean.fill_(0.5);
    bn.runningVar.fill_(4);
    bn.numBatchesTracked.fill_(7);
  });
  return bn;
}

const columns = (y: T.Tensor) => [0, 1].map((j) => Array.from(y.select(1, j).data() as Float32Array));

test("'batch' normalizes by the batch's mean and biased variance and leaves the running statistics, their count, modes and convention as they were", () => {
  const bn = layer();
  const model = new Sequential([bn, new Dropout(0.5, new T.Generator(0))]);
  model.train();
  T.tidy(() => {
    const before = [bn.runningMean, bn.runningVar, bn.numBatchesTracked].map((b) => b.clone());
    const y = inBatchNormConvention(model, 'batch', () => model.forward(T.tensor(X)));
    // Dropout is off (evaluation mode): the output is batch norm's alone.
    columns(y).forEach((got, j) => normalize(j, mean(column(j)), biasedVariance(column(j))).forEach((want, i) => assert.ok(Math.abs(got[i]! - want) < 1e-5, `feature ${j} example ${i}: ${got[i]} vs ${want}`)));
    [bn.runningMean, bn.runningVar, bn.numBatchesTracked].forEach((b, k) => assert.deepEqual(b.toArray(), before[k]!.toArray(), `buffer ${k} changed`));
  });
  assert.equal(bn.evaluationStatistics, 'running');
  assert.deepEqual(model.modules().map((m) => m.training), [true, true, true]);
  model.dispose();
});

test("'running' normalizes by the running statistics, as evaluation mode", () => {
  const bn = layer();
  T.tidy(() => {
    const y = inBatchNormConvention(bn, 'running', () => bn.forward(T.tensor(X)));
    columns(y).forEach((got, j) => normalize(j, 0.5, 4).forEach((want, i) => assert.ok(Math.abs(got[i]! - want) < 1e-5 * Math.max(1, Math.abs(want)), `feature ${j} example ${i}: ${got[i]} vs ${want}`)));
  });
  assert.equal(bn.training, true);
  bn.dispose();
});

test('an unknown convention is an error naming it and the known ones', () => {
  const bn = layer();
  assert.throws(() => inBatchNormConvention(bn, 'train' as 'batch', () => 0), /^RangeError: batchNorm must be one of running, batch, got train$/);
  bn.dispose();
});
