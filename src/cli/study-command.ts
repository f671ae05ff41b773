/**
 * Study commands. Only `run` trains (in worker processes); status, results, export and rm read the
 * store and never load libtorch. The store is a URL (--db or $SGDLAB_DB): a SQLite path or sqlite:PATH,
 * or postgres://USER@HOST/DB.
 *   sgdlab run STUDY.yaml --db URL [--workers N]
 *   sgdlab status [STUDY] --db URL
 *   sgdlab results STUDY --db URL [--json]   → [{ batchSize, bestLr, testAccuracy: { mean, std, n }, trainLoss: { … } }]
 *   sgdlab export STUDY --db URL --format csv|json
 *   sgdlab rm STUDY --db URL
 */
import { readFileSync, rmSync } from 'node:fs';
import { Command } from 'commander';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { BUILTIN_SIZES, BUILTIN_STUDIES, IN_STORE, artifactsDir, builtinStudy, bestByBatchSize, expandTrials, currentTrials, measurementJobs, openStore, parseStudy, runStudy, summarizeMeasurements, type StoredTrial, type Study, type StudyStore } from '../study/index.js';
import { writeReport } from '../report/index.js';
import { sgdlabVersion } from '../train/version.js';
import { UsageError } from './errors.js';
import { StudyProgress } from './study-progress.js';
import { dbOption, defaultDb, parseWorkOptions, workOptionsOf, writeSummary, type WorkFlags } from './work-options.js';

/** Opens the store of --db (or $SGDLAB_DB), runs `use`, and closes it. */
export async function withStore<T>(db: string | undefined, use: (store: StudyStore) => Promise<T>): Promise<T> {
  const store = await openStore(db ?? defaultDb());
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

export async function requireStudy(store: StudyStore, name: string): Promise<Study> {
  const found = await store.getStudy(name);
  if (!found) throw new UsageError(`no study '${name}' in ${store.url}; studies there: ${(await store.listStudies()).map((s) => s.name).join(', ') || 'none'}`);
  return found.study;
}


const fmt = (s: { mean: number; std: number; n: number }, pct = false) => (pct ? `${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)}%` : `${s.mean.toPrecision(4)} ± ${s.std.toPrecision(2)}`) + ` (n=${s.n})`;

function exportRows(trials: StoredTrial[]): Record<string, string | number | null>[] {
  type S = { train?: { loss: number; accuracy: number | null }; test?: { loss: number; accuracy: number | null }; validation?: { accuracy: number | null }; batchSize?: number; steps?: number };
  return trials.map((t) => {
    const r = (t.result ?? {}) as S;
    return {
      key: t.key, status: t.status, batchSize: r.batchSize ?? (typeof t.config.batchSize === 'number' ? t.config.batchSize : null), lr: t.config.optimizer.lr,
      seed: t.config.seed, budget: JSON.stringify(t.config.budget), steps: r.steps ?? null,
      trainLoss: r.train?.loss ?? null, trainAccuracy: r.train?.accuracy ?? null, testLoss: r.test?.loss ?? null, testAccuracy: r.test?.accuracy ?? null,
      validationAccuracy: r.validation?.accuracy ?? null, seconds: t.seconds, error: t.error, coordinates: JSON.stringify(t.coordinates),
    };
  });
}

const csvCell = (v: string | number | null) => (v === null ? '' : typeof v === 'number' ? String(v) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

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

export function studyCommands(): Command[] {
  const run = workOptionsOf(dbOption(new Command('run'))
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
      const result = await runStudy(study, { ...options, db: flags.db ?? defaultDb(), signal: controller.signal, onProgress: (p) => bars.update(p) });
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

  const status = dbOption(new Command('status'))
    .description('trial counts of the studies in the store')
    .argument('[study]', 'one study')
    .action((name: string | undefined, flags: { db?: string }) => withStore(flags.db, async (store) => {
      if (name) await requireStudy(store, name);
      const rows = (await store.listStudies()).filter((s) => !name || s.name === name);
      for (const s of rows) {
        const c = s.counts;
        const m = s.measurements;
        const measured = m.pending + m.running + m.completed + m.failed > 0 ? `; measurements: ${m.completed} completed, ${m.failed} failed, ${m.running} running, ${m.pending} pending` : '';
        process.stdout.write(`${s.name}: ${c.completed} completed, ${c.diverged} diverged, ${c.failed} failed, ${c.running} running, ${c.pending} pending${measured} (created ${s.createdAt})\n`);
        if (s.activeWorkers > 0) process.stdout.write(`  ${s.activeWorkers} worker(s) active\n`);
        if (s.refused > 0) {
          process.stdout.write(`  ${s.refused} late result(s) refused (stale attempts, not stored):\n`);
          for (const r of await store.refusals(s.name)) {
            process.stdout.write(`    ${r.kind} ${r.key}${r.measurement ? ` ${r.measurement}` : ''}: ${r.what} of attempt ${r.attempt} by ${r.worker || 'a worker'} refused at ${r.at} (current attempt ${r.currentAttempt})\n`);
          }
        }
      }
      if (rows.length === 0) process.stdout.write(`no studies in ${store.url}\n`);
    }));

  const results = dbOption(new Command('results'))
    .description('per batch size: the best learning rate (by the study\'s selection rule) and its metrics, mean ± std over seeds')
    .argument('<study>')
    .option('--json', 'print JSON')
    .action((name: string, flags: { db?: string; json?: boolean }) => withStore(flags.db, async (store) => {
      {
        const study = await requireStudy(store, name);
        const measurements = await store.measurements(study.name);
        const trials = await currentTrials(store, study);
        const jobs = measurementJobs(study, trials);
        const rows = bestByBatchSize(study, trials).map((r) => ({ ...r, measurements: summarizeMeasurements(jobs, r.bestTrials, measurements) }));
        if (flags.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else {
          const names = [...new Set(rows.flatMap((r) => Object.keys(r.measurements)))];
          const series = rows.some((r) => r.series !== '');
          process.stdout.write(`|${series ? ' series |' : ''} budget | batch size | best lr | test accuracy | training loss |${names.map((n) => ` ${n} |`).join('')}\n|${series ? '---|' : ''}---|---:|---:|---:|---:|${names.map(() => '---:|').join('')}\n`);
          for (const r of rows) process.stdout.write(`|${series ? ` ${r.series} |` : ''} ${JSON.stringify(r.budget)} | ${r.batchSize} | ${r.bestLr} | ${fmt(r.testAccuracy, true)} | ${fmt(r.trainLoss)} |${names.map((n) => ` ${r.measurements[n] ? fmt(r.measurements[n]!) : ''} |`).join('')}\n`);
        }
      }
    }));

  const exportCommand = dbOption(new Command('export'))
    .description('every trial with its configuration coordinates and final metrics')
    .argument('<study>')
    .option('--format <format>', 'csv or json (default csv)')
    .action(async (name: string, flags: { db?: string; format?: string }) => {
      const format = flags.format ?? 'csv';
      if (format !== 'csv' && format !== 'json') throw new UsageError(`--format: '${format}' must be csv or json`);
      await withStore(flags.db, async (store) => {
        const rows = exportRows(await currentTrials(store, await requireStudy(store, name)));
        if (format === 'json') process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else {
          const columns = Object.keys(rows[0] ?? { key: '' });
          process.stdout.write(`${columns.join(',')}\n${rows.map((r) => columns.map((c) => csvCell(r[c] ?? null)).join(',')).join('\n')}\n`);
        }
      });
    });

  const rm = dbOption(new Command('rm'))
    .description('delete a study and everything stored for it')
    .argument('<study>')
    .option('--artifacts <dir>', 'also delete the study\'s checkpoints under this directory (the default one is always cleaned)')
    .action((name: string, flags: { db?: string; artifacts?: string }) => withStore(flags.db, async (store) => {
      await requireStudy(store, name);
      await store.deleteStudy(name);
      for (const base of new Set([store.defaultArtifacts, flags.artifacts ?? IN_STORE])) if (base !== IN_STORE) rmSync(artifactsDir(base, name), { recursive: true, force: true });
      process.stdout.write(`deleted study ${name} (and its checkpoints) from ${store.url}\n`);
    }));

  const report = dbOption(new Command('report'))
    .description('write the study\'s report: index.html (self-contained), one SVG and PNG per figure, the Vega-Lite specs, tables.json')
    .argument('<study>')
    .option('--out <dir>', 'output folder (default: reports/STUDY)')
    .action((name: string, flags: { db?: string; out?: string }) => withStore(flags.db, async (store) => {
      const study = await requireStudy(store, name);
      const written = await writeReport(store, study, flags.out ?? `reports/${name}`);
      process.stdout.write(`${written.index}: ${written.figures.length} figures (${written.figures.map((f) => f.id).join(', ')}), ${written.tables.length} tables\n`);
    }));

  const builtin = new Command('builtin').description('the built-in studies (the papers sgdlab reproduces)');
  builtin.addCommand(new Command('list')
    .description('the built-in studies, their sizes and trial counts')
    .action(() => {
      for (const b of BUILTIN_STUDIES) {
        const sizes = BUILTIN_SIZES.map((size) => `${size}: ${expandTrials(builtinStudy(b.name, size), sgdlabVersion()).length} trials`).join(', ');
        process.stdout.write(`${b.name} — ${b.description}\n  paper: ${b.paper}\n  sizes: ${sizes}\n  run: sgdlab run --builtin ${b.name} --size quick --db PATH --report DIR\n`);
      }
    }));
  builtin.addCommand(new Command('show')
    .description('print a built-in study as a study file (YAML), to copy and edit')
    .argument('<name>')
    .option('--size <size>', 'smoke, quick (default) or full')
    .action((name: string, flags: { size?: string }) => {
      process.stdout.write(toYaml(builtinStudy(name, flags.size ?? 'quick')));
    }));

  return [run, status, results, exportCommand, rm, report, builtin];
}
