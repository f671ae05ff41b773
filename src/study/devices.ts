/**
 * Studies on GPUs: the trials' devices checked before any worker starts, and each worker process
 * pinned to one GPU (`sgdlab run --gpus 0,1`: worker i gets gpus[i % n] through CUDA_VISIBLE_DEVICES,
 * so inside it that GPU is 'cuda', i.e. cuda:0). Without --gpus the workers inherit the environment,
 * CUDA_VISIBLE_DEVICES included. The addon is loaded only when a device other than the CPU is in play:
 * registering and reading a CPU study needs no libtorch.
 */
import { ConfigError } from '../train/config.js';
import type { Device } from '../tensor/tensor.js';
import type { Trial } from './trials.js';

/** The distinct devices of the trials ('cpu' for those that set none). */
export const trialDevices = (trials: readonly Trial[]): Device[] => [...new Set(trials.map((t) => t.config.device ?? 'cpu'))];

/**
 * Throws a ConfigError, before any work, when a trial's device cannot be served: by this machine, or,
 * with --gpus, by a worker that sees exactly one GPU (as 'cuda').
 */
export async function checkStudyDevices(studyName: string, devices: readonly Device[], gpus: readonly number[] | undefined): Promise<void> {
  if (gpus === undefined && devices.every((d) => d === 'cpu')) return;
  const T = await import('../tensor/index.js');
  const problems: string[] = [];
  if (gpus !== undefined) {
    const count = T.cudaDeviceCount();
    for (const g of gpus) if (g >= count) problems.push(`--gpus: GPU ${g} was asked for but this libtorch (${T.libtorchVersion()}) sees ${count === 0 ? 'no CUDA device' : `${count} CUDA device${count === 1 ? '' : 's'} (0 to ${count - 1})`}`);
    for (const d of devices) {
      if (d === 'cpu') problems.push("device: 'cpu' trains on the CPU, but --gpus pins the workers to GPUs; set device: cuda in the study file (or leave out --gpus)");
      else if (d !== 'cuda' && d !== 'cuda:0') problems.push(`device: '${d}' cannot be used with --gpus: each worker sees its one GPU as 'cuda'; use device: cuda`);
    }
  } else {
    for (const d of devices) {
      const problem = T.deviceProblem(d);
      if (problem !== undefined) problems.push(`device: ${problem}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, `study '${studyName}'`);
}

/**
 * CUDA_VISIBLE_DEVICES for worker `slot`: gpus[slot % n], read as an index among the GPUs this process
 * sees (so an inherited CUDA_VISIBLE_DEVICES=4,5 with --gpus 1 gives the worker GPU 5); undefined
 * without --gpus (the worker inherits the environment as it is).
 */
export function workerCudaVisibleDevices(slot: number, gpus: readonly number[] | undefined, inherited = process.env.CUDA_VISIBLE_DEVICES): string | undefined {
  if (gpus === undefined || gpus.length === 0) return undefined;
  const index = gpus[slot % gpus.length]!;
  const visible = inherited?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return visible && visible.length > 0 ? visible[index] ?? String(index) : String(index);
}
