/**
 * `npm run bench:dashboard`: the dashboard at scale (issue 12). A stored study of 10,000 trials
 * (10 batch sizes × 20 learning rates × 50 seeds, made-up results written through the store's
 * interface) and 1,000,000 metric rows (98 per trial, and one running trial of 20,000 rows), in
 * SQLite. Measured against `sgdlab serve`'s server in this process:
 *  - every API answer the pages use: the first (cold: nothing cached) and the median and worst of
 *    20 more (warm), milliseconds, over loopback HTTP;
 *  - the study page in Chromium: first contentful paint, and the time until its figures are drawn
 *    and its trials table is filled (from navigation start).
 * The store is made once and kept (SGDLAB_BENCH_DB, default /tmp/sgdlab-bench-dashboard.db): making it
 * takes minutes; measuring, seconds.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { expandTrials, openStore, type StudyStore } from '../src/study/index.js';
import { sgdlabVersion } from '../src/train/version.js';
import { DashboardData } from '../src/dashboard/data.js';
import { startDashboard } from '../src/dashboard/server.js';
import { launchChromium, syntheticStudy, writeSyntheticStudy } from '../src/dashboard/testing.js';

const DB = process.env.SGDLAB_BENCH_DB ?? '/tmp/sgdlab-bench-dashboard.db';
const NAME = 'bench-10k';
const SHAPE = { name: NAME, batchSizes: [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096], lrs: Array.from({ length: 20 }, (_, i) => Number((0.001 * 1.5 ** i).toPrecision(4))), seeds: 50, stepsStored: 78 };
const LONG_ROWS = 20_000;

async function prepare(store: StudyStore): Promise<void> {
  const started = performance.now();
  process.stderr.write(`bench:dashboard: writing ${DB} (10,000 trials, 1,000,000 metric rows; a few minutes)\n`);
  await writeSyntheticStudy(store, SHAPE);
  await writeLongTrial(store, Array.from({ length: LONG_ROWS }, (_, i) => ({ step: i, name: 'loss', value: 2 * Math.exp(-i / 40_000) + 0.1 * Math.sin(i / 50) })));
  process.stderr.write(`bench:dashboard: written in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

/** A second study of one trial, running, whose 20,000 rows were stored as it trained (as a worker streams them). */
async function writeLongTrial(store: StudyStore, rows: { step: number; name: string; value: number }[]): Promise<void> {
  const study = { ...syntheticStudy({ name: 'long', batchSizes: [8], lrs: [0.1], seeds: 1 }), name: `${NAME}-long` };
  await store.upsertStudy(study, expandTrials(study, sgdlabVersion()));
  const t = (await store.claim(study.name, 'bench:1:1'))!;
  for (let i = 0; i < rows.length; i += 10_000) await store.addMetrics(study.name, t.key, t.attempt, rows.slice(i, i + 10_000));
}

function get(port: number, path: string): Promise<{ ms: number; bytes: number; status: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ ms: performance.now() - started, bytes, status: res.statusCode ?? 0 }));
    }).on('error', reject).end();
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const fresh = !existsSync(DB);
const store = await openStore(DB);
if (fresh || !(await store.getStudy(NAME))) await prepare(store);
const summary = (await store.listStudies()).find((s) => s.name === NAME)!;
const trials = Object.values(summary.counts).reduce((a, b) => a + b, 0);
const some = (await store.trials(NAME)).filter((t) => t.status === 'completed')[1234]!;
const longStudy = `${NAME}-long`;
const long = (await store.trials(`${NAME}-long`))[0]!;
const metricRows = (await store.metrics(NAME, some.key)).length * trials + (await store.metrics(`${NAME}-long`, long.key)).length;
// From start to every cache filled (every study's trials read, every report computed in the report thread).
const startedAt = performance.now();
const data = new DashboardData(store, DB);
const dash = await startDashboard({ data, host: '127.0.0.1', port: 0, token: undefined });
await data.prewarm();
const report = (await data.currentReport(NAME))!;
const warmUp = { seconds: (performance.now() - startedAt) / 1000, reportMs: report.computeMs };
const enc = encodeURIComponent;
const routes: [string, string][] = [
  ['studies list', '/api/studies'],
  ['study (counts, workers, axes)', `/api/studies/${NAME}`],
  ['report (tables, every figure)', `/api/studies/${NAME}/report`],
  ['trials page 1, sorted by key', `/api/studies/${NAME}/trials?limit=25`],
  ['trials: filter B and status, sort by test accuracy', `/api/studies/${NAME}/trials?status=completed&f.batchSize=256&sort=testAccuracy&dir=desc&limit=25`],
  ['trials: sort by a coordinate, page 200', `/api/studies/${NAME}/trials?sort=${enc('c.optimizer.lr')}&offset=5000&limit=25`],
  ['trial detail', `/api/studies/${NAME}/trials/${some.key}`],
  ['trial curves (100 rows)', `/api/studies/${NAME}/trials/${some.key}/curves?points=1000`],
  ['trial curves (20,000 rows → 1,000 points)', `/api/studies/${NAME}-long/trials/${long.key}/curves?points=1000`],
];
const rows: { route: string; cold: number; median: number; worst: number; kb: number }[] = [];
for (const [label, path] of routes) {
  const cold = await get(dash.port, path);
  if (cold.status !== 200) throw new Error(`${path}: ${cold.status}`);
  const warm: number[] = [];
  for (let i = 0; i < 20; i++) warm.push((await get(dash.port, path)).ms);
  rows.push({ route: label, cold: cold.ms, median: median(warm), worst: Math.max(...warm), kb: cold.bytes / 1024 });
}

// The study page in Chromium, twice (the second with the server's caches warm, as for any later visitor).
const browser = await launchChromium();
const paint: { fcp: number; first: number; complete: number; figures: number }[] = [];
for (let round = 0; round < 3; round++) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${dash.url}studies/${NAME}`);
  // The first screen: progress, tables, the first figure drawn and the trials table filled.
  await page.waitForFunction(() => document.querySelector('.figure svg g[class^="mark-"]') && document.querySelectorAll('table.trials tbody tr').length === 25, undefined, { timeout: 60_000, polling: 'raf' });
  const first = await page.evaluate(() => performance.now());
  // The rest are drawn as they come near the screen: scroll through them.
  for (const figure of await page.locator('.figure').all()) await figure.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => [...document.querySelectorAll('.figure')].every((f) => f.querySelector('svg g[class^="mark-"]')), undefined, { timeout: 60_000, polling: 'raf' });
  const t = await page.evaluate(() => ({
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
    complete: performance.now(),
    figures: document.querySelectorAll('.figure').length,
  }));
  paint.push({ fcp: t.fcp, first, complete: t.complete, figures: t.figures });
  await page.close();
}
await browser.close();
await dash.close();
await data.close();
await store.close();

process.stdout.write(`Store: ${DB} (SQLite), study ${NAME}: ${trials} trials, ${metricRows.toLocaleString('en')} metric rows.\n\n`);
process.stdout.write(`Server start to caches filled: ${warmUp.seconds.toFixed(1)} s (of which the report, in its thread: ${(warmUp.reportMs / 1000).toFixed(1)} s; API answers meanwhile are served, the report's with 202 until it is ready).\n\n`);
process.stdout.write('| API answer | first ms | median of 20 ms | worst of 20 ms | size KiB (gzip for the report) |\n|---|---:|---:|---:|---:|\n');
for (const r of rows) process.stdout.write(`| ${r.route} | ${r.cold.toFixed(1)} | ${r.median.toFixed(1)} | ${r.worst.toFixed(1)} | ${r.kb.toFixed(1)} |\n`);
process.stdout.write('\n| study page in Chromium | first contentful paint ms | first figure drawn and trials table filled ms | all figures drawn, scrolling through them ms |\n|---|---:|---:|---:|\n');
paint.forEach((p, i) => process.stdout.write(`| visit ${i + 1} (${p.figures} figures) | ${p.fcp.toFixed(0)} | ${p.first.toFixed(0)} | ${p.complete.toFixed(0)} |\n`));
