/**
 * A study's measurements of a trial (measureModel, what the workers store) against independent
 * references: power iteration for λ_max, per-example gradients one backward pass at a time for the
 * noise statistics, the trial's own saved initial weights for the gradient-variance measurement,
 * and finite losses along an interpolation through batch norm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../tensor/index.js';
import { disposeSplits, prepareData } from '../data/index.js';
import { loadSafetensors } from '../nn/index.js';
import { initialModel, loadCheckpoint, parseTrainConfig, train } from '../train/index.js';
import { Objective, noiseStatistics, perExampleGradients, topEigenvalues } from '../measure/index.js';
import { measureModel } from './measure-trial.js';
import { measureSchema } from './schema.js';

const dir = mkdtempSync(join(tmpdir(), 'sgdlab-measure-trial-'));
const config = (seed: number, batchSize: number) => parseTrainConfig({
  model: { name: 'mlp', widths: [16], batchNorm: true }, data: { name: 'mnist', subset: 600 },
  optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9 }, batchSize, budget: { steps: 40 }, seed, save: join(dir, `s${seed}-b${batchSize}`),
});

test('hessian and noise measurements of a trained trial equal power iteration and per-example gradients', () => {
  const cfg = config(3, 50);
  train(cfg).model.dispose();
  const { model } = loadCheckpoint(cfg.save!);
  const data = prepareData(cfg.data);
  const measure = measureSchema.parse({ what: ['hessian', 'noise'], subset: 200, hessian: { topK: 1 } });
  const hessian = measureModel('hessian', measure, model, cfg, data) as { eigenvalues: number[]; residuals: number[] };
  const noise = measureModel('noise', measure, model, cfg, data) as { gradNormSq: number; traceSigma: number };
  const x = data.train.x.narrow(0, 0, 200);
  const y = data.train.y.narrow(0, 0, 200);
  const power = topEigenvalues(new Objective(model, x, y, 'cross-entropy'), { method: 'power', maxIter: 300, tol: 1e-7, seed: 9 });
  assert.ok(Math.abs(hessian.eigenvalues[0]! - power.eigenvalues[0]!) < 1e-3 * power.eigenvalues[0]!, `λ_max ${hessian.eigenvalues[0]} vs power iteration ${power.eigenvalues[0]}`);
  const [gradNormSq, traceSigma] = T.tidy(() => {
    const per = perExampleGradients(model, x, y, 'cross-entropy').double();
    const mean = per.mean(0);
    return [mean.square().sum().item(), per.sub(mean).square().sum(1).mean().item()];
  });
  assert.ok(Math.abs(noise.gradNormSq - gradNormSq) < 1e-4 * gradNormSq, `‖G‖² ${noise.gradNormSq} vs ${gradNormSq}`);
  assert.ok(Math.abs(noise.traceSigma - traceSigma) < 1e-4 * traceSigma, `tr Σ ${noise.traceSigma} vs ${traceSigma}`);
  T.dispose([x, y]);
  disposeSplits(data);
  model.dispose();
});

test("measure.objective 'batch': λ_max and φ of the objective with batch statistics (power iteration, the box at ε), recorded with the convention", () => {
  const cfg = config(4, 50);
  train(cfg).model.dispose();
  const { model } = loadCheckpoint(cfg.save!);
  const data = prepareData(cfg.data);
  const measure = measureSchema.parse({ what: ['hessian', 'sharpness'], subset: 200, objective: { batchNorm: 'batch', batchNormBatch: 100 }, sharpness: { epsilon: [1e-3], space: ['full'], randomStarts: 0 } });
  const hessian = measureModel('hessian', measure, model, cfg, data) as { eigenvalues: number[]; objective: object };
  const sharpness = measureModel('sharpness', measure, model, cfg, data) as { values: { phi: number; loss: number }[]; objective: object };
  const convention = { batchNorm: 'batch', batchNormBatch: 100, probabilityClip: null };
  assert.deepEqual([hessian.objective, sharpness.objective], [convention, convention]);
  const x = data.train.x.narrow(0, 0, 200);
  const y = data.train.y.narrow(0, 0, 200);
  const batch = new Objective(model, x, y, 'cross-entropy', { batchNorm: 'batch', batchNormBatch: 100 });
  const power = topEigenvalues(batch, { method: 'power', maxIter: 300, tol: 1e-7, seed: 9 });
  assert.ok(Math.abs(hessian.eigenvalues[0]! - power.eigenvalues[0]!) < 1e-3 * power.eigenvalues[0]!, `λ_max ${hessian.eigenvalues[0]} vs power iteration ${power.eigenvalues[0]}`);
  // φ's f(x) is the 'batch' loss, not the running-statistics one.
  const [f, running] = [batch.value(), new Objective(model, x, y, 'cross-entropy').value()];
  assert.ok(Math.abs(sharpness.values[0]!.loss - f) < 1e-6 * f && Math.abs(f - running) > 1e-4 * f, `f ${sharpness.values[0]!.loss}, batch ${f}, running ${running}`);
  T.dispose([x, y]);
  disposeSplits(data);
  model.dispose();
});

test("gradientVariance measures from the trial's own w₀: bit for bit the initial.safetensors the trainer saved", () => {
  const cfg = config(5, 50);
  train(cfg).model.dispose();
  const data = prepareData(cfg.data);
  const saved = loadSafetensors(join(cfg.save!, 'initial.safetensors')).tensors;
  const w0 = initialModel(cfg, { inputShape: data.train.inputShape, outputs: data.train.outputs });
  for (const [name, t] of w0.stateDict()) {
    assert.deepEqual(t.toArray(), saved.get(name)!.toArray(), `${name} differs from the saved initial weights`);
  }
  // The measurement's statistics at w₀ are those of the saved initial weights (noise statistics run in
  // evaluation mode, so batch norm uses the initial running statistics, saved too).
  const measure = measureSchema.parse({ what: ['gradientVariance'], subset: 100, gradientVariance: { batchSizes: [1, 4], steps: [0], sequences: 4, sequencesByModel: { [cfg.model.name]: 6, 'linear-regression': 3 }, replacement: [true] } });
  const { model } = loadCheckpoint(cfg.save!);
  const r = measureModel('gradientVariance', measure, model, cfg, data) as { traceSigmaAtInit: number; mode: string; packed: boolean; sequences: number; curves: { exact?: number[] }[] };
  // The trial's model has its own count of sequences; an MLP (batch norm included) runs them packed.
  assert.deepEqual([r.sequences, r.packed], [6, true]);
  w0.loadStateDict(saved);
  const atSaved = noiseStatistics(w0, data.train.x.narrow(0, 0, 100), data.train.y.narrow(0, 0, 100), 'cross-entropy');
  assert.equal(r.traceSigmaAtInit, atSaved.traceSigma);
  assert.equal(r.mode, 'train');
  assert.equal(r.curves[0]!.exact, undefined, 'no closed form for a model with batch norm');
  T.dispose([...saved.values()]);
  for (const m of [w0, model]) m.dispose();
  disposeSplits(data);
});

test('interpolate between two trials of a batch-norm network: finite losses at α = −1 and 2 on both paths, with the statistics recomputed', () => {
  const [sb, lb] = [config(0, 25), config(0, 300)];
  for (const c of [sb, lb]) train(c).model.dispose();
  const a = loadCheckpoint(sb.save!).model;
  const b = loadCheckpoint(lb.save!).model;
  const data = prepareData(lb.data);
  const measure = measureSchema.parse({ what: ['interpolate'], interpolate: { from: -1, to: 2, points: 4, batchNorm: { examples: 300 } } });
  const r = measureModel('interpolate', measure, b, lb, data, { model: a, checkpoint: sb.save!, self: lb.save! }) as {
    points: { alpha: number; train: { loss: number } }[]; curved: { alpha: number; train: { loss: number } }[]; batchNorm: { mode: string; examples: number; layers: number };
  };
  for (const p of [...r.points, ...r.curved]) assert.ok(Number.isFinite(p.train.loss), `α=${p.alpha}: ${p.train.loss}`);
  assert.deepEqual(r.batchNorm, { mode: 'recompute', examples: 300, batchSize: 256, layers: 1 });
  for (const m of [a, b]) m.dispose();
  disposeSplits(data);
  rmSync(dir, { recursive: true, force: true });
});
