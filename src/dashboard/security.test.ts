/**
 * The dashboard's defences found missing by an outside review (issue 19): a failure's details stay in
 * the server's log (the answer carries only an id to find them by), tokens long enough not to be
 * guessed, requests that other sites start refused before they cost anything, and a warning when the
 * token would cross the network in plain HTTP. The app is asked directly (Hono's app.request) where
 * no socket is needed; the CLI is run as a user runs it.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type StudyStore } from '../study/index.js';
import { repoRoot, sgdlabCli } from '../study/testing.js';
import { tokenProblem } from './auth.js';
import { DashboardData } from './data.js';
import { dashboardApp } from './server.js';
import { writeSyntheticStudy } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'sgdlab-dashboard-security-'));
const db = join(dir, 'store.db');
let store: StudyStore;

const ready = (async () => {
  store = await openStore(db);
  await writeSyntheticStudy(store, { name: 'demo', batchSizes: [8, 16], lrs: [0.1, 0.2], seeds: 1 });
})();

after(async () => {
  await store?.close();
});

/** The app over `data` on loopback without a token, asked without a socket; `close` stops its live hub. */
function appOver(data: DashboardData, log?: (line: string) => void) {
  const { app, hub } = dashboardApp({ data, host: '127.0.0.1', port: 8080, portNow: () => 8080, token: undefined, log });
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await app.request(path, { headers: { Host: '127.0.0.1:8080', ...headers } });
    // Read the whole body, except the event stream's, which never ends: that one is cancelled.
    const body = response.headers.get('content-type')?.startsWith('text/event-stream') ? (await response.body?.cancel(), '') : await response.text();
    return { status: response.status, body };
  };
  return { get, close: () => hub.close() };
}

/** `store` whose every listStudies fails with `message` (a driver's error can name hosts and passwords). */
function failingStore(inner: StudyStore, message: string): StudyStore {
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'listStudies') return () => Promise.reject(new Error(message));
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

test('a failure answers 500 with an id and no details; the log has the id and the whole error', async () => {
  await ready;
  const secret = 'connect failed: password=hunter2 at host db.internal:5432';
  const lines: string[] = [];
  const { get, close } = appOver(new DashboardData(failingStore(store, secret), db), (line) => lines.push(line));
  try {
    const r = await get('/api/studies');
    assert.equal(r.status, 500);
    assert.doesNotMatch(r.body, /hunter2|db\.internal/, 'the answer carries no detail of the failure');
    const id = /internal error \(id ([0-9a-f]{12})\); see the server's log/.exec((JSON.parse(r.body) as { error: string }).error)?.[1];
    assert.ok(id, `an id in ${r.body}`);
    const logged = lines.filter((l) => l.includes(id));
    assert.equal(logged.length, 1, lines.join('\n'));
    assert.match(logged[0]!, /GET \/api\/studies/);
    assert.match(logged[0]!, /password=hunter2 at host db\.internal:5432/);
    assert.match(logged[0]!, /\n\s+at /, 'the stack is logged too');
    // Two failures: two ids.
    assert.notEqual(/\(id ([0-9a-f]+)\)/.exec((await get('/api/studies')).body)?.[1], id);
  } finally {
    close();
  }
});

test('a token shorter than 16 characters is refused, by the dashboard and by sgdlab serve', async () => {
  await ready;
  assert.equal(tokenProblem('a'.repeat(16)), undefined);
  assert.equal(tokenProblem('A-z.0_9~'.repeat(25)), undefined);
  assert.match(tokenProblem('short-token')!, /11 characters; it must be 16 to 200 characters/);
  assert.match(tokenProblem('a'.repeat(201))!, /201 characters; it must be 16 to 200/);
  assert.match(tokenProblem('a b c d e f g h i j')!, /letters, digits, "\.", "_", "~" and "-"/);
  const r = sgdlabCli('serve', '--db', db, '--port', '0', '--token', 'short');
  assert.equal(r.status, 2, `exit code (stdout: ${r.stdout}; stderr: ${r.stderr})`);
  assert.match(r.stderr, /--token: 5 characters; it must be 16 to 200 characters of letters, digits/);
  assert.doesNotMatch(r.stderr, /\bshort\b/, 'the token itself is not printed');
});

test('a request that another site started is refused before any work (Sec-Fetch-Site)', async () => {
  await ready;
  const data = new DashboardData(store, db);
  // Counts the reports the route asks for instead of computing them (the report thread is not started).
  const asked: string[] = [];
  data.report = (name: string) => {
    asked.push(name);
    return Promise.resolve({ ready: undefined });
  };
  const { get, close } = appOver(data);
  try {
    const crossSite = { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'cors', 'Sec-Fetch-Dest': 'empty' };
    const refused = await get('/api/studies/demo/report', crossSite);
    assert.equal(refused.status, 403, refused.body);
    assert.match(refused.body, /started by another site \(Sec-Fetch-Site: cross-site\)/);
    assert.deepEqual(asked, [], 'no report was asked for');
    for (const path of ['/api/studies', '/api/studies/demo', '/api/studies/demo/trials', '/api/events', '/assets/app.js']) {
      assert.equal((await get(path, crossSite)).status, 403, `${path}, cross-site`);
      assert.equal((await get(path, { ...crossSite, 'Sec-Fetch-Site': 'same-site' })).status, 403, `${path}, same-site`);
    }
    // A link from another site to the dashboard's pages still opens them (they are its static page)…
    const link = { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document' };
    assert.equal((await get('/studies/demo', link)).status, 200);
    // …but not its API, whose report is work.
    assert.equal((await get('/api/studies/demo/report', link)).status, 403);
    assert.deepEqual(asked, []);
    // The page's own requests, an address typed or opened from a terminal, and clients that send no such header.
    const own: Record<string, string>[] = [{ 'Sec-Fetch-Site': 'same-origin' }, { 'Sec-Fetch-Site': 'none' }, {}];
    for (const headers of own) {
      const r = await get('/api/studies/demo/report', headers);
      assert.equal(r.status, 202, `${JSON.stringify(headers)}: ${r.body}`);
    }
    assert.deepEqual(asked, ['demo', 'demo', 'demo']);
  } finally {
    close();
  }
});

/** Runs `sgdlab serve ARGS` until it prints its URL, stops it, and resolves with what it wrote. */
function serveOnce(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'sgdlab.js'), 'serve', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c;
    if (/http:\/\/\S+/.test(stdout)) child.kill('SIGTERM');
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  return new Promise((resolve, reject) => {
    child.on('close', (code, signal) => (/http:\/\//.test(stdout) ? resolve({ stdout, stderr }) : reject(new Error(`sgdlab serve exited (${code ?? signal}) before printing its URL: ${stderr}`))));
  });
}

test('sgdlab serve off loopback warns in one line that the token travels in plain HTTP, and how to avoid it', async () => {
  // An empty store: nothing to read or compute at start.
  const empty = join(dir, 'empty.db');
  await (await openStore(empty)).close();
  const open = await serveOnce(['--db', empty, '--host', '0.0.0.0', '--port', '0']);
  const warnings = open.stderr.split('\n').filter((l) => /warning/i.test(l));
  assert.equal(warnings.length, 1, open.stderr);
  assert.match(warnings[0]!, /plain HTTP/);
  assert.match(warnings[0]!, /TLS/);
  assert.match(warnings[0]!, /ssh -L \d+:localhost:\d+/);
  const local = await serveOnce(['--db', empty, '--host', '127.0.0.1', '--port', '0']);
  assert.doesNotMatch(local.stderr, /warning/i);
});
