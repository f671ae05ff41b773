/**
 * A study worker process: claims trials from the store until none is left, trains each, and records
 * the result, a subsample of its metrics, and failures (a crash of a trial is recorded, not fatal).
 * Started by the runner: node dist/src/study/worker.js DB STUDY; its id is host:pid:start time. One libtorch thread.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { disposeSplits, prepareData, type DataSplits } from '../data/index.js';
import { train } from '../train/index.js';
import { canonicalJson } from './trials.js';
import { SqliteStudyStore } from './sqlite-store.js';

/** A process's state and start time (clock ticks since boot) from /proc; undefined if it does not exist. */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, start: fields[19]! };
  } catch {
    return undefined;
  }
}

/** This worker's id: host:pid:start time, so that a reused pid is not mistaken for it. */
export function workerId(): string {
  return `${hostname()}:${process.pid}:${procStat(process.pid)?.start ?? 'unknown'}`;
}

/**
 * Whether a worker id names a live process on this host: the pid exists, is not a zombie (a killed
 * worker nobody has reaped yet) and started at the recorded time. Workers of other hosts count as alive.
 */
export function isWorkerAlive(worker: string): boolean {
  const [host, pid, start] = worker.split(':');
  if (host !== hostname()) return true;
  const stat = procStat(Number(pid));
  if (stat !== undefined) return stat.state !== 'Z' && stat.state !== 'X' && (start === undefined || start === 'unknown' || stat.start === start);
  if (existsSync('/proc/self/stat')) return false;
  try {
    process.kill(Number(pid), 0); // no /proc (not Linux): existence only
    return true;
  } catch {
    return false;
  }
}

function main(): void {
  const [db, study] = process.argv.slice(2);
  if (!db || !study) throw new Error('usage: worker.js DB STUDY');
  const id = workerId();
  const store = new SqliteStudyStore(db);
  // Trials of a study usually share their data: load each data spec once per worker.
  let cached: { key: string; data: DataSplits } | undefined;
  try {
    for (let trial = store.claim(study, id, isWorkerAlive); trial; trial = store.claim(study, id, isWorkerAlive)) {
      const started = performance.now();
      try {
        const dataKey = canonicalJson(trial.config.data);
        if (cached?.key !== dataKey) {
          if (cached) disposeSplits(cached.data);
          cached = { key: dataKey, data: prepareData(trial.config.data) };
        }
        const { result, model } = train(trial.config, { data: cached.data });
        model.dispose();
        const every = Math.max(1, Math.ceil(result.history.steps.length / 200));
        store.addMetrics(study, trial.key, [
          ...result.history.steps.filter((_, i) => i % every === 0).flatMap((m) => [
            { step: m.step, name: 'loss', value: m.loss }, { step: m.step, name: 'gradNorm', value: m.gradNorm }, { step: m.step, name: 'lr', value: m.lr },
          ]),
          ...result.history.evals.flatMap((e) => [
            { step: e.step, name: 'train.loss', value: e.train.loss }, { step: e.step, name: 'test.loss', value: e.test.loss },
            ...(e.test.accuracy !== null ? [{ step: e.step, name: 'test.accuracy', value: e.test.accuracy }] : []),
            ...(e.validation?.accuracy != null ? [{ step: e.step, name: 'validation.accuracy', value: e.validation.accuracy }] : []),
          ]),
        ].filter((r) => Number.isFinite(r.value)));
        const { history: _history, ...summary } = result;
        // The worker's peak resident memory so far (kB → MB): reported with every trial.
        const workerMaxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
        store.finish(study, trial.key, { status: result.status, result: { ...summary, workerMaxRssMb, trainSeconds: result.seconds } as unknown as Record<string, unknown>, seconds: (performance.now() - started) / 1000, checkpoint: result.checkpoint });
      } catch (error) {
        store.fail(study, trial.key, (error as Error).message, (performance.now() - started) / 1000);
      }
    }
  } finally {
    if (cached) disposeSplits(cached.data);
    store.close();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
