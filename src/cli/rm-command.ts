/** `sgdlab rm STUDY --db URL [--artifacts DIR]`: deletes a study, everything stored for it, and its checkpoints. */
import { rmSync } from 'node:fs';
import { Command } from 'commander';
import { IN_STORE, artifactsDir } from '../study/index.js';
import { requireStudy, withStore } from './with-store.js';
import { dbOption } from './work-options.js';

export function rmCommand(): Command {
  return dbOption(new Command('rm'))
    .description('delete a study and everything stored for it')
    .argument('<study>')
    .option('--artifacts <dir>', 'also delete the study\'s checkpoints under this directory (the default one is always cleaned)')
    .action((name: string, flags: { db?: string; artifacts?: string }) => withStore(flags.db, async (store) => {
      await requireStudy(store, name);
      await store.deleteStudy(name);
      for (const base of new Set([store.defaultArtifacts, flags.artifacts ?? IN_STORE])) if (base !== IN_STORE) rmSync(artifactsDir(base, name), { recursive: true, force: true });
      process.stdout.write(`deleted study ${name} (and its checkpoints) from ${store.url}\n`);
    }));
}
