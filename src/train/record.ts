/** What every run records about itself, so a number can be traced to what produced it. */
import { readFileSync } from 'node:fs';
import { hostname, cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../tensor/index.js';

export interface RunRecord {
  sgdlabVersion: string;
  libtorchVersion: string;
  node: string;
  machine: { host: string; cpu: string; cores: number; memoryGb: number };
  threads: number;
  startedAt: string;
}

let version: string | undefined;
export function sgdlabVersion(): string {
  if (version === undefined) {
    let dir = dirname(fileURLToPath(import.meta.url));
    for (;;) {
      try {
        version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version: string }).version;
        break;
      } catch {
        const up = dirname(dir);
        if (up === dir) {
          version = 'unknown';
          break;
        }
        dir = up;
      }
    }
  }
  return version;
}

export function runRecord(): RunRecord {
  return {
    sgdlabVersion: sgdlabVersion(),
    libtorchVersion: T.libtorchVersion(),
    node: process.version,
    machine: { host: hostname(), cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30) },
    threads: T.getNumThreads(),
    startedAt: new Date().toISOString(),
  };
}
