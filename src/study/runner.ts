/**
 * Runs a study: expands it into keyed trials, adds the new ones to the store (completed ones are
 * never run again; ones left running by a dead worker are taken over), and starts `workers` worker
 * processes (processes, not threads: native addons and thread termination crash together), each
 * with one libtorch thread. Progress is read from the store. Aborting (Ctrl-C) kills the workers;
 * the next run resumes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sgdlabVersion } from '../train/version.js';
import type { Study } from './schema.js';
import { SqliteStudyStore } from './sqlite-store.js';
import type { TrialStatus } from './store.js';
import { expandTrials } from './trials.js';

export interface RunOptions {
  db: string;
  workers?: number;
  onProgress?: (counts: Record<TrialStatus, number>) => void;
  signal?: AbortSignal;
}

export async function runStudy(study: Study, options: RunOptions): Promise<{ added: number; counts: Record<TrialStatus, number>; aborted: boolean }> {
  const store = new SqliteStudyStore(options.db);
  const counts = () => store.listStudies().find((s) => s.name === study.name)!.counts;
  try {
    const added = store.upsertStudy(study, expandTrials(study, sgdlabVersion()));
    const n = Math.max(1, options.workers ?? cpus().length);
    const script = fileURLToPath(new URL('./worker.js', import.meta.url));
    const children: ChildProcess[] = [];
    const exits = Array.from({ length: n }, () =>
      new Promise<void>((resolve) => {
        const child = spawn(process.execPath, [script, options.db, study.name], {
          stdio: ['ignore', 'ignore', 'inherit'],
          env: { ...process.env, SGDLAB_NUM_THREADS: process.env.SGDLAB_NUM_THREADS ?? '1' },
        });
        children.push(child);
        child.on('exit', () => resolve());
      }));
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      for (const c of children) c.kill('SIGKILL');
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setInterval(() => options.onProgress?.(counts()), 500);
    await Promise.all(exits);
    clearInterval(timer);
    options.signal?.removeEventListener('abort', onAbort);
    const final = counts();
    options.onProgress?.(final);
    return { added, counts: final, aborted };
  } finally {
    store.close();
  }
}
