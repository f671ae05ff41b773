/**
 * A study on CUDA end to end, as a user runs it (skipped, with the reason, where there is no CUDA
 * device): `device: cuda` in the study file, `sgdlab run --gpus 0`, the worker pinned to GPU 0, the
 * trial trained and its λ_max measured there, the device recorded; the same study on the CPU gives
 * the same numbers within float32 rounding (rtol 1e-3: the same random draws, other summation
 * orders; see train/train.cuda.test.ts), and `sgdlab measure --device cuda` on the CUDA trial's
 * checkpoint gives the stored λ_max.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipWithoutCuda } from '../tensor/testing.js';
import { openStore } from './index.js';
import { sgdlabCli, smallMlpStudy } from './testing.js';

const skip = skipWithoutCuda();

const measured = `grid:
  seed: [0]
measure:
  trials: all
  what: [hessian]
  subset: 100
  hessian: { topK: 1 }
`;

type Outcome = { status: string; testLoss: number; device: string; visible?: string; lambdaMax: number; checkpoint: string };

async function outcome(db: string, name: string): Promise<Outcome> {
  const store = await openStore(db);
  try {
    const [trial] = await store.trials(name);
    const result = trial!.result as { test: { loss: number }; record: { device: string; cudaVisibleDevices?: string } };
    const [hessian] = await store.measurements(name, trial!.key);
    return {
      status: trial!.status, testLoss: result.test.loss, device: result.record.device, visible: result.record.cudaVisibleDevices,
      lambdaMax: (hessian!.result as { eigenvalues: number[] }).eigenvalues[0]!, checkpoint: trial!.checkpoint!,
    };
  } finally {
    await store.close();
  }
}

const closeRel = (a: number, b: number, rtol: number, what: string) => assert.ok(Math.abs(a - b) <= rtol * Math.abs(b), `${what}: CUDA ${a} vs CPU ${b} (rtol ${rtol})`);

test('sgdlab run --gpus 0 trains and measures a device: cuda study on GPU 0, records it, and matches the CPU (rtol 1e-3)', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-cuda-study-'));
  writeFileSync(join(dir, 'gpu.yaml'), `device: cuda\n${smallMlpStudy('gpu', measured)}`);
  writeFileSync(join(dir, 'cpu.yaml'), smallMlpStudy('cpu', measured));
  const gpuRun = sgdlabCli('run', join(dir, 'gpu.yaml'), '--db', join(dir, 'gpu.db'), '--workers', '1', '--gpus', '0');
  assert.equal(gpuRun.status, 0, gpuRun.stderr);
  assert.match(gpuRun.stdout, /^gpu: 1 completed, 0 diverged, 0 failed, 0 left/);
  const cpuRun = sgdlabCli('run', join(dir, 'cpu.yaml'), '--db', join(dir, 'cpu.db'), '--workers', '1');
  assert.equal(cpuRun.status, 0, cpuRun.stderr);
  const gpu = await outcome(join(dir, 'gpu.db'), 'gpu');
  const cpu = await outcome(join(dir, 'cpu.db'), 'cpu');
  assert.equal(gpu.status, 'completed');
  assert.equal(gpu.device, 'cuda:0');
  assert.equal(gpu.visible, '0', 'the worker was pinned to GPU 0');
  assert.equal(cpu.device, 'cpu');
  closeRel(gpu.testLoss, cpu.testLoss, 1e-3, 'test loss');
  closeRel(gpu.lambdaMax, cpu.lambdaMax, 1e-3, 'λ_max');
  // The checkpoint written on the GPU, measured by the command on the GPU: the stored number (same device, same kernels).
  const measure = sgdlabCli('measure', 'hessian', '--checkpoint', gpu.checkpoint, '--subset', '100', '--device', 'cuda', '--json');
  assert.equal(measure.status, 0, measure.stderr);
  closeRel((JSON.parse(measure.stdout) as { eigenvalues: number[] }).eigenvalues[0]!, gpu.lambdaMax, 1e-5, 'λ_max by sgdlab measure --device cuda');
});
