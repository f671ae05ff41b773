/**
 * `sgdlab results STUDY --db URL [--json]`: per batch size, the best learning rate (by the study's
 * selection rule) and its metrics, mean ± std over seeds, with the measurements' summaries.
 *   → [{ batchSize, bestLr, testAccuracy: { mean, std, n }, trainLoss: { … }, measurements: { … } }]
 */
import { Command } from 'commander';
import { bestByBatchSize, currentTrials, measurementJobs, summarizeMeasurements } from '../study/index.js';
import { requireStudy, withStore } from './with-store.js';
import { dbOption } from './work-options.js';

const fmt = (s: { mean: number; std: number; n: number }, pct = false) => (pct ? `${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)}%` : `${s.mean.toPrecision(4)} ± ${s.std.toPrecision(2)}`) + ` (n=${s.n})`;

export function resultsCommand(): Command {
  return dbOption(new Command('results'))
    .description('per batch size: the best learning rate (by the study\'s selection rule) and its metrics, mean ± std over seeds')
    .argument('<study>')
    .option('--json', 'print JSON')
    .action((name: string, flags: { db?: string; json?: boolean }) => withStore(flags.db, async (store) => {
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
    }));
}
