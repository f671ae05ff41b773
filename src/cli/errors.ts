/**
 * How the CLI reports failures: one clear message, no stack trace (SGDLAB_DEBUG=1 shows it), with the
 * password of any store URL redacted.
 */
import { redactRegistered } from '../study/store-url.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function reportAndExit(error: unknown): never {
  const e = error instanceof Error ? error : new Error(String(error));
  process.stderr.write(`sgdlab: ${redactRegistered(e.message)}\n`);
  if (process.env.SGDLAB_DEBUG === '1' && e.stack) process.stderr.write(`${redactRegistered(e.stack)}\n`);
  process.exit(e.name === 'UsageError' || e.name === 'ConfigError' ? 2 : 1);
}
