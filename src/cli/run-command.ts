/**
 * `sgdlab run STUDY.yaml|--builtin NAME [--size S] --db URL [--workers N] [--report DIR]`: registers a study
 * (or its new grid points) in the store and runs every trial not done yet in local worker processes
 * (src/study/runner.ts); this process never loads libtorch. Ctrl-C stops; the same command resumes.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { builtinStudy, parseStudy, runStudy, type Study } from '../study/index.js';
import { writeReport } from '../report/index.js';
import { UsageError } from './errors.js';
import { StudyProgress } from './study-progress.js';
import { withStore } from './with-store.js';
import { dbOption, defaultDb, parseWorkOptions, workOptionsOf, writeSummary, type WorkFlags } from './work-options.js';

/** The study to run: a file, or a built-in study at a size. */
function loadStudy(file: string | undefined, flags: { builtin?: string; size?: string }): Study {
  if (flags.builtin !== undefined) {
    if (file !== undefined) throw new UsageError(`give a study file or --builtin, not both (got ${file} and --builtin ${flags.builtin})`);
    return builtinStudy(flags.builtin, flags.size ?? 'quick');
  }
  if (flags.size !== undefined) throw new UsageError('--size applies to --builtin studies only');
  if (file === undefined) throw new UsageError('give a study file (sgdlab run STUDY.yaml) or a built-in study (sgdlab run --builtin NAME; sgdlab builtin list)');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the study file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    throw new UsageError(`${file} is not valid YAML: ${(error as Error).message}`);
  }
  return parseStudy(raw, file);
}

export function runCommand(): Command {
  return workOptionsOf(dbOption(new Command('run'))
    .description('run a study: register it (or its new grid points) in the store and run every trial not done yet in parallel worker processes')
    .argument('[study]', 'the study file (YAML or JSON)')
    .option('--builtin <name>', 'run a built-in study instead (sgdlab builtin list)')
    .option('--size <size>', 'size of the built-in study: smoke, quick (default) or full')
    .option('--report <dir>', 'write the HTML report to this folder when the run ends'), 'worker processes on this machine (default: one per core; 0: register the study only, for `sgdlab worker` on other machines)')
    .action(async (file: string | undefined, flags: WorkFlags & { db?: string; builtin?: string; size?: string; report?: string }) => {
      const study = loadStudy(file, flags);
      const options = parseWorkOptions(flags, 0);
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      const bars = new StudyProgress(study.name);
      const result = await runStudy(study, { ...options, db: flags.db ?? defaultDb(), signal: controller.signal, onProgress: (p) => bars.update(p), onWarning: (w) => process.stderr.write(`warning: ${w}\n`) });
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
      bars.stop();
      writeSummary(study, result, result.added);
      if (options.workers === 0) process.stdout.write(`registered: start workers with sgdlab worker --db URL --study ${study.name}\n`);
      if (result.aborted) {
        process.stderr.write('interrupted: run the same command again to resume\n');
        process.exitCode = 130;
      } else if (result.errors.length > 0 || result.unreachable.length > 0) process.exitCode = 1;
      if (flags.report && !result.aborted) {
        await withStore(flags.db, async (store) => {
          const written = await writeReport(store, study, flags.report!);
          process.stdout.write(`report: ${written.index} (${written.figures.length} figures)\n`);
        });
      }
    });
}
