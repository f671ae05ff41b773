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

/**
 * A reader that closes the pipe early (`sgdlab status | head -1`) has read what it wanted: later writes
 * fail with EPIPE, which Node raises as an unhandled 'error' event (a stack trace, exit 1). They are
 * dropped instead and the command finishes its work — a study run keeps running, its results go to the
 * store — and exits as it would have. Any other stream error is reported as a failure.
 */
export function dropWritesToClosedPipes(...streams: NodeJS.WriteStream[]): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') reportAndExit(error);
    });
  }
}
