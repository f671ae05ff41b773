/** What every run records about itself, so a number can be traced to what produced it. */
import { hostname, cpus, totalmem } from 'node:os';
import * as T from '../tensor/index.js';
import { sgdlabVersion } from './version.js';

export { sgdlabVersion };

export interface RunRecord {
  sgdlabVersion: string;
  libtorchVersion: string;
  node: string;
  machine: { host: string; cpu: string; cores: number; memoryGb: number };
  threads: number;
  /**
   * Where the run's tensors lived, as libtorch names it ('cpu', 'cuda:0'), and, on a GPU, the
   * process's CUDA_VISIBLE_DEVICES: a worker pinned to one GPU calls it cuda:0 whatever its number.
   */
  device: string;
  cudaVisibleDevices?: string;
  startedAt: string;
}

export function runRecord(device: T.Device = 'cpu'): RunRecord {
  const visible = process.env.CUDA_VISIBLE_DEVICES;
  return {
    sgdlabVersion: sgdlabVersion(),
    libtorchVersion: T.libtorchVersion(),
    node: process.version,
    machine: { host: hostname(), cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30) },
    threads: T.getNumThreads(),
    device: T.canonicalDevice(device),
    ...(device !== 'cpu' && visible !== undefined ? { cudaVisibleDevices: visible } : {}),
    startedAt: new Date().toISOString(),
  };
}
