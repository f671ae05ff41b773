/**
 * `sgdlab report STUDY --out DIR`: reads a study from the store and writes DIR/index.html (self-
 * contained), one SVG and one PNG per figure, each figure's Vega-Lite spec (FIGURE.vl.json, data
 * inlined) and the tables as JSON (tables.json). Needs no addon.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Study, StudyStore } from '../study/index.js';
import { sgdlabVersion } from '../train/version.js';
import { loadReportData, type ReportData } from './data.js';
import type { Figure } from './figures.js';
import { builtinTables, reportFigures } from './builtin/index.js';
import { reportHtml } from './html.js';
import { renderSvg, svgToPng } from './render.js';
import { problemTable, prunedTable, resultTables, type Table } from './tables.js';

export interface WrittenReport {
  dir: string;
  index: string;
  figures: { id: string; svg: string; png: string; spec: string }[];
  tables: Table[];
  data: ReportData;
}

export async function writeReport(store: StudyStore, study: Study, outDir: string, options: { extraFigures?: (d: ReportData) => Figure[] } = {}): Promise<WrittenReport> {
  const data = await loadReportData(store, study);
  const figures = [...reportFigures(data), ...(options.extraFigures?.(data) ?? [])];
  const tables = [...builtinTables(data), ...resultTables(data.rows), ...problemTable(data.problems), ...prunedTable(data.trials)];
  mkdirSync(outDir, { recursive: true });
  const written: WrittenReport['figures'] = [];
  const rendered: { figure: Figure; svg: string }[] = [];
  for (const figure of figures) {
    const svg = await renderSvg(figure.spec);
    const files = { id: figure.id, svg: join(outDir, `${figure.id}.svg`), png: join(outDir, `${figure.id}.png`), spec: join(outDir, `${figure.id}.vl.json`) };
    writeFileSync(files.svg, svg);
    writeFileSync(files.png, await svgToPng(svg));
    writeFileSync(files.spec, `${JSON.stringify(figure.spec, null, 1)}\n`);
    written.push(files);
    rendered.push({ figure, svg });
  }
  writeFileSync(join(outDir, 'tables.json'), `${JSON.stringify(tables, null, 1)}\n`);
  const counts = data.trials.reduce((c, t) => ({ ...c, [t.status]: (c[t.status] ?? 0) + 1 }), {} as Record<string, number>);
  const index = join(outDir, 'index.html');
  writeFileSync(index, reportHtml({
    title: `Study ${study.name}`,
    summary: [
      ...(study.description ? [study.description] : []),
      `${data.trials.length} trials: ${Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(', ')}. Best learning rate per batch size chosen by ${study.select}.`,
      ...(data.problems.length > 0 ? [`${data.problems.length} problem(s): see the table "What failed".`] : []),
      ...(study.prune ? [`Pruning: ${study.prune.rule === 'asha' ? `ASHA (Li et al. 2020, η = ${study.prune.reductionFactor})` : 'median stopping (Golovin et al. 2017)'} across ${study.prune.across.join(', ')}; ${counts.pruned ?? 0} trial(s) stopped early (table "Stopped early"); the best learning rate is chosen among trials that ran to the end.`] : []),
      ...(study.measure ? [`Measurements (${study.measure.what.join(', ')}) on ${study.measure.trials === 'best' ? "the best learning rate's seeds" : 'every completed trial'}: ${data.measurements.length} completed.`] : []),
    ],
    figures: rendered,
    tables,
    generatedBy: `sgdlab ${sgdlabVersion()}, ${new Date().toISOString()}`,
  }));
  return { dir: outDir, index, figures: written, tables, data };
}
