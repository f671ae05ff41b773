/** `sgdlab export STUDY --db URL [--format csv|json]`: every trial of the current grid with its coordinates and final metrics. */
import { Command } from 'commander';
import { currentTrials, type StoredTrial } from '../study/index.js';
import { UsageError } from './errors.js';
import { requireStudy, withStore } from './with-store.js';
import { dbOption } from './work-options.js';

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

export function exportCommand(): Command {
  return dbOption(new Command('export'))
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
}
