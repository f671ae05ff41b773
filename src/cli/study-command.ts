/**
 * Study commands. Only `run` trains (in worker processes); status, results, export and rm read the
 * store and never load libtorch.
 *   sgdlab run STUDY.yaml --db PATH [--workers N]
 *   sgdlab status [STUDY] --db PATH
 *   sgdlab results STUDY --db PATH [--json]   → [{ batchSize, bestLr, testAccuracy: { mean, std, n }, trainLoss: { … } }]
 *   sgdlab export STUDY --db PATH --format csv|json
 *   sgdlab rm STUDY --db PATH
 */
import { readFileSync, rmSync } from 'node:fs';
import { Command } from 'commander';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { BUILTIN_SIZES, BUILTIN_STUDIES, SqliteStudyStore, builtinStudy, bestByBatchSize, expandTrials, checkpointDir, currentTrials, measurementJobs, parseStudy, runStudy, summarizeMeasurements, type StoredTrial, type Study } from '../study/index.js';
import { writeReport } from '../report/index.js';
import { sgdlabVersion } from '../train/version.js';
import { UsageError } from './errors.js';
import { StudyProgress } from './study-progress.js';

const defaultDb = () => process.env.SGDLAB_DB ?? 'sgdlab.db';
const dbOption = (c: Command) => c.option('--db <path>', 'the study store (SQLite file; default $SGDLAB_DB or ./sgdlab.db)');

function openStore(path: string | undefined): SqliteStudyStore {
  return new SqliteStudyStore(path ?? defaultDb());
}

function requireStudy(store: SqliteStudyStore, name: string) {
  const found = store.getStudy(name);
  if (!found) throw new UsageError(`no study '${name}' in ${store.path}; studies there: ${store.listStudies().map((s) => s.name).join(', ') || 'none'}`);
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
  const run = dbOption(new Command('run'))
    .description('run a study: every trial of its grid that is not done yet, in parallel worker processes')
    .argument('[study]', 'the study file (YAML or JSON)')
    .option('--builtin <name>', 'run a built-in study instead (sgdlab builtin list)')
    .option('--size <size>', 'size of the built-in study: smoke, quick (default) or full')
    .option('--report <dir>', 'write the HTML report to this folder when the run ends')
    .option('--workers <n>', 'worker processes (default: one per core)')
    .option('--max-memory-mb <mb>', "each worker's resident memory limit: a worker over it is killed and its trial recorded as failed (default: 90% of memory shared among the workers)")
    .action(async (file: string | undefined, flags: { db?: string; workers?: string; maxMemoryMb?: string; builtin?: string; size?: string; report?: string }) => {
      const study = loadStudy(file, flags);
      const workers = flags.workers === undefined ? undefined : Number(flags.workers);
      if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) throw new UsageError(`--workers: '${flags.workers}' must be a positive integer`);
      const maxMemoryMb = flags.maxMemoryMb === undefined ? undefined : Number(flags.maxMemoryMb);
      if (maxMemoryMb !== undefined && !(Number.isFinite(maxMemoryMb) && maxMemoryMb > 0)) throw new UsageError(`--max-memory-mb: '${flags.maxMemoryMb}' must be a positive number of megabytes`);
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once('SIGINT', interrupt);
      const bars = new StudyProgress(study.name);
      const result = await runStudy(study, { db: flags.db ?? defaultDb(), workers, maxMemoryMb, signal: controller.signal, onProgress: (p) => bars.update(p), onWarning: (w) => process.stderr.write(`warning: ${w}\n`) });
      process.off('SIGINT', interrupt);
      bars.stop();
      const c = result.counts;
      const m = result.measurements;
      process.stdout.write(`${study.name}: ${c.completed} completed, ${c.diverged} diverged, ${c.failed} failed, ${c.pending + c.running} left (${result.added} new trials this run)\n`);
      if (study.measure) process.stdout.write(`measurements: ${m.completed} completed, ${m.failed} failed, ${m.pending + m.running} left (${result.measurementsAdded} new this run)\n`);
      if (result.memoryKills > 0) process.stdout.write(`${result.memoryKills} worker(s) killed over the memory limit: their trials are recorded as failed (raise --max-memory-mb)\n`);
      if (result.crashes > 0) process.stdout.write(`${result.crashes} worker(s) died: their trials are recorded as failed with the reason (sgdlab export shows it)\n`);
      for (const e of result.errors) process.stderr.write(`error: ${e}\n`);
      if (result.aborted) {
        process.stderr.write('interrupted: run the same command again to resume\n');
        process.exitCode = 130;
      } else if (result.errors.length > 0) process.exitCode = 1;
      if (flags.report && !result.aborted) {
        const store = openStore(flags.db);
        try {
          const written = await writeReport(store, study, flags.report);
          process.stdout.write(`report: ${written.index} (${written.figures.length} figures)\n`);
        } finally {
          store.close();
        }
      }
    });

  const status = dbOption(new Command('status'))
    .description('trial counts of the studies in the store')
    .argument('[study]', 'one study')
    .action((name: string | undefined, flags: { db?: string }) => {
      const store = openStore(flags.db);
      try {
        if (name) requireStudy(store, name);
        const rows = store.listStudies().filter((s) => !name || s.name === name);
        for (const s of rows) {
          const c = s.counts;
          const m = s.measurements;
          const measured = m.pending + m.running + m.completed + m.failed > 0 ? `; measurements: ${m.completed} completed, ${m.failed} failed, ${m.running} running, ${m.pending} pending` : '';
          process.stdout.write(`${s.name}: ${c.completed} completed, ${c.diverged} diverged, ${c.failed} failed, ${c.running} running, ${c.pending} pending${measured} (created ${s.createdAt})\n`);
        }
        if (rows.length === 0) process.stdout.write(`no studies in ${store.path}\n`);
      } finally {
        store.close();
      }
    });

  const results = dbOption(new Command('results'))
    .description('per batch size: the best learning rate (by the study\'s selection rule) and its metrics, mean ± std over seeds')
    .argument('<study>')
    .option('--json', 'print JSON')
    .action((name: string, flags: { db?: string; json?: boolean }) => {
      const store = openStore(flags.db);
      try {
        const study = requireStudy(store, name);
        const measurements = store.measurements(study.name);
        const trials = currentTrials(store, study);
        const jobs = measurementJobs(study, trials);
        const rows = bestByBatchSize(study, trials).map((r) => ({ ...r, measurements: summarizeMeasurements(jobs, r.bestTrials, measurements) }));
        if (flags.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else {
          const names = [...new Set(rows.flatMap((r) => Object.keys(r.measurements)))];
          const series = rows.some((r) => r.series !== '');
          process.stdout.write(`|${series ? ' series |' : ''} budget | batch size | best lr | test accuracy | training loss |${names.map((n) => ` ${n} |`).join('')}\n|${series ? '---|' : ''}---|---:|---:|---:|---:|${names.map(() => '---:|').join('')}\n`);
          for (const r of rows) process.stdout.write(`|${series ? ` ${r.series} |` : ''} ${JSON.stringify(r.budget)} | ${r.batchSize} | ${r.bestLr} | ${fmt(r.testAccuracy, true)} | ${fmt(r.trainLoss)} |${names.map((n) => ` ${r.measurements[n] ? fmt(r.measurements[n]!) : ''} |`).join('')}\n`);
        }
      } finally {
        store.close();
      }
    });

  const exportCommand = dbOption(new Command('export'))
    .description('every trial with its configuration coordinates and final metrics')
    .argument('<study>')
    .option('--format <format>', 'csv or json (default csv)')
    .action((name: string, flags: { db?: string; format?: string }) => {
      const format = flags.format ?? 'csv';
      if (format !== 'csv' && format !== 'json') throw new UsageError(`--format: '${format}' must be csv or json`);
      const store = openStore(flags.db);
      try {
        const rows = exportRows(currentTrials(store, requireStudy(store, name)));
        if (format === 'json') process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else {
          const columns = Object.keys(rows[0] ?? { key: '' });
          process.stdout.write(`${columns.join(',')}\n${rows.map((r) => columns.map((c) => csvCell(r[c] ?? null)).join(',')).join('\n')}\n`);
        }
      } finally {
        store.close();
      }
    });

  const rm = dbOption(new Command('rm'))
    .description('delete a study and everything stored for it')
    .argument('<study>')
    .action((name: string, flags: { db?: string }) => {
      const store = openStore(flags.db);
      try {
        requireStudy(store, name);
        store.deleteStudy(name);
        rmSync(checkpointDir(store.path, name), { recursive: true, force: true });
        process.stdout.write(`deleted study ${name} (and its checkpoints) from ${store.path}\n`);
      } finally {
        store.close();
      }
    });

  const report = dbOption(new Command('report'))
    .description('write the study\'s report: index.html (self-contained), one SVG and PNG per figure, the Vega-Lite specs, tables.json')
    .argument('<study>')
    .option('--out <dir>', 'output folder (default: reports/STUDY)')
    .action(async (name: string, flags: { db?: string; out?: string }) => {
      const store = openStore(flags.db);
      try {
        const study = requireStudy(store, name);
        const written = await writeReport(store, study, flags.out ?? `reports/${name}`);
        process.stdout.write(`${written.index}: ${written.figures.length} figures (${written.figures.map((f) => f.id).join(', ')}), ${written.tables.length} tables\n`);
      } finally {
        store.close();
      }
    });

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
