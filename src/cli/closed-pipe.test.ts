/**
 * `sgdlab status | head -1`: the reader closes the pipe before the command has written everything. The
 * command ends as it would have (exit 0) with nothing on stderr, not with Node's unhandled EPIPE trace.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { expandTrials, openStore, parseStudy } from '../study/index.js';
import { repoRoot } from '../study/testing.js';

interface Ended { code: number | null; stdout: string; stderr: string }

/** Runs `sgdlab ARGS…` with its stdout a pipe; `closeFirst` closes our end before the child writes a byte. */
function sgdlabIntoPipe(args: readonly string[], closeFirst: boolean): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'sgdlab.js'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // Destroying our end now, while the child is still starting, makes every one of its writes meet EPIPE.
    if (closeFirst) child.stdout.destroy();
    else child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('status, results, export and builtin into a pipe the reader has closed: exit 0, nothing on stderr', async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'sgdlab-pipe-')), 'pipe.db');
  const study = parseStudy(parse(`
name: piped
base: { model: { name: mlp, widths: [8] }, data: { name: mnist, subset: 500 }, optimizer: { name: sgd, lr: 0.1 }, batchSize: 50, budget: { steps: 5 } }
grid: { optimizer.lr: [0.01, 0.1], seed: [0, 1] }
`));
  const store = await openStore(db);
  await store.upsertStudy(study, expandTrials(study, '0.1.0'));
  await store.close();
  for (const args of [['status', '--db', db], ['results', 'piped', '--db', db], ['export', 'piped', '--db', db], ['builtin', 'list']]) {
    // Read normally, the command writes: so the closed pipe below does meet its writes.
    const read = await sgdlabIntoPipe(args, false);
    assert.equal(read.code, 0, `${args.join(' ')}: ${read.stderr}`);
    assert.ok(read.stdout.length > 0, `${args.join(' ')} writes to stdout`);
    const closed = await sgdlabIntoPipe(args, true);
    assert.deepEqual([closed.code, closed.stderr], [0, ''], `${args.join(' ')} into a closed pipe`);
  }
});
