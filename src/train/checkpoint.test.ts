/** Checkpoints: round trip, PyTorch opening an sgdlab checkpoint, and clear errors for bad ones. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../tensor/index.js';
import { assertClose } from '../tensor/testing.js';
import { loadCheckpoint, parseTrainConfig, train } from './index.js';

const config = (save: string) =>
  parseTrainConfig({
    model: { name: 'mlp', widths: [16], batchNorm: true },
    data: { name: 'gaussian-classification', gaussianClassification: { dim: 20, classes: 4 }, trainSize: 256, testSize: 64 },
    optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9 },
    batchSize: 32,
    budget: { steps: 12 },
    save,
  });

const root = new URL('../../../', import.meta.url).pathname;

test('a saved checkpoint loads back into the same model and outputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-ckpt-'));
  const { result, model } = train(config(dir));
  assert.equal(result.checkpoint, join(dir, 'model.safetensors'));
  const sidecar = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  assert.equal(sidecar.step, 12);
  assert.deepEqual(sidecar.model, { name: 'mlp', widths: [16], batchNorm: true });
  const loaded = loadCheckpoint(dir);
  T.tidy(() => {
    for (const [k, v] of model.stateDict()) assertClose(loaded.model.stateDict().get(k)!, v, { rtol: 0, atol: 0 }, k);
    const x = T.randn([5, 20], { generator: new T.Generator(1) });
    model.eval();
    loaded.model.eval();
    assertClose(loaded.model.forward(x), model.forward(x), { rtol: 0, atol: 0 });
  });
  model.dispose();
  loaded.model.dispose();
});

// Debian's python3-torch, which the setup installs: this test runs everywhere the suite runs, never skips.
const python = '/usr/bin/python3';

test('PyTorch opens an sgdlab checkpoint with load_state_dict(strict=True) and computes the same outputs', () => {
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  assert.equal(probe.status, 0, `${python} cannot import torch (scripts/setup.sh installs python3-torch): ${probe.stderr ?? probe.error}`);
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-ckpt-'));
  const { model } = train(config(dir));
  T.tidy(() => {
    const x = T.randn([6, 20], { generator: new T.Generator(2) });
    const run = spawnSync(python, [join(root, 'tools', 'reference', 'read_checkpoint.py'), join(dir, 'model.safetensors')], { input: JSON.stringify(x.toArray()), encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const fromTorch = JSON.parse(run.stdout) as { metadata: Record<string, string>; outputs: number[] };
    assert.equal(fromTorch.metadata.format, 'sgdlab-checkpoint-v1');
    model.eval();
    assertClose(model.forward(x).flatten(), fromTorch.outputs, { rtol: 1e-5, atol: 1e-6 });
  });
  model.dispose();
});

test('bad checkpoints give errors that say what is wrong', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-ckpt-'));
  assert.throws(() => loadCheckpoint(join(dir, 'missing')), /no sidecar .*model\.json/);
  const { model } = train(config(dir));
  model.dispose();
  const sidecarPath = join(dir, 'model.json');
  const good = readFileSync(sidecarPath, 'utf8');
  writeFileSync(sidecarPath, good.replace('"widths": [\n      16\n    ]', '"widths": [\n      32\n    ]'));
  assert.throws(() => loadCheckpoint(dir), /do not match the model spec .*'1\.weight' has shape \[16, 20\] but the model expects \[32, 20\]/);
  writeFileSync(sidecarPath, '{ not json');
  assert.throws(() => loadCheckpoint(dir), /model\.json is not valid JSON/);
  writeFileSync(sidecarPath, good);
  const weights = join(dir, 'model.safetensors');
  const bytes = readFileSync(weights);
  writeFileSync(weights, bytes.subarray(0, 100));
  assert.throws(() => loadCheckpoint(dir), /not a valid safetensors file: the header length \d+ exceeds the file/);
  writeFileSync(weights, Buffer.concat([bytes.subarray(0, 8), Buffer.from('x'.repeat(Number(bytes.readBigUInt64LE(0))))]));
  assert.throws(() => loadCheckpoint(dir), /not a valid safetensors file: the header is not JSON/);
  assert.ok(existsSync(sidecarPath));
});
