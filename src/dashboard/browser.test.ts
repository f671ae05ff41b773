/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core; the test fails, never
 * skips, when it cannot start), against real stores and the real server: a real study running in
 * `sgdlab run` reaches 100% on the studies page without a reload, with the counts `sgdlab status`
 * prints; the figures draw (SVG marks, no console error); a training trial's curve gains points;
 * nothing is requested outside the server's origin; stored HTML renders as text; the trials table
 * works from the keyboard. SGDLAB_DASHBOARD_SCREENSHOT=FILE keeps a screenshot of the study page.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openStore, type StudyStore } from '../study/index.js';
import { repoRoot, sgdlabCli, smallMlpStudy } from '../study/testing.js';
import { DashboardData } from './data.js';
import { startDashboard, type RunningDashboard } from './server.js';
import { launchChromium, writeSyntheticStudy } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'sgdlab-browser-'));
let browser: Browser;

before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** A page that records every request and every console error or uncaught exception, and fails on any dialog (alert). */
async function watchedPage(): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => {
    errors.push(`a dialog opened: ${d.message()}`);
    void d.dismiss();
  });
  return { page, requests, errors };
}

const outside = (requests: readonly string[], origin: string) => requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:') && !u.startsWith('blob:'));

/** `sgdlab run` in the background, its stderr (not a terminal: the plain log) collected. */
function runInBackground(file: string, db: string): { child: ChildProcess; log: () => string; done: Promise<number> } {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'sgdlab.js'), 'run', file, '--db', db, '--workers', '1'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c));
  child.stdout!.on('data', () => undefined);
  return { child, log: () => log, done: new Promise((resolve) => child.on('exit', (code) => resolve(code ?? -1))) };
}

async function dashboardOn(db: string): Promise<{ store: StudyStore; dash: RunningDashboard }> {
  const store = await openStore(db);
  const dash = await startDashboard({ data: new DashboardData(store, db), host: '127.0.0.1', port: 0, token: undefined, pollMs: 500 });
  return { store, dash };
}

test('a running study reaches 100% on the studies page without a reload, its counts equal `sgdlab status`, its figures draw, nothing leaves the origin', async () => {
  const db = join(dir, 'smoke.db');
  const file = join(dir, 'smoke.yaml');
  writeFileSync(file, smallMlpStudy('dash-smoke', "grid: { batchSize: [25, 50], 'optimizer.lr': [0.05, 0.2], seed: [0] }\n", '  eval: { every: 10 }\n'));
  assert.equal(sgdlabCli('run', file, '--db', db, '--workers', '0').status, 0, 'registered');
  const { store, dash } = await dashboardOn(db);
  const origin = dash.url.replace(/\/$/, '');
  const { page, requests, errors } = await watchedPage();
  try {
    await page.goto(dash.url);
    const bar = page.locator('tr[data-study="dash-smoke"] [role=progressbar]');
    await bar.waitFor();
    assert.equal(await bar.getAttribute('aria-valuenow'), '0');
    await page.locator('.live-live').waitFor();
    const run = runInBackground(file, db);
    // Without any reload: the bar moves and ends at 100%.
    await page.waitForFunction(() => document.querySelector('tr[data-study="dash-smoke"] [role=progressbar]')?.getAttribute('aria-valuenow') === '100', undefined, { timeout: 180_000, polling: 200 });
    assert.equal(await run.done, 0, run.log());
    const status = sgdlabCli('status', 'dash-smoke', '--db', db);
    assert.equal(status.status, 0, status.stderr);
    const printed = /(\d+) completed, (\d+) diverged, (\d+) failed, (\d+) running, (\d+) pending/.exec(status.stdout)!;
    assert.ok(printed, status.stdout);
    for (const [i, name] of ['completed', 'diverged', 'failed', 'running', 'pending'].entries()) {
      const shown = await page.locator(`tr[data-study="dash-smoke"] [data-count="${name}"]`).textContent();
      assert.equal(shown, `${printed[i + 1]} ${name}`, name);
    }
    assert.equal(printed[1], '4');
    // Nobody watched the run's terminal: its log has a timestamped line per finished trial.
    assert.equal(run.log().match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ dash-smoke: trial [0-9a-f]{16} completed \(batchSize=\d+ lr=[\d.]+ seed=0\) in \d\d:\d\d, test accuracy [\d.]+%$/gm)?.length, 4, run.log());

    // The study page: the report's figures drawn by vega-embed as SVG with marks.
    await page.click('a.study-name:text("dash-smoke")');
    await page.locator('.figure svg').first().waitFor({ timeout: 30_000 });
    // Figures are drawn as they come near the screen: scroll through them.
    for (const figure of await page.locator('.figure').all()) await figure.scrollIntoViewIfNeeded();
    await page.waitForFunction(() => {
      const figures = [...document.querySelectorAll('.figure')];
      return figures.length >= 3 && figures.every((f) => f.querySelector('svg g[class^="mark-"] path, svg g[class^="mark-"] line'));
    }, undefined, { timeout: 30_000 });
    const ids = await page.locator('.figure').evaluateAll((fs) => fs.map((f) => f.getAttribute('data-figure')));
    for (const id of ['test-accuracy-vs-batch-size', 'best-lr-vs-batch-size', 'learning-curves', 'batch-size-lr-heatmap']) assert.ok(ids.includes(id), `${id} in ${ids.join(', ')}`);
    const report = await (await fetch(`${origin}/api/studies/dash-smoke/report`)).json() as { figures: { id: string }[] };
    assert.deepEqual(ids, report.figures.map((f) => f.id), 'every figure of the report is drawn');
    // Tooltips: hovering a point of the accuracy figure shows its values.
    const point = page.locator('#figure-test-accuracy-vs-batch-size svg g.mark-symbol path').first();
    await point.hover({ force: true });
    await page.locator('#vg-tooltip-element.visible').waitFor({ timeout: 5000 });
    assert.match(await page.locator('#vg-tooltip-element').textContent() ?? '', /batchSize/);
    await page.locator('table.trials tbody tr').first().waitFor();
    assert.equal(await page.locator('table.trials tbody tr').count(), 4);
    if (process.env.SGDLAB_DASHBOARD_SCREENSHOT) await page.screenshot({ path: process.env.SGDLAB_DASHBOARD_SCREENSHOT, fullPage: true });
    assert.deepEqual(errors, []);
    assert.deepEqual(outside(requests, origin), [], 'every request goes to the server');
    assert.ok(requests.some((u) => u.includes('/api/events')), 'the page listens to the server\'s events');
  } finally {
    await page.close();
    await dash.close();
    await store.close();
  }
});

test('a trial\'s learning curve gains points while it trains, without a reload', async () => {
  const db = join(dir, 'long.db');
  const file = join(dir, 'long.yaml');
  writeFileSync(file, smallMlpStudy('dash-long', 'grid: { seed: [0] }\n', '  eval: { every: 1000 }\n').replace('budget: { steps: 30 }', 'budget: { steps: 30000 }'));
  const run = runInBackground(file, db);
  let store: StudyStore | undefined;
  let dash: RunningDashboard | undefined;
  try {
    // Wait until the trial is training and has stored its first rows.
    const deadline = Date.now() + 120_000;
    let key: string | undefined;
    while (key === undefined) {
      assert.ok(Date.now() < deadline, `the trial did not start: ${run.log()}`);
      await new Promise((r) => setTimeout(r, 300));
      try {
        store ??= await openStore(db);
        const t = (await store.trials('dash-long'))[0];
        if (t?.status === 'running' && (await store.metrics('dash-long', t.key)).length > 0) key = t.key;
      } catch {
        /* not registered yet */
      }
    }
    ({ dash } = await dashboardOn(db));
    const origin = dash.url.replace(/\/$/, '');
    const { page, requests, errors } = await watchedPage();
    await page.goto(`${origin}/studies/dash-long/trials/${key}`);
    const counter = page.locator('[data-curve-points]');
    await counter.waitFor();
    const first = Number(await counter.getAttribute('data-curve-points'));
    await page.locator('.figure svg g.mark-line path').first().waitFor({ state: 'attached' });
    const pathsBefore = await page.locator('.figure svg g.mark-line path').evaluateAll((ps) => ps.map((p) => p.getAttribute('d')).join('|'));
    await page.waitForFunction((n) => Number(document.querySelector('[data-curve-points]')?.getAttribute('data-curve-points')) > n, first, { timeout: 15_000, polling: 200 });
    const later = Number(await counter.getAttribute('data-curve-points'));
    assert.ok(later > first, `${first} → ${later} points`);
    // The drawn lines changed too (the view's data set is replaced in place, no new figure).
    await page.waitForFunction((before) => [...document.querySelectorAll('.figure svg g.mark-line path')].map((p) => p.getAttribute('d')).join('|') !== before, pathsBefore, { timeout: 10_000 });
    assert.equal(await page.locator('.figure').count(), 1);
    await page.locator('[data-live-step]').waitFor();
    assert.match(await page.locator('[data-live-step]').textContent() ?? '', /training: step \d+\/30000, loss [\d.e-]+/);
    assert.deepEqual(errors, []);
    assert.deepEqual(outside(requests, origin), []);
    await page.close();
  } finally {
    run.child.kill('SIGKILL');
    await run.done;
    await dash?.close();
    await store?.close();
  }
});

test('stored HTML renders as text: a study named <img src=x onerror=alert(1)>, an error message with markup', async () => {
  const db = join(dir, 'xss.db');
  const store = await openStore(db);
  const name = '<img src=x onerror=alert(1)>';
  const error = '<b>bold</b><script>alert(2)</script><img src=y onerror=alert(3)>';
  await writeSyntheticStudy(store, { name, description: '<i>desc</i><img src=z onerror=alert(4)>', batchSizes: [8, 16], lrs: [0.1, 0.2], seeds: 1, failEvery: 2, error });
  const dash = await startDashboard({ data: new DashboardData(store, db), host: '127.0.0.1', port: 0, token: undefined });
  const origin = dash.url.replace(/\/$/, '');
  const { page, requests, errors } = await watchedPage();
  try {
    await page.goto(dash.url);
    const link = page.locator('a.study-name');
    await link.waitFor();
    assert.equal(await link.textContent(), name);
    assert.equal(await page.locator('.description').first().textContent(), '<i>desc</i><img src=z onerror=alert(4)>');
    await link.click();
    await page.locator('h1').filter({ hasText: name }).waitFor();
    const failed = page.locator('tr.trial-row[data-status="failed"]').first();
    await failed.waitFor();
    assert.equal(await failed.locator('.error-line').textContent(), error);
    await failed.click();
    const pre = page.locator('pre[data-error]');
    await pre.waitFor();
    assert.equal(await pre.textContent(), error);
    assert.equal(await page.locator('pre[data-error] b, pre[data-error] script, pre[data-error] img').count(), 0);
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => document.querySelectorAll('img').length), 0, 'no image element was created from stored text');
    assert.deepEqual(errors, [], 'no alert, no error');
    assert.deepEqual(outside(requests, origin), [], 'nothing loaded from x, y or z');
  } finally {
    await page.close();
    await dash.close();
    await store.close();
  }
});

test('the trials table from the keyboard: sort with Enter on a header, move with arrows and Page Down, open with Enter', async () => {
  const db = join(dir, 'keys.db');
  const store = await openStore(db);
  await writeSyntheticStudy(store, { name: 'keys', batchSizes: [8, 16, 32, 64], lrs: [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2], seeds: 1 });
  const dash = await startDashboard({ data: new DashboardData(store, db), host: '127.0.0.1', port: 0, token: undefined });
  const origin = dash.url.replace(/\/$/, '');
  const { page, errors } = await watchedPage();
  try {
    await page.goto(`${origin}/studies/keys`);
    const rows = page.locator('table.trials tbody tr');
    await rows.first().waitFor();
    // Sort by test accuracy, descending: focus its header button, Enter twice.
    await page.locator('button[data-sort="testAccuracy"]').focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('th[aria-sort="ascending"] button')?.getAttribute('data-sort') === 'testAccuracy');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('th[aria-sort="descending"] button')?.getAttribute('data-sort') === 'testAccuracy');
    const expected = (await store.trials('keys')).sort((a, b) => (b.result as { test: { accuracy: number } }).test.accuracy - (a.result as { test: { accuracy: number } }).test.accuracy).map((t) => t.key);
    await page.waitForFunction((k) => document.querySelector('table.trials tbody tr')?.getAttribute('data-key') === k, expected[0]);
    // Tab from the last header reaches the rows (one tab stop), then the arrows move.
    await page.locator('button[data-sort="seconds"]').focus();
    await page.keyboard.press('Tab');
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-key') ?? document.activeElement?.tagName);
    assert.equal(await focused(), expected[0]);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(), expected[2]);
    await page.keyboard.press('ArrowUp');
    assert.equal(await focused(), expected[1]);
    await page.keyboard.press('End');
    assert.equal(await focused(), expected[24]);
    await page.keyboard.press('PageDown');
    await page.waitForFunction((k) => document.activeElement?.getAttribute('data-key') === k, expected[27]);
    assert.match(await page.locator('[data-range]').textContent() ?? '', /^26–28 of 28$/);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${origin}/studies/keys/trials/${expected[27]}`);
    await page.locator('h1', { hasText: expected[27] }).waitFor();
    // Filters are plain selects: reachable and usable from the keyboard.
    await page.goBack();
    await page.locator('select[data-filter="batchSize"]').selectOption('16');
    await page.waitForFunction(() => document.querySelector('[data-range]')?.textContent === '1–7 of 7 (of 28)');
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    await dash.close();
    await store.close();
  }
});
