/**
 * The --device flag. Apart from flags.ts because it asks libtorch which devices this machine has: the
 * CLI's read-only commands import flags.ts and must not load the addon (report.test.ts checks it).
 */
import { deviceProblem, isDeviceName, type Device } from '../tensor/index.js';
import { UsageError } from './errors.js';

/**
 * --device: 'cpu' (when absent), 'cuda' or 'cuda:K', and one this machine has; checked when the flag
 * is read, before a checkpoint or dataset is loaded.
 */
export function deviceFlag(value: string | undefined): Device {
  if (value === undefined) return 'cpu';
  if (!isDeviceName(value)) throw new UsageError(`--device: '${value}' must be 'cpu', 'cuda' or 'cuda:K' (K a GPU index)`);
  const problem = deviceProblem(value);
  if (problem !== undefined) throw new UsageError(`--device: ${problem}`);
  return value;
}
