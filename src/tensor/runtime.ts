/** Process-wide libtorch settings: threads, devices, version. */
import { N } from './tensor.js';

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
