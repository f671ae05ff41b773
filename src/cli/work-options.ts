/**
 * Options shared by `sgdlab run` and `sgdlab worker`: how many worker processes, their memory limit,
 * the lease and heartbeat of their claims, and where checkpoints go. And the summary line printing.
 */
import { Command } from 'commander';
import { DEFAULT_HEARTBEAT_SECONDS, DEFAULT_LEASE_SECONDS, IN_STORE, type RunSummary, type Study, type WorkOptions } from '../study/index.js';
import { UsageError } from './errors.js';

export const defaultDb = () => process.env.SGDLAB_DB ?? 'sgdlab.db';
export const dbOption = (c: Command) => c.option('--db <url>', 'the study store: a SQLite file (or sqlite:PATH) or postgres://USER@HOST/DB (default $SGDLAB_DB or ./sgdlab.db)');

export interface WorkFlags {
  workers?: string;
  maxMemoryMb?: string;
  lease?: string;
  heartbeat?: string;
  artifacts?: string;
  gpus?: string;
}

export function workOptionsOf(c: Command, workersHelp: string): Command {
  return c
    .option('--workers <n>', workersHelp)
    .option('--max-memory-mb <mb>', "each worker's resident memory limit: a worker over it is killed and its trial recorded as failed (default: 90% of memory shared among the workers)")
    .option('--lease <seconds>', `a claim is lost after this long without a heartbeat, and anyone may take it over (default ${DEFAULT_LEASE_SECONDS})`)
    .option('--heartbeat <seconds>', `seconds between a worker's heartbeats (default ${DEFAULT_HEARTBEAT_SECONDS}; less than the lease)`)
    .option('--gpus <list>', "pin worker i to GPU gpus[i % n] (comma-separated indices, e.g. 0,1; sets each worker's CUDA_VISIBLE_DEVICES); the study's device must be cuda")
    .option('--artifacts <dir>', "where checkpoints of measured trials go: 'store' (in the store, readable from every machine; PostgreSQL's default) or a directory every worker can read (SQLite's default: DB.checkpoints)");
}

const positive = (flag: string, value: string | undefined, what: string): number | undefined => {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (!(Number.isFinite(x) && x > 0)) throw new UsageError(`${flag}: '${value}' must be ${what}`);
  return x;
};

/** --gpus: distinct non-negative GPU indices, comma-separated. */
function gpuList(value: string): number[] {
  const gpus = value.split(',').map((s) => s.trim());
  if (gpus.some((g) => !/^(0|[1-9]\d*)$/.test(g)) || new Set(gpus).size !== gpus.length) {
    throw new UsageError(`--gpus: '${value}' must be distinct GPU indices separated by commas, e.g. 0,1`);
  }
  return gpus.map(Number);
}

export function parseWorkOptions(flags: WorkFlags, minWorkers: 0 | 1): WorkOptions {
  const workers = flags.workers === undefined ? undefined : Number(flags.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= minWorkers)) {
    throw new UsageError(`--workers: '${flags.workers}' must be ${minWorkers === 0 ? 'a whole number (0: register the study only)' : 'a positive integer'}`);
  }
  const leaseSeconds = positive('--lease', flags.lease, 'a positive number of seconds');
  const heartbeatSeconds = positive('--heartbeat', flags.heartbeat, 'a positive number of seconds');
  if ((heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS) >= (leaseSeconds ?? DEFAULT_LEASE_SECONDS)) {
    throw new UsageError(`--heartbeat: ${heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS} s must be shorter than the lease (${leaseSeconds ?? DEFAULT_LEASE_SECONDS} s), or every claim would lapse between beats`);
  }
  if (flags.artifacts === '') throw new UsageError("--artifacts: give 'store' or a directory");
  return {
    workers,
    ...(flags.gpus === undefined ? {} : { gpus: gpuList(flags.gpus) }),
    maxMemoryMb: positive('--max-memory-mb', flags.maxMemoryMb, 'a positive number of megabytes'),
    leaseSeconds,
    heartbeatSeconds,
    artifacts: flags.artifacts === undefined ? undefined : flags.artifacts === 'store' ? IN_STORE : flags.artifacts,
  };
}

/** The lines `run` and `worker` print when a study's pass ends. */
export function writeSummary(study: Study, result: RunSummary, added?: number): void {
  const c = result.counts;
  const m = result.measurements;
  const elsewhere = c.running > 0 ? `, ${c.running} of them running on other workers` : '';
  process.stdout.write(`${study.name}: ${c.completed} completed, ${c.diverged} diverged, ${c.failed} failed${c.pruned > 0 ? `, ${c.pruned} pruned` : ''}, ${c.pending + c.running} left${elsewhere}${added === undefined ? '' : ` (${added} new trials this run)`}\n`);
  if (study.measure) {
    process.stdout.write(`measurements: ${m.completed} completed, ${m.failed} failed, ${m.pending + m.running} left (${result.measurementsAdded} new this run)\n`);
  }
  if (result.memoryKills > 0) process.stdout.write(`${result.memoryKills} worker(s) killed over the memory limit: their trials are recorded as failed (raise --max-memory-mb)\n`);
  if (result.crashes > 0) process.stdout.write(`${result.crashes} worker(s) died: their trials are recorded as failed with the reason (sgdlab export shows it)\n`);
  for (const e of result.errors) process.stderr.write(`error: ${e}\n`);
  for (const e of result.unreachable) process.stderr.write(`error: ${e}\n`);
}
