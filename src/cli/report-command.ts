/** `sgdlab report STUDY --db URL [--out DIR]`: writes the study's report (src/report/). */
import { Command } from 'commander';
import { writeReport } from '../report/index.js';
import { requireStudy, withStore } from './with-store.js';
import { dbOption } from './work-options.js';

export function reportCommand(): Command {
  return dbOption(new Command('report'))
    .description('write the study\'s report: index.html (self-contained), one SVG and PNG per figure, the Vega-Lite specs, tables.json')
    .argument('<study>')
    .option('--out <dir>', 'output folder (default: reports/STUDY)')
    .action((name: string, flags: { db?: string; out?: string }) => withStore(flags.db, async (store) => {
      const study = await requireStudy(store, name);
      const written = await writeReport(store, study, flags.out ?? `reports/${name}`);
      process.stdout.write(`${written.index}: ${written.figures.length} figures (${written.figures.map((f) => f.id).join(', ')}), ${written.tables.length} tables\n`);
    }));
}
