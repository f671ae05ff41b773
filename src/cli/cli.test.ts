/** The sgdlab command as a user runs it: output, exit codes and error messages. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sgdlabCli } from '../study/testing.js';

const sgdlab = sgdlabCli;

test('sgdlab train --json prints the result with status, steps, train, test and checkpoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-cli-'));
  const run = sgdlab('train', '--model', 'keskar-f1', '--dataset', 'mnist', '--optimizer', 'adam', '--lr', '0.001', '--batch-size', '256',
    '--steps', '20', '--subset', '5120', '--seed', '0', '--save', dir, '--json');
  assert.equal(run.status, 0, run.stderr);
  const r = JSON.parse(run.stdout);
  assert.equal(r.status, 'completed');
  assert.equal(r.steps, 20);
  for (const split of ['train', 'test']) {
    assert.ok(Number.isFinite(r[split].loss) && r[split].loss > 0, `${split} loss ${r[split].loss}`);
    assert.ok(r[split].accuracy > 0.5 && r[split].accuracy <= 1, `${split} accuracy ${r[split].accuracy}`);
  }
  assert.equal(r.checkpoint, join(dir, 'model.safetensors'));
  assert.ok(existsSync(join(dir, 'model.json')));
  assert.equal(r.history.steps, undefined, 'per-step history only with --history');
  assert.equal(r.config.optimizer.name, 'adam');
  assert.equal(r.record.libtorchVersion.split('.')[0], '1');
});

test('a YAML file configures the run and flags override it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-cli-'));
  const file = join(dir, 'run.yaml');
  writeFileSync(file, 'model: {name: mlp, widths: [32]}\ndata: {name: mnist, subset: 1000}\noptimizer: {name: sgd, lr: 0.05, momentum: 0.9}\nbatchSize: 50\nbudget: {steps: 5}\n');
  const run = sgdlab('train', '--config', file, '--steps', '7', '--json');
  assert.equal(run.status, 0, run.stderr);
  const r = JSON.parse(run.stdout);
  assert.equal(r.steps, 7);
  assert.equal(r.batchSize, 50);
  assert.deepEqual(r.config.model, { name: 'mlp', widths: [32] });
});

test('without --json a summary is printed', () => {
  const run = sgdlab('train', '--model', 'mlp', '--widths', '16', '--subset', '500', '--batch-size', '50', '--steps', '3');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^completed — 3 steps \(0\.30 epochs\) of batch 50 in [\d.]+ s, \d+ samples\/s\n {2}train {2}loss [\d.]+ {2}accuracy [\d.]+%\n {2}test {3}loss/);
});

test('bad flags and files exit with status 2 and a message naming the field, the value and what is allowed', () => {
  const cases: [string[], RegExp][] = [
    [['train', '--lr', 'fast'], /^sgdlab: --lr: 'fast' is not a number\n$/],
    [['train', '--model', 'resnet'], /model\.name: Invalid option: expected one of "mlp"\|"keskar-f1".*\(got "resnet"\)/],
    [['train', '--optimizer', 'rmsprop'], /optimizer\.name: Invalid option: expected one of "sgd"\|"adam"\|"adamw" \(got "rmsprop"\)/],
    [['train', '--batch-size', '0'], /batchSize: Too small: expected number to be >0 \(got 0\)/],
    [['train', '--epochs', '1', '--steps', '2'], /--epochs and --steps: give one budget, not both/],
    [['train', '--config', '/nonexistent/run.yaml'], /--config: cannot read \/nonexistent\/run\.yaml \(ENOENT\)/],
    [['train', '--schedule', 'linear'], /--schedule: 'linear' is not a schedule; expected constant, cosine/],
    [['train', '--batch-size', '60001', '--steps', '1'], /batchSize: 60001 exceeds the 60000 training examples/],
    [['train', '--sampling', 'fresh', '--steps', '1'], /sampling: 'fresh' needs a synthetic dataset/],
    [['train', '--unknown-flag'], /unknown option '--unknown-flag'/],
  ];
  for (const [args, pattern] of cases) {
    const run = sgdlab(...args);
    assert.equal(run.status, 2, `${args.join(' ')}: exit ${run.status}\n${run.stderr}`);
    assert.match(run.stderr, pattern, args.join(' '));
    assert.doesNotMatch(run.stderr, /\n\s+at /, `${args.join(' ')}: a stack trace was printed`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-cli-'));
  writeFileSync(join(dir, 'bad.yaml'), 'model: {name: mlp}\noptimizer: {name: sgd, lr: 0.1}\nbatchSize: 32\nbudget: {steps: 1}\ndata: {name: mnist}\nlearningRate: 3\n');
  const bad = sgdlab('train', '--config', join(dir, 'bad.yaml'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /\(top level\): unknown field\(s\) 'learningRate'/);
});
