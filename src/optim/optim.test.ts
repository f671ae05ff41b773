/** Schedules, scaling rules, and the proximal step (update rules are checked against PyTorch in src/train/pytorch.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { Proximal, SGD, scaledLearningRate, scheduleFactor } from './index.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} ≠ ${b}`);

test('schedule factors: constant, step decay at fractions of the budget, cosine, warm-up', () => {
  close(scheduleFactor({ kind: 'constant' }, undefined, 37, 100), 1, 'constant');
  close(scheduleFactor({ kind: 'step', milestones: [0.5, 0.75], gamma: 0.1 }, undefined, 49, 100), 1, 'before');
  close(scheduleFactor({ kind: 'step', milestones: [0.5, 0.75], gamma: 0.1 }, undefined, 50, 100), 0.1, 'first');
  close(scheduleFactor({ kind: 'step', milestones: [0.5, 0.75], gamma: 0.1 }, undefined, 80, 100), 0.01, 'second');
  close(scheduleFactor({ kind: 'cosine' }, undefined, 0, 100), 1, 'cosine start');
  close(scheduleFactor({ kind: 'cosine' }, undefined, 50, 100), 0.5, 'cosine middle');
  close(scheduleFactor({ kind: 'cosine', minFactor: 0.1 }, undefined, 100, 100), 0.1, 'cosine end');
  close(scheduleFactor({ kind: 'constant' }, { fraction: 0.1 }, 0, 100), 0.1, 'warm-up first step');
  close(scheduleFactor({ kind: 'constant' }, { fraction: 0.1 }, 9, 100), 1, 'warm-up last step');
});

test('batch-size scaling rules (Goyal et al. linear, Hoffer et al. square root)', () => {
  close(scaledLearningRate(0.1, 1024, 'linear', 256), 0.4, 'linear');
  close(scaledLearningRate(0.1, 1024, 'sqrt', 256), 0.2, 'sqrt');
  close(scaledLearningRate(0.1, 1024, 'none', 256), 0.1, 'none');
});

test('proximal step: λ = 0 and one inner step is the inner optimizer; a large λ pins x near x_k', () => {
  T.tidy(() => {
    const target = T.tensor([3, -1]);
    const grads = (w: T.Tensor) => () => [T.noGrad(() => w.sub(target))]; // ∇ of ½‖w − t‖²
    const a = T.zeros([2]).requiresGrad_();
    const b = T.zeros([2]).requiresGrad_();
    new SGD([a], { lr: 0.1 }).step(grads(a));
    new Proximal(new SGD([b], { lr: 0.1 }), { lambda: 0, innerSteps: 1 }).step(grads(b));
    assert.deepEqual(a.toArray(), b.toArray());
    const c = T.zeros([2]).requiresGrad_();
    const d = T.zeros([2]).requiresGrad_();
    new Proximal(new SGD([c], { lr: 0.01 }), { lambda: 0, innerSteps: 20 }).step(grads(c));
    new Proximal(new SGD([d], { lr: 0.01 }), { lambda: 50, innerSteps: 20 }).step(grads(d));
    assert.ok(d.norm().item() < 0.2 * c.norm().item(), `pinned ${d.norm().item()} vs free ${c.norm().item()}`);
    // The proximal minimizer of ½‖w − t‖² + (λ/2)‖w‖² is t/(1 + λ); many inner steps approach it.
    const e = T.zeros([2]).requiresGrad_();
    new Proximal(new SGD([e], { lr: 0.05 }), { lambda: 1, innerSteps: 400 }).step(grads(e));
    assert.ok(Math.abs((e.toArray() as number[])[0]! - 1.5) < 1e-4, `${e.toArray()}`);
  });
});
