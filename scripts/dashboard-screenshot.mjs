#!/usr/bin/env node
// A screenshot of a study's dashboard page (the one in docs/ and the README):
//   node scripts/dashboard-screenshot.mjs DB STUDY OUT.png [WIDTH]
// Serves DB with the dashboard on a free loopback port, opens /studies/STUDY in Debian's Chromium
// (playwright-core), waits for every figure and the trials table, and saves the page's first screens.
import { openStore } from '../dist/src/study/index.js';
import { DashboardData, startDashboard } from '../dist/src/dashboard/index.js';
import { launchChromium } from '../dist/src/dashboard/testing.js';

const [db, study, out, width = '1280'] = process.argv.slice(2);
if (!db || !study || !out) {
  console.error('usage: node scripts/dashboard-screenshot.mjs DB STUDY OUT.png [WIDTH]');
  process.exit(2);
}
const store = await openStore(db);
const data = new DashboardData(store, db);
const dash = await startDashboard({ data, host: '127.0.0.1', port: 0, token: undefined });
await data.currentReport(study);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: Number(width), height: 1600 }, deviceScaleFactor: 1 });
  await page.goto(`${dash.url}studies/${encodeURIComponent(study)}`);
  await page.waitForFunction(() => document.querySelector('.figure svg g[class^="mark-"]') && document.querySelector('table.trials tbody tr'), undefined, { timeout: 60_000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: out, fullPage: false });
  console.error(`${out}: the study page of ${study}`);
} finally {
  await browser.close();
  await dash.close();
  await data.close();
  await store.close();
}
