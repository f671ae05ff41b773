/**
 * The dashboard's server against a real SQLite store with a synthetic study: its answers equal what
 * the store holds (computed here independently), the trials table's filters, sorting and paging, and
 * its safety: read-only, token on every request off loopback, loopback host names only without a
 * token, no path out of the static folder, security headers, and no libtorch in `sgdlab serve`.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { IN_STORE, openStore, type StudyStore } from '../study/index.js';
import { loadReportData } from '../report/data.js';
import { resultTables } from '../report/tables.js';
import { repoRoot } from '../study/testing.js';
import type { StudyDetail, StudyListEntry, StudyReport, TrialCurves, TrialDetail, TrialPage } from './api.js';
import { DashboardData, estimateSeconds, progressOf } from './data.js';
import { minMaxDecimate } from './downsample.js';
import { startDashboard, type RunningDashboard } from './server.js';
import { syntheticAccuracy, writeSyntheticStudy } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'sgdlab-dashboard-'));
const db = join(dir, 'store.db');
let store: StudyStore;
let dash: RunningDashboard;
const XSS = '<img src=x onerror=alert(1)>';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A GET with the path sent exactly as written (no URL normalization on the client side), on a
 * connection of its own: Node's global agent keeps sockets alive, and a request written to one just as
 * the server's keep-alive timeout (5 s) closes it fails with ECONNRESET — a test that follows a few
 * seconds of other work (spawned commands) hit that now and then.
 */
function rawGet(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false, headers: { Host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const getJson = async <T>(path: string): Promise<T> => {
  const r = await rawGet(dash.port, path);
  assert.equal(r.status, 200, `${path}: ${r.body}`);
  return JSON.parse(r.body) as T;
};

const ready = (async () => {
  store = await openStore(db);
  await writeSyntheticStudy(store, { name: 'demo', batchSizes: [8, 16, 32, 64], lrs: [0.05, 0.1, 0.2, 0.4, 0.8], seeds: 2, pending: 3, running: 2, failEvery: 9, error: '<b>bad</b> things', description: 'synthetic <i>study</i>', stepsStored: 300 });
  await writeSyntheticStudy(store, { name: XSS, batchSizes: [8, 16], lrs: [0.1, 0.2], seeds: 1 });
  dash = await startDashboard({ data: new DashboardData(store, db), host: '127.0.0.1', port: 0, token: undefined });
})();

after(async () => {
  await dash?.close();
  await store?.close();
});

test('the studies answer has the store\'s counts, and progress and ETA from them', async () => {
  await ready;
  const studies = await getJson<StudyListEntry[]>('/api/studies');
  const listed = await store.listStudies();
  assert.deepEqual(studies.map((s) => s.name).sort(), listed.map((s) => s.name).sort());
  for (const s of listed) {
    const shown = studies.find((x) => x.name === s.name)!;
    assert.deepEqual(shown.counts, s.counts);
    assert.equal(shown.updatedAt, s.updatedAt);
    const total = Object.values(s.counts).reduce((a, b) => a + b, 0);
    assert.equal(shown.progress.total, total);
    assert.equal(shown.progress.done, s.counts.completed + s.counts.diverged + s.counts.failed);
  }
  const demo = studies.find((s) => s.name === 'demo')!;
  // 40 trials: 3 pending, 2 running (claimed, no heartbeat), 35 finished; of those every 9th failed.
  assert.equal(demo.progress.total, 40);
  assert.equal(demo.counts.pending, 3);
  assert.equal(demo.counts.running, 2);
  assert.equal(demo.counts.failed, 3);
  assert.equal(demo.progress.fraction, 35 / 40);
  // Finished trials took 1 + (i mod 7) s; 4 trials' work (3 pending + 2 running, no heartbeat fraction) with 2 at work.
  const seconds = Array.from({ length: 35 }, (_, i) => (i % 9 === 8 ? 0.5 : 1 + (i % 7)));
  const mean = seconds.reduce((a, b) => a + b, 0) / seconds.length;
  assert.ok(Math.abs(demo.progress.etaSeconds! - (5 * mean) / 2) < 1e-9, `${demo.progress.etaSeconds} vs ${(5 * mean) / 2}`);
  assert.equal(demo.description, 'synthetic <i>study</i>', 'stored strings are sent as they are (the page renders them as text)');
});

test('progress is 100% only when nothing is left, measurements included; ETA from the mean trial and the workers', () => {
  const c = (pending: number, running: number, completed: number) => ({ pending, running, completed, diverged: 0, failed: 0, pruned: 0 });
  const none = { pending: 0, running: 0, completed: 0, failed: 0 };
  const measuring = { measure: { what: ['hessian'] } } as never;
  assert.equal(progressOf(undefined, c(0, 0, 4), none, 0, null).fraction, 1);
  // A study that measures is not done when its trials are: its measurements are not queued yet.
  assert.equal(progressOf(measuring, c(0, 0, 4), none, 0, null).fraction, 0.99);
  assert.equal(progressOf(measuring, c(0, 0, 4), { ...none, completed: 2, running: 1, pending: 1 }, 0.5, null).fraction, 6.5 / 8);
  assert.equal(progressOf(measuring, c(0, 0, 4), { ...none, completed: 4 }, 0, null).fraction, 1);
  assert.equal(estimateSeconds(c(2, 2, 4), 1.5, 10, 2), (4 - 1.5) * 10 / 2);
  assert.equal(estimateSeconds(c(2, 0, 0), 0, null, 2), null);
  assert.equal(estimateSeconds(c(0, 0, 3), 0, 10, 0), 0);
});

test('the trials table: filters by status and grid coordinates, sorts by any column, pages on the server', async () => {
  await ready;
  const all = (await store.trials('demo')).map((t) => ({ key: t.key, status: t.status, b: t.config.batchSize as number, lr: t.config.optimizer.lr, acc: (t.result as { test?: { accuracy: number } } | null)?.test?.accuracy ?? null }));
  const page = await getJson<TrialPage>('/api/studies/demo/trials?status=completed&f.batchSize=16&f.batchSize=32&sort=testAccuracy&dir=desc&limit=5&offset=2');
  const expected = all.filter((t) => t.status === 'completed' && (t.b === 16 || t.b === 32)).sort((a, b) => b.acc! - a.acc!);
  assert.equal(page.total, 40);
  assert.equal(page.matching, expected.length);
  assert.deepEqual(page.rows.map((r) => r.key), expected.slice(2, 7).map((t) => t.key));
  assert.deepEqual(page.rows.map((r) => r.testAccuracy), expected.slice(2, 7).map((t) => t.acc));
  const byLr = await getJson<TrialPage>(`/api/studies/demo/trials?sort=${encodeURIComponent('c.optimizer.lr')}&limit=500`);
  assert.deepEqual(byLr.rows.map((r) => Number(r.coordinates['optimizer.lr'])), all.map((t) => t.lr).sort((a, b) => a - b));
  const failed = await getJson<TrialPage>('/api/studies/demo/trials?status=failed');
  assert.equal(failed.matching, 3);
  assert.ok(failed.rows.every((r) => r.error === '<b>bad</b> things'));
  // Missing values (unfinished trials have no accuracy) come last in both directions.
  const asc = await getJson<TrialPage>('/api/studies/demo/trials?sort=testAccuracy&dir=asc&limit=500');
  assert.deepEqual(asc.rows.slice(-8).map((r) => r.testAccuracy), Array(8).fill(null));
  for (const [query, message] of [
    ['sort=seconds;DROP%20TABLE%20trials', /sort: 'seconds;DROP TABLE trials' is not one of key, status, seconds/],
    ['f.model=mlp', /the study has no grid axis 'model' \(axes: batchSize, optimizer.lr, seed\)/],
    ['status=done', /status: 'done' is not one of pending, running, completed, diverged, failed/],
    ['limit=100000', /limit: 100000 is outside 1…500/],
    ['offset=-1', /offset: '-1' is not a whole number/],
  ] as const) {
    const r = await rawGet(dash.port, `/api/studies/demo/trials?${query}`);
    assert.equal(r.status, 400, query);
    assert.match(JSON.parse(r.body).error, message);
  }
  assert.equal((await store.trials('demo')).length, 40, 'the store is untouched');
});

test('a trial: its configuration, result, error, and learning curves downsampled with their extremes', async () => {
  await ready;
  const failed = (await store.trials('demo')).find((t) => t.status === 'failed')!;
  const detail = await getJson<TrialDetail>(`/api/studies/demo/trials/${failed.key}`);
  assert.equal(detail.error, '<b>bad</b> things');
  assert.deepEqual(detail.config, failed.config);
  const done = (await store.trials('demo')).find((t) => t.status === 'completed')!;
  const d = await getJson<TrialDetail>(`/api/studies/demo/trials/${done.key}`);
  assert.ok(d.result.some(([k, v]) => k === 'test.accuracy' && Number(v) === Number(syntheticAccuracy(done.config.batchSize as number, done.config.optimizer.lr, done.config.seed).toPrecision(6))));
  const stored = await store.metrics('demo', done.key);
  const curves = await getJson<TrialCurves>(`/api/studies/demo/trials/${done.key}/curves?points=40`);
  assert.equal(curves.stored, stored.length);
  const loss = stored.filter((m) => m.name === 'loss');
  const drawn = curves.points.filter((p) => p.metric === 'loss');
  assert.equal(loss.length, 300);
  assert.ok(drawn.length <= 40 && drawn.length >= 20, `${drawn.length} points`);
  assert.equal(Math.min(...drawn.map((p) => p.value)), Math.min(...loss.map((m) => m.value)), 'the minimum survives');
  assert.equal(Math.max(...drawn.map((p) => p.value)), Math.max(...loss.map((m) => m.value)), 'the maximum survives');
  assert.deepEqual(curves.points.filter((p) => p.metric === 'test.accuracy').length, 10, 'short series are not thinned');
  assert.equal((await rawGet(dash.port, `/api/studies/demo/trials/nope`)).status, 404);
  assert.equal((await rawGet(dash.port, `/api/studies/demo/trials/${done.key}/checkpoint/model.safetensors`)).status, 404, 'no checkpoint stored');
});

test("a trial's checkpoint files are listed with their sizes without reading their bytes", async () => {
  const own = await openStore(join(dir, 'checkpoint.db'));
  await writeSyntheticStudy(own, { name: 'kept', batchSizes: [8], lrs: [0.1], seeds: 1, pending: 1 });
  const t = (await own.claim('kept', 'w'))!;
  await own.finish('kept', t.key, t.attempt, { status: 'completed', result: {}, seconds: 1, checkpoint: IN_STORE,
    artifacts: [{ name: 'model.safetensors', data: new Uint8Array(5000) }, { name: 'model.json', data: new Uint8Array(12) }, { name: 'loss-0.1/model.safetensors', data: new Uint8Array(300) }] });
  // A store whose bytes cannot be read: the page must not need them.
  const sizesOnly = new Proxy(own, {
    get: (target, name) => (name === 'artifact' ? () => Promise.reject(new Error('the trial page read the bytes')) : Reflect.get(target, name, target)),
  });
  const detail = (await new DashboardData(sizesOnly, 'checkpoint.db').trial('kept', t.key))!;
  assert.deepEqual(detail.checkpoint, [{ name: 'model.json', bytes: 12 }, { name: 'model.safetensors', bytes: 5000 }]);
  await own.close();
});

test('min/max decimation keeps each bucket\'s first, last, minimum and maximum, in order', () => {
  const points = Array.from({ length: 1000 }, (_, i) => ({ step: i, value: Math.sin(i / 10) + (i === 517 ? 5 : 0) }));
  const out = minMaxDecimate(points, 100);
  assert.ok(out.length <= 100);
  assert.ok(out.some((p) => p.step === 517), 'the spike survives');
  assert.deepEqual(out.map((p) => p.step), [...out.map((p) => p.step)].sort((a, b) => a - b));
  assert.equal(out[0]!.step, 0);
  assert.equal(out.at(-1)!.step, 999);
  // Each of the 25 buckets of 40 steps: its extremes are among the kept points.
  for (let b = 0; b < 25; b++) {
    const bucket = points.slice(b * 40, (b + 1) * 40);
    const kept = out.filter((p) => p.step >= b * 40 && p.step < (b + 1) * 40).map((p) => p.value);
    assert.equal(Math.max(...kept), Math.max(...bucket.map((p) => p.value)));
    assert.equal(Math.min(...kept), Math.min(...bucket.map((p) => p.value)));
  }
  assert.deepEqual(minMaxDecimate(points.slice(0, 50), 100), points.slice(0, 50));
});

test('the report answer: the report\'s tables and figures, each with tooltips and a legend selection or zoom that compiles', async () => {
  await ready;
  // Computed in the report thread after the server starts: 202 until it is ready, then the report.
  let answer = await rawGet(dash.port, '/api/studies/demo/report');
  for (let i = 0; answer.status === 202 && i < 600; i++) {
    assert.deepEqual(JSON.parse(answer.body), { computing: true });
    await new Promise((r) => setTimeout(r, 100));
    answer = await rawGet(dash.port, '/api/studies/demo/report');
  }
  assert.equal(answer.status, 200);
  const report = JSON.parse(answer.body) as StudyReport;
  const gzipped = await rawGet(dash.port, '/api/studies/demo/report', { 'Accept-Encoding': 'gzip' });
  assert.equal(gzipped.headers['content-encoding'], 'gzip');
  // Plumbing: the same tables as `sgdlab report` writes (the same code path; the numbers are checked next).
  const study = (await store.getStudy('demo'))!.study;
  assert.deepEqual(report.tables, resultTables((await loadReportData(store, study)).rows));
  const table = report.tables.find((t) => t.id === 'accuracy')!;
  assert.deepEqual(table.rows.map((r) => r[1]), ['8', '16', '32', '64']);
  // Independently, from the made-up results (writeSyntheticStudy stores test accuracy a = syntheticAccuracy(B, lr, seed),
  // training accuracy a + 0.03, training loss 1.1 − a) and the trials' statuses in the store: per batch size, the lr
  // of the best mean test accuracy over its completed seeds, among those with no failed seed (results.ts: failed
  // trials never count as best; pending and running ones are not counted), and mean ± std (n − 1) at that lr.
  const all = await store.trials('demo');
  const disqualified = new Set(all.filter((t) => t.status === 'failed' || t.status === 'diverged').map((t) => `${t.config.batchSize}/${t.config.optimizer.lr}`));
  const completed = all.filter((t) => t.status === 'completed' && !disqualified.has(`${t.config.batchSize}/${t.config.optimizer.lr}`));
  const col = (name: string) => table.columns.indexOf(name);
  // One seed has no spread to print: its cell is the value alone (report/tables.ts formatStat).
  const parse = (cell: string): [number, number] => {
    const [mean, std] = cell.replace('%', '').split(' ± ').map(Number);
    return [mean!, std ?? 0];
  };
  const meanStd = (v: number[]) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return [m, v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) : 0];
  };
  for (const row of table.rows) {
    const b = Number(row[col('batch size')]);
    const byLr = new Map<number, number[]>();
    for (const t of completed.filter((t) => t.config.batchSize === b)) byLr.set(t.config.optimizer.lr, [...(byLr.get(t.config.optimizer.lr) ?? []), syntheticAccuracy(b, t.config.optimizer.lr, t.config.seed)]);
    const [bestLr, acc] = [...byLr].sort(([, p], [, q]) => meanStd(q)[0]! - meanStd(p)[0]!)[0]!;
    assert.equal(Number(row[col('best lr')]), bestLr, `B = ${b}: best lr`);
    assert.equal(Number(row[col('seeds')]), acc.length, `B = ${b}: seeds`);
    const [m, sd] = meanStd(acc) as [number, number];
    const cells: [string, number, number, number][] = [['test accuracy', 100 * m, 100 * sd, 0.005], ['training accuracy', 100 * (m + 0.03), 100 * sd, 0.005], ['training loss', 1.1 - m, sd, 5e-5]];
    for (const [name, mean, std, half] of cells) {
      const [gotMean, gotStd] = parse(row[col(name)]!);
      assert.equal(row[col(name)]!.includes('±'), acc.length > 1, `B = ${b}, ${name}: a spread exactly when there are seeds to spread: ${row[col(name)]}`);
      assert.ok(Math.abs(gotMean - mean) <= half + 1e-9 && Math.abs(gotStd - std) <= Math.max(half, 0.05 * std) + 1e-9, `B = ${b}, ${name}: ${row[col(name)]} vs ${mean} ± ${std}`);
    }
  }
  const ids = report.figures.map((f) => f.id);
  for (const id of ['test-accuracy-vs-batch-size', 'best-lr-vs-batch-size', 'learning-curves', 'batch-size-lr-heatmap']) assert.ok(ids.includes(id), `${id} in ${ids.join(', ')}`);
  for (const f of report.figures) {
    const text = JSON.stringify(f.spec);
    assert.match(text, /"tooltip":true/, `${f.id}: tooltips`);
    assert.match(text, /"bind":"legend"|"bind":"scales"/, `${f.id}: legend selection or zoom`);
    // Compiles (Vega-Lite) and parses (Vega) as served.
    assert.doesNotThrow(() => vega.parse(compile(f.spec).spec), f.id);
  }
  assert.match(JSON.stringify(report.figures.find((f) => f.id === 'test-accuracy-vs-batch-size')!.spec), /"bind":"legend".*"bind":"scales"/);
});

test('read-only, no path out of the static folder, security headers on every answer', async () => {
  await ready;
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const r = await rawGet(dash.port, '/api/studies/demo', {}, method);
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.allow, 'GET, HEAD');
  }
  for (const path of ['/assets/..%2f..%2fpackage.json', '/assets/..%2F..%2F..%2Fpackage.json', '/assets/%2e%2e%2f%2e%2e%2fpackage.json', '/..%2f..%2fpackage.json', '/assets/../../package.json',
    '/%2e%2e/%2e%2e/package.json', '/assets/..%5c..%5cpackage.json', '/assets/%252e%252e%252fpackage.json', '/assets/', '/assets/app.js%00.html', '/assets/index.html', '/etc/passwd', '/api/../package.json']) {
    const r = await rawGet(dash.port, path);
    assert.equal(r.status, 404, `${path}: ${r.status}`);
    assert.doesNotMatch(r.body, /"name": "sgdlab"|root:x:/, path);
  }
  const page = await rawGet(dash.port, '/');
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.equal(page.headers['referrer-policy'], 'no-referrer');
  const js = await rawGet(dash.port, '/assets/app.js', { 'Accept-Encoding': 'gzip' });
  assert.equal(js.status, 200);
  assert.equal(js.headers['content-encoding'], 'gzip');
  assert.match(String(js.headers['content-security-policy']), /script-src 'self'/);
  // The bundle names no other origin to load from (vega's schema URL is an identifier, never fetched).
  const bundle = readFileSync(join(repoRoot, 'dist/dashboard/app.js'), 'utf8');
  assert.doesNotMatch(bundle, /fonts\.googleapis|cdn\.jsdelivr|unpkg\.com|google-analytics|googletagmanager/);
  // Without a token, only loopback host names (a DNS-rebinding page cannot read the store).
  const rebound = await rawGet(dash.port, '/api/studies', { Host: `attacker.example:${dash.port}` });
  assert.equal(rebound.status, 403);
  assert.equal((await rawGet(dash.port, '/api/studies', { Host: `localhost:${dash.port}` })).status, 200);
});

test('a token: required on every request, from the URL once (then a cookie), or as a bearer', async () => {
  await ready;
  const token = 'test-token-12345';
  const guarded = await startDashboard({ data: new DashboardData(store, db), host: '127.0.0.1', port: 0, token });
  try {
    for (const path of ['/', '/assets/app.js', '/api/studies', '/api/events', '/studies/demo', '/nope']) assert.equal((await rawGet(guarded.port, path)).status, 401, path);
    assert.equal((await rawGet(guarded.port, '/api/studies?token=wrong-token-12345')).status, 401);
    assert.equal((await rawGet(guarded.port, '/api/studies', { Authorization: `Bearer ${token}x` })).status, 401);
    const first = await rawGet(guarded.port, `/?token=${token}`);
    assert.equal(first.status, 200);
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    assert.equal(cookie, `sgdlab_token_${guarded.port}=${token}`);
    assert.match(String(first.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
    assert.equal((await rawGet(guarded.port, '/api/studies', { Cookie: cookie })).status, 200);
    assert.equal((await rawGet(guarded.port, '/api/studies', { Authorization: `Bearer ${token}` })).status, 200);
    assert.equal(guarded.url, `http://127.0.0.1:${guarded.port}/?token=${token}`);
  } finally {
    await guarded.close();
  }
});

/** Starts `sgdlab serve ARGS` and resolves with the URL it prints. */
function serve(args: string[]): Promise<{ url: string; pid: number; stop: () => void }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'sgdlab.js'), 'serve', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c;
      const url = /(http:\/\/\S+)/.exec(out)?.[1];
      if (url) resolve({ url, pid: child.pid!, stop: () => child.kill('SIGTERM') });
    });
    child.stderr.on('data', (c: Buffer) => (err += c));
    child.on('exit', (code) => reject(new Error(`sgdlab serve exited (${code}): ${err}`)));
  });
}

test('sgdlab serve --host 0.0.0.0 without a token makes one: 401 without it, 200 with it; no libtorch in the process', async () => {
  await ready;
  const s = await serve(['--db', db, '--host', '0.0.0.0', '--port', '0']);
  try {
    const url = new URL(s.url);
    const token = url.searchParams.get('token');
    assert.ok(token && token.length >= 20, `a generated token in ${s.url}`);
    const port = Number(url.port);
    assert.equal((await rawGet(port, '/api/studies')).status, 401);
    assert.equal((await rawGet(port, '/')).status, 401);
    const ok = await rawGet(port, `/api/studies?token=${token}`);
    assert.equal(ok.status, 200);
    assert.ok((JSON.parse(ok.body) as StudyListEntry[]).some((x) => x.name === 'demo'));
    const maps = readFileSync(`/proc/${s.pid}/maps`, 'utf8');
    // A positive control: these are the maps of the process that serves (not of a launcher), and they list the
    // native addons it loaded — SQLite's is there, as libtorch's addon and libraries would be (dlopen'ed the same way).
    assert.match(maps, /better_sqlite3\.node/, 'the serving process maps its SQLite addon');
    assert.doesNotMatch(maps, /libtorch|sgdlab_torch/, 'sgdlab serve maps no libtorch');
  } finally {
    s.stop();
  }
});

test('sgdlab serve: a missing store or a bad flag is a clear error', async () => {
  const { sgdlabCli } = await import('../study/testing.js');
  const cases: [string[], RegExp][] = [
    [['serve', '--db', join(dir, 'missing.db')], /no study store at .*missing\.db \(the dashboard reads an existing store/],
    [['serve', '--db', db, '--port', '70000'], /--port: '70000' must be a port number 0…65535/],
    [['serve', '--db', db, '--token', 'a b'], /--token: 3 characters; it must be 16 to 200 characters/],
  ];
  for (const [args, message] of cases) {
    const r = sgdlabCli(...args);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, message);
  }
});

test('a study whose name is HTML is served as data, and its pages exist', async () => {
  await ready;
  const detail = await getJson<StudyDetail>(`/api/studies/${encodeURIComponent(XSS)}`);
  assert.equal(detail.name, XSS);
  // Its page is the static shell, byte for byte the built index.html: the name is never written into HTML by the
  // server (that the client renders it as text is checked in browser.test.ts, 'stored HTML renders as text').
  const page = await rawGet(dash.port, `/studies/${encodeURIComponent(XSS)}`);
  assert.equal(page.status, 200);
  assert.equal(page.body, readFileSync(join(repoRoot, 'dist/dashboard/index.html'), 'utf8'));
  assert.doesNotMatch(page.body, /onerror/);
});
