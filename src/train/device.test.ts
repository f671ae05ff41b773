/**
 * Devices in configurations, on any machine: the names accepted, 'cpu' kept out of the resolved
 * configuration (trial keys unchanged), and, where there is no CUDA, the error a CUDA request gets
 * before any work. (CUDA against the CPU: the *.cuda.test.ts files.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../tensor/index.js';
import { buildModel } from '../nn/index.js';
import { checkStudyDevices, parseStudy, trialKey, workerCudaVisibleDevices, expandTrials } from '../study/index.js';
import { sgdlabCli } from '../study/testing.js';
import { ConfigError, parseTrainConfig, train, type TrainConfigInput } from './index.js';

const noCuda = T.cudaAvailable() ? 'this machine has a CUDA device (the no-CUDA error cannot happen here)' : false;

const config = (extra: Partial<TrainConfigInput> = {}): TrainConfigInput => ({
  model: { name: 'mlp', widths: [8] },
  // A data folder that does not exist: a run that got as far as loading data would fail differently.
  data: { name: 'mnist', dir: '/nonexistent/sgdlab-data' },
  optimizer: { name: 'sgd', lr: 0.1 },
  batchSize: 10,
  budget: { steps: 1 },
  ...extra,
});

test("device names: 'cpu', 'cuda' and 'cuda:K' are accepted, anything else is named with what is allowed", () => {
  for (const device of ['cuda', 'cuda:0', 'cuda:12'] as const) assert.equal(parseTrainConfig(config({ device })).device, device);
  for (const bad of ['gpu', 'CUDA', 'cuda:', 'cuda:01', 'cuda:-1', 'cpu:0', 3]) {
    assert.throws(() => parseTrainConfig(config({ device: bad as never })), (e: unknown) => e instanceof ConfigError && /device: expected 'cpu', 'cuda' or 'cuda:K' \(K a GPU index\) \(got .+\)/.test(e.message), String(bad));
  }
});

test("device: 'cpu' is the default and is left out of the resolved configuration, so CPU trial keys do not change", () => {
  const plain = parseTrainConfig(config());
  const explicit = parseTrainConfig(config({ device: 'cpu' }));
  assert.equal('device' in explicit, false);
  assert.deepEqual(explicit, plain);
  assert.equal(trialKey(explicit, 'v'), trialKey(plain, 'v'));
  assert.notEqual(trialKey(parseTrainConfig(config({ device: 'cuda' })), 'v'), trialKey(plain, 'v'));
});

test('without CUDA, asking for it is a configuration error before any work: the field, the value, what is allowed', { skip: noCuda }, () => {
  const version = T.libtorchVersion().replace(/\./g, '\\.');
  for (const device of ['cuda', 'cuda:1'] as const) {
    // The data folder does not exist: the device error comes first.
    assert.throws(() => train(parseTrainConfig(config({ device }))), (e: unknown) => e instanceof ConfigError &&
      new RegExp(`device: '${device}' was asked for but this libtorch \\(${version}, (CPU-only|built with CUDA)\\) sees no CUDA device; use 'cpu'`).test(e.message), device);
  }
});

test('sgdlab train --device cuda without CUDA stops with that message and exit code 2, before loading data', { skip: noCuda }, () => {
  const run = sgdlabCli('train', '--model', 'mlp', '--widths', '8', '--dataset', 'mnist', '--data-dir', '/nonexistent/sgdlab-data', '--steps', '1', '--device', 'cuda');
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /device: 'cuda' was asked for but this libtorch \(.+\) sees no CUDA device; use 'cpu'/);
  assert.doesNotMatch(run.stderr, /nonexistent/);
  const bad = sgdlabCli('train', '--device', 'gpu', '--steps', '1');
  assert.match(bad.stderr, /device: expected 'cpu', 'cuda' or 'cuda:K'/);
});

test('sgdlab measure --device cuda without CUDA names the flag before reading the checkpoint', { skip: noCuda }, () => {
  const run = sgdlabCli('measure', 'hessian', '--checkpoint', '/nonexistent/checkpoint', '--device', 'cuda');
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /--device: 'cuda' was asked for but this libtorch \(.+\) sees no CUDA device; use 'cpu'/);
  const bad = sgdlabCli('measure', 'hessian', '--checkpoint', '/nonexistent/checkpoint', '--device', 'gpu:0');
  assert.match(bad.stderr, /--device: 'gpu:0' must be 'cpu', 'cuda' or 'cuda:K'/);
});

test("a study's device becomes each trial's; the runner refuses a device the workers cannot have, before any worker starts", { skip: noCuda }, async () => {
  const study = parseStudy({ name: 's', base: config(), device: 'cuda', grid: { seed: [0, 1] } });
  const trials = expandTrials(study, 'v');
  assert.deepEqual(trials.map((t) => t.config.device), ['cuda', 'cuda']);
  await assert.rejects(checkStudyDevices('s', ['cuda'], undefined), /device: 'cuda' was asked for but this libtorch \(.+\) sees no CUDA device; use 'cpu'/);
  await assert.rejects(checkStudyDevices('s', ['cuda'], [0]), /--gpus: GPU 0 was asked for but this libtorch \(.+\) sees no CUDA device/);
  await assert.rejects(checkStudyDevices('s', ['cpu'], [0]), /device: 'cpu' trains on the CPU, but --gpus pins the workers to GPUs/);
  await checkStudyDevices('s', ['cpu'], undefined);
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-device-'));
  const file = join(dir, 's.yaml');
  writeFileSync(file, 'name: s\ndevice: cuda\nbase:\n  model: { name: mlp, widths: [8] }\n  data: { name: mnist, subset: 100 }\n  optimizer: { name: sgd, lr: 0.1 }\n  batchSize: 10\n  budget: { steps: 1 }\n');
  const run = sgdlabCli('run', file, '--db', join(dir, 's.db'), '--workers', '1');
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /device: 'cuda' was asked for but this libtorch \(.+\) sees no CUDA device; use 'cpu'/);
});

test('--gpus: worker i sees GPU gpus[i % n], an index among the GPUs this process sees', () => {
  assert.deepEqual([0, 1, 2, 3].map((i) => workerCudaVisibleDevices(i, [0, 1], undefined)), ['0', '1', '0', '1']);
  assert.deepEqual([0, 1].map((i) => workerCudaVisibleDevices(i, [1, 0], '4,5')), ['5', '4']);
  assert.equal(workerCudaVisibleDevices(0, undefined, '3'), undefined, 'without --gpus the environment is inherited as it is');
  const file = join(mkdtempSync(join(tmpdir(), 'sgdlab-device-')), 's.yaml');
  writeFileSync(file, 'name: s\nbase:\n  model: { name: mlp, widths: [8] }\n  data: { name: mnist, subset: 100 }\n  optimizer: { name: sgd, lr: 0.1 }\n  batchSize: 10\n  budget: { steps: 1 }\n');
  const bad = sgdlabCli('run', file, '--db', `${file}.db`, '--gpus', '0,x');
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--gpus: '0,x' must be distinct GPU indices separated by commas/);
});

test('Module.to the device it is on already changes nothing: the same tensors, no copies', () => {
  const model = buildModel({ name: 'mlp', widths: [4], batchNorm: true }, { inputShape: [3], outputs: 2 }, new T.Generator(0));
  const before = [...model.stateDict().values()];
  const live = T.memory().numTensors;
  model.to('cpu');
  assert.deepEqual([...model.stateDict().values()], before);
  assert.equal(T.memory().numTensors, live);
  model.dispose();
});
