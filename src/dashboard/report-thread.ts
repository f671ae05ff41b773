/**
 * The report's tables and figures, computed in a thread of its own with its own store connection:
 * for a large study this is seconds of work (its whole grid expanded, every trial read, the figures
 * built and checked), which must not hold up the server's answers. The main thread (data.ts) asks for
 * a study and gets the answer serialized and gzipped, ready to send as it is. The report's own
 * functions make it (loadReportData, reportFigures, resultTables); the only change is
 * the learning curves' data: at most CURVE_SEEDS seeds per batch size, each downsampled to at most
 * CURVE_POINTS points per metric (the report draws every seed of every best trial, too many lines for
 * a browser at the scale of thousands of trials).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { loadReportData } from '../report/data.js';
import { reportFigures } from '../report/builtin/index.js';
import { resultTables } from '../report/tables.js';
import { openStore, type Metric, type StudyStore } from '../study/index.js';
import type { FigureData, StudyReport } from './api.js';
import { minMaxDecimate } from './downsample.js';
import { interactiveSpec } from './interactive.js';

export const CURVE_SEEDS = 5;
export const CURVE_POINTS = 150;

export type ReportRequest = { name: string; version: string };
export type ReportAnswer = { name: string; version: string; json: Uint8Array; gzip: Uint8Array } | { name: string; version: string; error: string };

/** At most `points` points per metric, series kept apart. */
function thin(rows: readonly Metric[], points: number): Metric[] {
  const byName = new Map<string, Metric[]>();
  for (const r of rows) (byName.get(r.name) ?? byName.set(r.name, []).get(r.name)!).push(r);
  return [...byName.values()].flatMap((series) => minMaxDecimate(series.sort((a, b) => a.step - b.step), points));
}

export async function computeReport(store: StudyStore, name: string, version: string): Promise<StudyReport> {
  const started = performance.now();
  const found = await store.getStudy(name);
  if (!found) throw new Error(`no study '${name}'`);
  const data = await loadReportData(store, found.study);
  const drawn = new Set(data.rows.flatMap((r) => r.bestTrials.slice(0, CURVE_SEEDS)));
  data.curves = new Map([...data.curves].filter(([key]) => drawn.has(key)).map(([key, rows]) => [key, thin(rows, CURVE_POINTS)]));
  const figures: FigureData[] = reportFigures(data).map((f) => ({ id: f.id, title: f.title, caption: f.caption, spec: interactiveSpec(f.spec) }));
  return { version, tables: resultTables(data.rows), figures, computeMs: performance.now() - started };
}

if (parentPort && (workerData as { role?: string } | undefined)?.role === 'report') {
  const port = parentPort;
  const store = await openStore((workerData as { url: string }).url);
  port.on('message', (m: ReportRequest) => {
    void computeReport(store, m.name, m.version).then(
      (report) => {
        const json = Buffer.from(JSON.stringify(report));
        const answer: ReportAnswer = { name: m.name, version: m.version, json, gzip: gzipSync(json) };
        port.postMessage(answer);
      },
      (error: Error) => port.postMessage({ name: m.name, version: m.version, error: error.message } satisfies ReportAnswer),
    );
  });
}
