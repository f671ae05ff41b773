/**
 * Commands for studies on many machines (and between stores). None loads libtorch in this process.
 *   sgdlab worker --db URL [--study NAME …] [--workers N] [--wait]   claim and run what is left, here
 *   sgdlab copy STUDY --from URL --to URL                             trials, results, metrics, measurements, checkpoints; same keys
 *   sgdlab checkpoint get STUDY KEY --db URL --out DIR                a trial's checkpoint as a normal checkpoint directory
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { DEFAULT_LEASE_SECONDS, IN_STORE, checkpointFiles, openStore, trialArtifacts, workStudy, type StudyStore } from '../study/index.js';
import { UsageError } from './errors.js';
import { positiveFlag } from './flags.js';
import { requireStudy, withStore } from './with-store.js';
import { StudyProgress } from './study-progress.js';
import { dbOption, defaultDb, parseWorkOptions, workOptionsOf, writeSummary, type WorkFlags } from './work-options.js';

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => {
    clearTimeout(t);
    resolve();
  }, { once: true });
});

function workerCommand(): Command {
  return workOptionsOf(dbOption(new Command('worker'))
    .description('claim and run the pending trials (then the measurements) of studies in the store, from any machine, until none is left')
    .option('--study <name...>', 'only these studies (default: every study in the store)')
    .option('--wait', 'keep polling for new work instead of exiting when none is left (stop with Ctrl-C or SIGTERM)')
    .option('--poll <seconds>', 'with --wait: seconds between polls (default 10)')
    .option('--only <phase>', 'train: claim trials only; measure: measurements only (default both)'), 'worker processes on this machine (default: one per core)')
    .action(async (flags: WorkFlags & { db?: string; study?: string[]; wait?: boolean; poll?: string; only?: string }) => {
      if (flags.only !== undefined && flags.only !== 'train' && flags.only !== 'measure') throw new UsageError(`--only: '${flags.only}' must be train or measure`);
      const options = { ...parseWorkOptions(flags, 1), only: flags.only as 'train' | 'measure' | undefined };
      const poll = flags.poll === undefined ? 10 : Number(flags.poll);
      if (!(Number.isFinite(poll) && poll > 0)) throw new UsageError(`--poll: '${flags.poll}' must be a positive number of seconds`);
      const url = flags.db ?? defaultDb();
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      const store = await openStore(url, { retrySeconds: options.leaseSeconds });
      try {
        for (const name of flags.study ?? []) await requireStudy(store, name);
        for (;;) {
          const names = flags.study ?? (await store.listStudies()).map((s) => s.name);
          let worked = false;
          for (const name of names) {
            if (controller.signal.aborted) break;
            const study = (await store.getStudy(name))?.study;
            if (!study) continue; // removed meanwhile
            const before = await store.statuses(name);
            const open = before.trials.some((t) => t.status === 'pending' || t.status === 'running') || before.measurements.some((m) => m.status === 'pending' || m.status === 'running') || study.measure !== undefined;
            if (!open) continue;
            const bars = new StudyProgress(study.name);
            const result = await workStudy(store, url, study, { ...options, signal: controller.signal, onProgress: (p) => bars.update(p) });
            bars.stop();
            if (result.unreachable.length > 0) {
              writeSummary(study, result);
              process.stderr.write(`sgdlab worker: stopped: the study store ${store.url} was out of reach longer than the lease (${options.leaseSeconds ?? DEFAULT_LEASE_SECONDS} s); what this machine held is taken over by other workers\n`);
              process.exitCode = 3;
              return;
            }
            const after = await store.statuses(name);
            const changed = JSON.stringify(after) !== JSON.stringify(before);
            worked ||= changed;
            if (changed || !flags.wait) writeSummary(study, result);
            if (result.errors.length > 0) process.exitCode = 1;
          }
          if (!flags.wait || controller.signal.aborted) break;
          if (!worked) await sleep(1000 * poll, controller.signal);
        }
        if (controller.signal.aborted) {
          process.stderr.write('interrupted: what this machine held is taken over by the next worker (at once here, after its lease elsewhere)\n');
          process.exitCode = 130;
        }
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
        await store.close().catch(() => undefined);
      }
    });
}

/** A dump's checkpoints kept in directories are read into it, so the copy carries them (in the target store). */
async function withCheckpointsInStore(source: StudyStore, name: string) {
  const dump = (await source.dumpStudy(name))!;
  const inStore = new Set(dump.artifacts.map((a) => a.key));
  let moved = 0;
  for (const t of dump.trials) {
    if (!t.checkpoint || t.checkpoint === IN_STORE || inStore.has(t.key)) continue;
    dump.artifacts.push({ key: t.key, files: await trialArtifacts(source, t) });
    t.checkpoint = IN_STORE;
    moved++;
  }
  return { dump, moved };
}

function copyCommand(): Command {
  return new Command('copy')
    .description('copy a study to another store (SQLite ⇄ PostgreSQL): trials, results, metrics, measurements, refusals and checkpoints, with the same keys, so it continues there without redoing anything')
    .argument('<study>')
    .requiredOption('--from <url>', 'the store it is in')
    .requiredOption('--to <url>', 'the store to copy it to (it must not have a study of that name)')
    .action(async (name: string, flags: { from: string; to: string }) => {
      await withStore(flags.from, async (source) => {
        await requireStudy(source, name);
        const { dump, moved } = await withCheckpointsInStore(source, name);
        await withStore(flags.to, async (target) => {
          if (await target.getStudy(name)) throw new UsageError(`study '${name}' already exists in ${target.url}; remove it there first (sgdlab rm ${name} --db …) or copy to another store`);
          await target.loadStudy(dump);
          const running = dump.trials.filter((t) => t.status === 'running').length;
          process.stdout.write(`copied study ${name} from ${source.url} to ${target.url}: ${dump.trials.length} trials, ${dump.measurements.length} measurements, ${dump.artifacts.length} checkpoints`
            + `${moved > 0 ? ` (${moved} read from their directories into the store)` : ''}${running > 0 ? `; ${running} trial(s) running in the source are pending in the copy` : ''}\n`);
        });
      });
    });
}

function checkpointCommand(): Command {
  const c = new Command('checkpoint').description("a study's checkpoints");
  c.addCommand(dbOption(new Command('get'))
    .description("write a trial's checkpoint (model.safetensors, model.json, initial.safetensors) to a directory, wherever the store keeps it")
    .argument('<study>')
    .argument('<key>', 'the trial key (sgdlab export shows them)')
    .requiredOption('--out <dir>', 'the directory to write')
    .option('--level <loss>', 'the checkpoint saved when the training loss first fell below this level (training option checkpointAt)')
    .action((name: string, key: string, flags: { db?: string; out: string; level?: string }) => withStore(flags.db, async (store) => {
      const level = flags.level === undefined ? undefined : positiveFlag('level', flags.level, 0, false);
      await requireStudy(store, name);
      const trial = await store.trial(name, key);
      if (!trial) throw new UsageError(`study '${name}' has no trial '${key}' (sgdlab export ${name} lists the keys)`);
      const files = await checkpointFiles(store, trial, level);
      mkdirSync(flags.out, { recursive: true });
      for (const f of files) writeFileSync(join(flags.out, f.name), f.data);
      process.stdout.write(`${flags.out}: ${files.map((f) => `${f.name} (${f.data.byteLength} bytes)`).join(', ')}\n`);
    })));
  return c;
}

export const storeCommands = (): Command[] => [workerCommand(), copyCommand(), checkpointCommand()];
