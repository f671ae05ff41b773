/**
 * `sgdlab retry STUDY --db URL`: queues a study's failed trials and measurements again (a worker killed
 * over its memory limit, a crash, a disk that filled up), so that the next `sgdlab run` or `sgdlab worker`
 * trains and measures them with their next attempt. Completed, diverged and pruned trials are untouched.
 */
import { Command } from 'commander';
import { requireStudy, withStore } from './with-store.js';
import { dbOption } from './work-options.js';

export function retryCommand(): Command {
  return dbOption(new Command('retry'))
    .description("queue a study's failed trials and measurements again (the next run or worker takes them)")
    .argument('<study>')
    .action((name: string, flags: { db?: string }) => withStore(flags.db, async (store) => {
      await requireStudy(store, name);
      const { trials, measurements } = await store.retryFailed(name);
      process.stdout.write(trials + measurements === 0
        ? `study ${name} has no failed trial or measurement\n`
        : `queued again in study ${name}: ${trials} failed trial(s), ${measurements} failed measurement(s); \`sgdlab run\` (the same study) or \`sgdlab worker --db …\` takes them\n`);
    }));
}
