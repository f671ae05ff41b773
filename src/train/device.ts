/**
 * The configured device, checked against this machine before any work: a run that asks for CUDA
 * where there is none stops at once with the field, the value and what is allowed, not at its
 * first tensor op minutes later.
 */
import * as T from '../tensor/index.js';
import { ConfigError, configDevice } from './config.js';

/** Throws a ConfigError naming `field` when this process cannot place tensors on `device`. */
export function checkDevice(device: T.Device, field = 'device', source?: string): void {
  const problem = T.deviceProblem(device);
  if (problem !== undefined) throw new ConfigError([`${field}: ${problem}`], source);
}

/** The configuration's device ('cpu' when it sets none), checked against this machine. */
export function checkedDevice(config: { device?: T.Device }, field = 'device', source?: string): T.Device {
  const device = configDevice(config);
  checkDevice(device, field, source);
  return device;
}
