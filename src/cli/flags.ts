/** Parsing of numeric command-line flags: one place, one message shape (flag, value, what is allowed). */
import { UsageError } from './errors.js';

/** A number (any finite value). */
export function numberFlag(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag}: '${value}' is not a number`);
  return n;
}

/** A positive integer (or number), `fallback` when the flag is absent. */
export function positiveFlag(flag: string, value: string | undefined, fallback: number, integer = true): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`--${flag}: '${value}' must be a positive ${integer ? 'integer' : 'number'}`);
  return n;
}

/** A non-negative integer, `fallback` when the flag is absent. */
export function countFlag(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new UsageError(`--${flag}: '${value}' must be a non-negative integer`);
  return n;
}

/** Every --seed: an integer from 0 to 2^53 − 1 (a libtorch generator's seed), 0 when absent. */
export function seedFlag(value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new UsageError(`--seed: '${value}' must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}`);
  return n;
}

