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
  startedAt: string;
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
