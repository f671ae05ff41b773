/**
 * The throw-away PostgreSQL cluster of a test process is stopped and deleted however the process
 * ends: killed (SIGKILL, SIGTERM) or failing (an uncaught exception). Each case runs a child process
 * that starts its own cluster, reports the directory and the server's pid, and then ends.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const pgTesting = new URL('./pg-testing.js', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'sgdlab-pg-owner-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A test process that starts a cluster, prints where it is, then does `ending`. */
const owner = (ending: string) => `
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pgCluster } from ${JSON.stringify(pgTesting)};
const cluster = await pgCluster();
// The first line of postmaster.pid is the server's pid.
const pid = Number(readFileSync(join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\\n')[0]);
console.log(JSON.stringify({ dir: cluster.dir, pid }));
${ending}
`;

/** Whether a process runs (a zombie, waiting for its parent to reap it, does not). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/^\d+ \(.*\) Z/.test(stat);
}

/** Runs an owner to its first line; `kill` then ends it (or it ends by itself); resolves with the cluster it started. */
function runOwner(name: string, ending: string, kill?: NodeJS.Signals): Promise<{ dir: string; pid: number; code: number | null; signal: NodeJS.Signals | null }> {
  const file = join(scratch, `${name}.mjs`);
  writeFileSync(file, owner(ending));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      if (kill && out.includes('\n')) child.kill(kill);
    });
    child.on('exit', (code, signal) => {
      const line = out.split('\n')[0];
      if (!line) reject(new Error(`the owner process printed nothing (exit ${code}, ${signal}): ${err}`));
      else resolve({ ...(JSON.parse(line) as { dir: string; pid: number }), code, signal });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const [name, ending, kill] of [
  ['SIGKILL', 'setInterval(() => undefined, 1000);', 'SIGKILL'],
  ['SIGTERM', 'setInterval(() => undefined, 1000);', 'SIGTERM'],
  ['an uncaught exception', "setTimeout(() => { throw new Error('a failing test file'); }, 0);", undefined],
] as const) {
  test(`pg-testing: a test process ended by ${name} leaves no PostgreSQL server running and no data directory`, async () => {
    const ended = await runOwner(name.replace(/ /g, '-'), ending, kill);
    assert.ok(kill ? ended.signal === kill : ended.code === 1, `the owner ended as planned (exit ${ended.code}, ${ended.signal})`);
    const deadline = Date.now() + 10_000;
    while ((running(ended.pid) || existsSync(ended.dir)) && Date.now() < deadline) await sleep(100);
    const left = { serverRunning: running(ended.pid), directoryLeft: existsSync(ended.dir) };
    if (left.serverRunning) process.kill(ended.pid, 'SIGQUIT'); // this test's own leftovers, whatever the verdict
    if (left.directoryLeft) {
      await sleep(500);
      rmSync(ended.dir, { recursive: true, force: true });
    }
    assert.deepEqual(left, { serverRunning: false, directoryLeft: false }, `postmaster ${ended.pid}, ${ended.dir}, 10 s after the owner ended`);
  });
}
