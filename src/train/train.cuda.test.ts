/**
 * Training on CUDA against the CPU (skipped, with the reason, where there is no CUDA device).
 *
 * Tolerances: every random draw (initial weights, minibatch indices, dropout masks) comes from the
 * CPU's seeded generators on both devices, so the two runs see the same numbers; what differs is
 * float32 arithmetic in another order (cuBLAS and CUDA reductions sum differently; TF32 stays off for
 * float32 matmuls by libtorch's default, and these models have no convolutions). Such differences are
 * about 1e-6 relative per operation and grow slowly over a few dozen steps, so the step losses are
 * compared with rtol 1e-3: loose for rounding, tight enough that a different minibatch or dropout
 * mask (which moves a loss by percents) fails. Values copied between devices are compared exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../tensor/index.js';
import { assertClose, skipWithoutCuda } from '../tensor/testing.js';
import { Adam } from '../optim/index.js';
import { disposeSplits, prepareData } from '../data/index.js';
import { loadCheckpoint, parseTrainConfig, train, type TrainConfigInput } from './index.js';

const skip = skipWithoutCuda();
const LOSS_RTOL = 1e-3;

/** A short MNIST run with batch norm and dropout (their masks and statistics must follow the device too). */
const run = (device: 'cpu' | 'cuda', save?: string): TrainConfigInput => ({
  model: { name: 'mlp', widths: [64, 32], batchNorm: true, dropout: 0.2 },
  data: { name: 'mnist', subset: 1200, validation: 200 },
  optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 },
  batchSize: 50,
  budget: { steps: 40 },
  eval: { every: 20 },
  seed: 3,
  device,
  ...(save ? { save } : {}),
});

const closeRel = (a: number, b: number, rtol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= rtol * Math.abs(b), `${what}: CUDA ${a} vs CPU ${b} (rtol ${rtol})`);

test('CUDA training gives the CPU run\'s losses (rtol 1e-3), and everything it holds is on the GPU', { skip }, () => {
  const data = prepareData(parseTrainConfig(run('cpu')).data);
  const cpu = train(parseTrainConfig(run('cpu')), { data });
  const cuda = train(parseTrainConfig(run('cuda')), { data });
  try {
    assert.equal(cuda.result.status, 'completed');
    assert.equal(cuda.result.history.steps.length, 40);
    cuda.result.history.steps.forEach((s, i) => closeRel(s.loss, cpu.result.history.steps[i]!.loss, LOSS_RTOL, `step ${i} loss`));
    closeRel(cuda.result.test.loss, cpu.result.test.loss, LOSS_RTOL, 'final test loss');
    closeRel(cuda.result.validation!.loss, cpu.result.validation!.loss, LOSS_RTOL, 'final validation loss');
    for (const [name, t] of cuda.model.stateDict()) assert.equal(t.device, 'cuda:0', name);
    assert.equal(cuda.result.config.device, 'cuda');
    assert.equal(cuda.result.record.device, 'cuda:0');
    assert.equal(cpu.result.record.device, 'cpu');
  } finally {
    cpu.model.dispose();
    cuda.model.dispose();
    disposeSplits(data);
  }
});

test('a checkpoint saved on CUDA loads on the CPU with the same weights (exactly) and outputs (rtol 1e-4)', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-cuda-'));
  const { model } = train(parseTrainConfig(run('cuda', dir)));
  const onCpu = loadCheckpoint(dir).model;
  const onCuda = loadCheckpoint(dir, { device: 'cuda' }).model;
  try {
    T.tidy(() => {
      const trained = model.stateDict();
      for (const [name, t] of onCpu.stateDict()) {
        assert.equal(t.device, 'cpu', name);
        assertClose(t, trained.get(name)!.to({ device: 'cpu' }), { rtol: 0, atol: 0 }, name);
      }
      for (const [name, t] of onCuda.stateDict()) assert.equal(t.device, 'cuda:0', name);
      const x = T.randn([16, 1, 28, 28], { generator: new T.Generator(0) });
      for (const m of [model, onCpu, onCuda]) m.eval();
      const reference = T.noGrad(() => model.forward(x.to({ device: 'cuda' })));
      assertClose(T.noGrad(() => onCpu.forward(x)), reference.to({ device: 'cpu' }), { rtol: 1e-4, atol: 1e-5 }, 'CPU outputs');
      // The same weights and kernels on the same GPU: equal up to float32 rounding at most.
      assertClose(T.noGrad(() => onCuda.forward(x.to({ device: 'cuda' }))), reference, { rtol: 1e-6, atol: 1e-7 }, 'CUDA outputs');
    });
  } finally {
    for (const m of [model, onCpu, onCuda]) m.dispose();
  }
});

test('optimizer state read from the CPU (a snapshot) is put where the parameters are', { skip }, () => {
  const p = T.keep(T.zeros([3], { device: 'cuda' }).requiresGrad_());
  const grad = () => [T.ones([3], { device: 'cuda' })];
  const first = new Adam([p], { lr: 0.1 });
  first.step(grad);
  const saved = new Map([...first.state()].map(([k, v]) => [k, T.keep(v.to({ device: 'cpu' }))]));
  const second = new Adam([p], { lr: 0.1 });
  second.loadState(saved);
  for (const [k, v] of second.state()) if (k !== 'step') assert.equal(v.device, 'cuda:0', k);
  second.step(grad);
  assert.ok(Number.isFinite(p.sum().item()));
  first.dispose();
  second.dispose();
  T.dispose([p, ...saved.values()]);
});
