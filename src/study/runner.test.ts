/**
 * The study runner and its CLI: parallel workers, resuming after SIGKILL with every trial exactly
 * once and the same numbers as an uninterrupted run, diverged learning rates never "best", and the
 * commands' output and errors.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from './index.js';
import { runUntilThenKill, sgdlabCli } from './testing.js';

const sgdlab = sgdlabCli;
const dir = mkdtempSync(join(tmpdir(), 'sgdlab-study-'));
const file = join(dir, 'tiny.yaml');
writeFileSync(file, `
name: tiny
base:
  model: { name: mlp, widths: [16] }
  data: { name: mnist, subset: 1000, validation: 200 }
  optimizer: { name: sgd, lr: 0.1, momentum: 0.9 }
  batchSize: 50
  budget: { steps: 40 }
grid:
  batchSize: [25, 100]
  optimizer.lr: [0.05, 0.2, 1000]
  seed: [0, 1, 2]
`);
const outcomes = async (db: string) => {
  const store = await openStore(db);
  const rows = (await store.trials('tiny')).map((t) => [t.key, t.status, (t.result as { test?: { loss: number } } | null)?.test?.loss ?? null] as const);
  await store.close();
  return new Map(rows.map(([k, s, l]) => [k, { status: s, testLoss: l }]));
};

test('a study runs in parallel workers; a second run adds nothing and changes nothing', async () => {
  const db = join(dir, 'a.db');
  const first = sgdlab('run', file, '--db', db, '--workers', '2');
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /^tiny: 12 completed, 6 diverged, 0 failed, 0 left \(18 new trials this run\)/);
  const before = await outcomes(db);
  const second = sgdlab('run', file, '--db', db, '--workers', '2');
  assert.match(second.stdout, /\(0 new trials this run\)/);
  assert.deepEqual(await outcomes(db), before);
  // Dropping a grid point: its trials stay stored but leave the results and the export.
  const narrowed = join(dir, 'narrow.yaml');
  writeFileSync(narrowed, readFileSync(file, 'utf8').replace('seed: [0, 1, 2]', 'seed: [0, 1]'));
  assert.match(sgdlab('run', narrowed, '--db', db).stdout, /\(0 new trials this run\)/);
  assert.equal(sgdlab('export', 'tiny', '--db', db).stdout.trim().split('\n').length, 13);
  assert.equal((await outcomes(db)).size, 18);
  // Restoring it brings them back without running anything.
  assert.match(sgdlab('run', file, '--db', db).stdout, /\(0 new trials this run\)/);
});

test('killed with SIGKILL mid-run and restarted, every trial runs exactly once with the numbers of an uninterrupted run', async () => {
  const reference = join(dir, 'reference.db');
  assert.equal(sgdlab('run', file, '--db', reference, '--workers', '1').status, 0);
  const db = join(dir, 'killed.db');
  // The whole process group (runner and workers) is killed once a few trials are stored.
  await runUntilThenKill([file, '--db', db, '--workers', '2'], async () => {
    const done = [...(await outcomes(db)).values()].filter((o) => o.status !== 'pending' && o.status !== 'running').length;
    return done >= 4;
  });
  await new Promise((r) => setTimeout(r, 200));
  const interrupted = [...(await outcomes(db)).values()];
  assert.ok(interrupted.some((o) => o.status === 'pending' || o.status === 'running'), 'the kill should have interrupted the study');
  const resumed = sgdlab('run', file, '--db', db, '--workers', '2');
  assert.equal(resumed.status, 0, resumed.stderr);
  const after = await outcomes(db);
  assert.equal(after.size, 18);
  assert.deepEqual(after, await outcomes(reference), 'same seeds ⇒ same numbers, every trial once');
});

test('sgdlab retry queues failed trials again; the next run trains them with their next attempt, ending with an uninterrupted run\'s numbers', async () => {
  const db = join(dir, 'retry.db');
  assert.equal(sgdlab('run', file, '--db', db, '--workers', '0').status, 0);
  // Two trials fail as a worker killed over its memory limit leaves them (the runner records them so).
  const store = await openStore(db);
  const failed = [(await store.claim('tiny', 'host:1:1'))!, (await store.claim('tiny', 'host:1:1'))!];
  assert.equal(await store.failHeldBy('tiny', 'host:1:', 'killed: over the memory limit'), 2);
  await store.close();
  const first = sgdlab('run', file, '--db', db, '--workers', '2');
  assert.match(first.stdout, /^tiny: 10 completed, 6 diverged, 2 failed, 0 left/);
  assert.match(sgdlab('retry', 'tiny', '--db', db).stdout, /^queued again in study tiny: 2 failed trial\(s\), 0 failed measurement\(s\)/);
  assert.match(sgdlab('retry', 'tiny', '--db', db).stdout, /^study tiny has no failed trial or measurement/);
  const again = sgdlab('run', file, '--db', db, '--workers', '2');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /^tiny: 12 completed, 6 diverged, 0 failed, 0 left/);
  // reference.db: the uninterrupted one-worker run of the test above.
  assert.deepEqual(await outcomes(db), await outcomes(join(dir, 'reference.db')), 'same seeds ⇒ same numbers');
  const after = await openStore(db);
  for (const f of failed) assert.deepEqual([(await after.trial('tiny', f.key))!.attempt, (await after.trial('tiny', f.key))!.error], [2, null], `${f.key}: its second attempt, the error cleared`);
  await after.close();
  const missing = sgdlab('retry', 'nope', '--db', db);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no study 'nope' in .*retry\.db; studies there: tiny/);
});

test('results: per batch size the best learning rate, never a diverged one; JSON shape; CSV export', () => {
  const db = join(dir, 'a.db');
  const r = sgdlab('results', 'tiny', '--db', db, '--json');
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { batchSize: number; bestLr: number; testAccuracy: { mean: number; std: number; n: number }; trainLoss: { n: number }; tried: { lr: number; diverged: number }[] }[];
  assert.deepEqual(rows.map((x) => x.batchSize), [25, 100]);
  for (const row of rows) {
    assert.notEqual(row.bestLr, 1000);
    assert.equal(row.testAccuracy.n, 3);
    assert.equal(row.trainLoss.n, 3);
    assert.ok(row.testAccuracy.mean > 0.3 && row.testAccuracy.std >= 0);
    assert.equal(row.tried.find((t) => t.lr === 1000)!.diverged, 3);
  }
  const csv = sgdlab('export', 'tiny', '--db', db, '--format', 'csv');
  const lines = csv.stdout.trim().split('\n');
  assert.equal(lines.length, 19);
  assert.match(lines[0]!, /^key,status,batchSize,lr,seed,budget,steps,trainLoss,trainAccuracy,testLoss,testAccuracy,validationAccuracy,seconds,error,coordinates$/);
  assert.match(sgdlab('status', 'tiny', '--db', db).stdout, /^tiny: 12 completed, 6 diverged, 0 failed, 0 running, 0 pending/);
});

test('study command errors name what is wrong', () => {
  const db = join(dir, 'a.db');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'name: bad\nbase: { model: { name: mlp }, data: { name: mnist }, optimizer: { name: sgd, lr: 0.1 }, batchSize: 32, budget: { steps: 1 } }\ngrid: { seed: [] }\n');
  const cases: [string[], RegExp][] = [
    [['results', 'nope', '--db', db], /no study 'nope' in .*a\.db; studies there: tiny/],
    [['run', join(dir, 'missing.yaml'), '--db', db], /cannot read the study file .*missing\.yaml \(ENOENT\)/],
    [['run', bad, '--db', db], /grid\.seed: a grid axis needs at least one value \(got \[\]\)/],
    [['export', 'tiny', '--db', db, '--format', 'xml'], /--format: 'xml' must be csv or json/],
    [['run', file, '--db', db, '--workers', '-1'], /--workers: '-1' must be a whole number \(0: register the study only\)/],
    [['run', file, '--db', db, '--lease', '10', '--heartbeat', '20'], /--heartbeat: 20 s must be shorter than the lease \(10 s\)/],
    [['run', file, '--db', 'mysql://u:hunter2@h/db'], /the store URL 'mysql:\/\/u:\*\*\*@h\/db' has an unknown scheme/],
  ];
  for (const [args, pattern] of cases) {
    const r = sgdlab(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status} ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  const removed = sgdlab('rm', 'tiny', '--db', db);
  assert.match(removed.stdout, /deleted study tiny/);
  assert.match(sgdlab('status', '--db', db).stdout, /no studies in/);
});
