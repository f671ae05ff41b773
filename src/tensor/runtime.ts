/** Process-wide libtorch settings: threads, devices, version. */
import { N, type Device, type Tensor } from './tensor.js';

/**
 * Intra-op threads of libtorch and OpenBLAS in this process. sgdlab starts with 1 (or
 * SGDLAB_NUM_THREADS): on a small machine, parallel training runs beat threads inside one run.
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads: expected a positive integer, got ${n}`);
  N.setNumThreads(n);
}
export const getNumThreads = (): number => N.getNumThreads();
/** Whether the linked libtorch was built with CUDA and sees a GPU. */
export const cudaAvailable = (): boolean => N.cudaDeviceCount() > 0;
export const cudaDeviceCount = (): number => N.cudaDeviceCount();
/** Waits for the work queued on the current CUDA device (CUDA runs asynchronously: time GPU work after this); a no-op without CUDA. */
export const cudaSynchronize = (): void => N.cudaSynchronize();
/** The version of the linked libtorch (Debian's 1.13.1 reports 1.13.0). */
export const libtorchVersion = (): string => N.version();
/** libtorch's build configuration (compiler, BLAS, CPU capability). */
export const libtorchConfig = (): string => N.config();

/** Whether the linked libtorch was compiled with CUDA at all (its build settings say USE_CUDA=ON). */
export const libtorchHasCuda = (): boolean => /USE_CUDA=(ON|1)\b/.test(N.config());

/** The devices sgdlab accepts: 'cpu', 'cuda' (the current CUDA device) and 'cuda:K'. */
export const DEVICE_PATTERN = /^(cpu|cuda(:(0|[1-9]\d*))?)$/;
export const isDeviceName = (s: unknown): s is Device => typeof s === 'string' && DEVICE_PATTERN.test(s);

/**
 * The name libtorch reports for tensors on `device` (Tensor.device): 'cuda' means the current CUDA
 * device, which sgdlab never changes from 0 (a worker pinned to one GPU sees it as cuda:0).
 */
export const canonicalDevice = (device: Device): string => (device === 'cuda' ? 'cuda:0' : device);
export const isOnDevice = (t: Tensor, device: Device): boolean => t.device === canonicalDevice(device);

/**
 * Why this process cannot place tensors on `device`, or undefined when it can: the same sentence
 * wherever a device is configured (training, measurements, studies), naming what is allowed.
 */
export function deviceProblem(device: Device): string | undefined {
  if (device === 'cpu') return undefined;
  const count = N.cudaDeviceCount();
  const index = device === 'cuda' ? 0 : Number(device.slice('cuda:'.length));
  if (index < count) return undefined;
  const build = `${N.version()}, ${libtorchHasCuda() ? 'built with CUDA' : 'CPU-only'}`;
  if (count === 0) return `'${device}' was asked for but this libtorch (${build}) sees no CUDA device; use 'cpu'`;
  const allowed = ['cpu', 'cuda', ...Array.from({ length: count }, (_, k) => `cuda:${k}`)].map((d) => `'${d}'`).join(', ');
  return `'${device}' was asked for but this libtorch (${build}) sees ${count} CUDA device${count === 1 ? '' : 's'}; use one of ${allowed}`;
}

/** The device of a tensor, typed for creation options ({ device: deviceOf(like) }). */
export const deviceOf = (t: Tensor): Device => t.device as Device;
