/**
 * Measurements on CUDA against the CPU (skipped, with the reason, where there is no CUDA device):
 * λ_max (Lanczos), a Hutchinson trace, Keskar sharpness φ and the gradient-noise statistics of the
 * same weights on the same 256 MNIST examples.
 *
 * Tolerances: probes, random starts and Monte Carlo minibatches are drawn from the CPU's seeded
 * generators on both devices, so both measure with the same random numbers; what differs is float32
 * rounding in another summation order (about 1e-6 relative per reduction). Spectral quantities and
 * the noise statistics are sums of thousands of such terms: rtol 1e-3. φ comes out of an iterative
 * maximization whose line searches can take a slightly different step when the gradients differ in
 * the last bits: rtol 1e-2 (a wrong probe or start would change it by far more).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { skipWithoutCuda } from '../tensor/testing.js';
import { buildModel, type Module } from '../nn/index.js';
import { disposeSplits, prepareData, splitsOnDevice, type DataSplits } from '../data/index.js';
import { Objective, SHARPNESS_SOLVERS, hessianTrace, keskarSharpness, noiseStatistics, topEigenvalues } from './index.js';

const skip = skipWithoutCuda();
const EXAMPLES = 256;

const closeRel = (a: number, b: number, rtol: number, what: string, atol = 0) =>
  assert.ok(Math.abs(a - b) <= rtol * Math.abs(b) + atol, `${what}: CUDA ${a} vs CPU ${b} (rtol ${rtol}, atol ${atol})`);

/** The same weights and examples on both devices: the CPU model moved, the CPU data copied. */
function pair(): { cpu: { model: Module; data: DataSplits }; cuda: { model: Module; data: DataSplits }; dispose(): void } {
  const spec = { name: 'mlp' as const, widths: [32] };
  const data = prepareData({ name: 'mnist', subset: EXAMPLES });
  const io = { inputShape: data.train.inputShape, outputs: data.train.outputs };
  const cpuModel = buildModel(spec, io, new T.Generator(0));
  const cudaModel = buildModel(spec, io, new T.Generator(0)).to('cuda');
  const cudaData = splitsOnDevice(data, 'cuda');
  return {
    cpu: { model: cpuModel, data },
    cuda: { model: cudaModel, data: cudaData },
    dispose: () => {
      cpuModel.dispose();
      cudaModel.dispose();
      disposeSplits(cudaData);
      disposeSplits(data);
    },
  };
}

const objective = (s: { model: Module; data: DataSplits }) => new Objective(s.model, s.data.train.x, s.data.train.y, 'cross-entropy');

test('λ_max (Lanczos) and the Hessian trace (Hutchinson) on CUDA are the CPU\'s (rtol 1e-3)', { skip }, () => {
  const p = pair();
  try {
    assert.equal(p.cuda.data.train.x.device, 'cuda:0');
    const [cpu, cuda] = [p.cpu, p.cuda].map((s) => topEigenvalues(objective(s), { topK: 1, maxIter: 20, seed: 0 }).eigenvalues[0]!);
    closeRel(cuda!, cpu!, 1e-3, 'λ_max');
    const [tCpu, tCuda] = [p.cpu, p.cuda].map((s) => hessianTrace(objective(s), { probes: 4, seed: 0 }).trace);
    closeRel(tCuda!, tCpu!, 1e-3, 'trace');
  } finally {
    p.dispose();
  }
});

test('Keskar sharpness φ on CUDA is the CPU\'s (rtol 1e-2), both solvers, from the zero start and a random one', { skip }, () => {
  const p = pair();
  try {
    for (const solver of SHARPNESS_SOLVERS) {
      const options = { epsilon: 1e-3, maxIter: 5, randomStarts: 1, seed: 0, solver };
      const [cpu, cuda] = [p.cpu, p.cuda].map((s) => keskarSharpness(objective(s), options));
      closeRel(cuda!.loss, cpu!.loss, 1e-4, `${solver}: loss at the centre`);
      closeRel(cuda!.phi, cpu!.phi, 1e-2, `${solver}: φ`, 1e-4);
    }
    // The weights are put back where they were, on their device.
    for (const t of p.cuda.model.parameters()) assert.equal(t.device, 'cuda:0');
  } finally {
    p.dispose();
  }
});

test('gradient-noise statistics on CUDA are the CPU\'s (rtol 1e-3), Monte Carlo minibatches included', { skip }, () => {
  const p = pair();
  try {
    const options = { monteCarloSamples: 4, monteCarloBatchSizes: [16], seed: 0 };
    const [cpu, cuda] = [p.cpu, p.cuda].map((s) => noiseStatistics(s.model, s.data.train.x, s.data.train.y, 'cross-entropy', options));
    closeRel(cuda!.gradNormSq, cpu!.gradNormSq, 1e-3, '‖G‖²');
    closeRel(cuda!.traceSigma, cpu!.traceSigma, 1e-3, 'tr Σ');
    assert.equal(cuda!.monteCarlo!.length, cpu!.monteCarlo!.length);
    cuda!.monteCarlo!.forEach((m, i) => closeRel(m.variance, cpu!.monteCarlo![i]!.variance, 1e-3, `Monte Carlo variance (b ${m.b}, replacement ${m.replacement})`));
  } finally {
    p.dispose();
  }
});

test('a model and examples on different devices are refused with both named', { skip }, () => {
  const p = pair();
  try {
    assert.throws(() => new Objective(p.cuda.model, p.cpu.data.train.x, p.cpu.data.train.y, 'cross-entropy'), /examples are on cpu but the model is on cuda:0/);
  } finally {
    p.dispose();
  }
});
