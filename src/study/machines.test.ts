/**
 * Studies on many machines, against a real PostgreSQL (a throw-away cluster, pg-testing.ts). Each
 * "machine" is a `sgdlab worker` process tree with its own host id (SGDLAB_HOST_ID) and temporary
 * directory; leases and heartbeats are short so that takeovers happen within seconds. Results are
 * checked against an uninterrupted single-worker run; every output of every command is kept and
 * searched for the database password at the end.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DataSpec } from '../data/index.js';
import { IN_STORE, openStore, type StudyStore, type WorkerHolding } from './index.js';
import { IDLE_IN_TRANSACTION_MS } from './pg-store.js';
import { pgCluster } from './pg-testing.js';
import { levelsStudy, repoRoot, smallMlpStudy, symmetricEigenvalues } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'sgdlab-machines-'));
const cluster = await pgCluster();
/** Every output of every command this file runs (searched for the password at the end). */
const outputs: { command: string; text: string }[] = [];

interface Running {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts `sgdlab ARGS…` as machine `host` (its own host id and temporary directory), in its own process group. */
function start(args: string[], host = 'machine-main', env: Record<string, string> = {}): Running {
  const tmp = join(dir, `tmp-${host}`);
  mkdirSync(tmp, { recursive: true });
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'sgdlab.js'), ...args], {
    cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SGDLAB_HOST_ID: host, TMPDIR: tmp, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => {
    outputs.push({ command: args.join(' '), text: stdout + stderr });
    resolve({ code, stdout, stderr });
  }));
  return { child, done };
}

/** Runs `sgdlab ARGS…` to the end. */
const sgdlab = (args: string[], host?: string, env?: Record<string, string>) => start(args, host, env).done;

async function until<T>(what: string, check: () => Promise<T | undefined | false>, seconds = 300): Promise<T> {
  const deadline = Date.now() + 1000 * seconds;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function withStore<T>(url: string, use: (s: StudyStore) => Promise<T>): Promise<T> {
  const store = await openStore(url);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** Metrics of one run: some, and no (step, name) twice (a second attempt's or a retried write's would repeat them). */
const storedOnce = (metrics: { step: number; name: string }[]) => metrics.length > 0 && new Set(metrics.map((m) => `${m.step}/${m.name}`)).size === metrics.length;

const testLosses = (url: string, name: string) => withStore(url, async (s) => new Map((await s.trials(name)).map((t) => [t.key, { status: t.status, testLoss: (t.result as { test?: { loss: number } } | null)?.test?.loss ?? null }])));

// Nine trials of a small MLP, long enough to be caught in the middle of one: 1,500 steps, 1.3–1.5 s on an idle
// core. At 300 (0.3–0.5 s) a trial could end before the worker's first progress beat (every 0.5 s) showed a step,
// so on an idle machine machine-b was never seen mid-trial (CI at c6b3008: timed out after 300 s).
const nine = join(dir, 'nine.yaml');
writeFileSync(nine, smallMlpStudy('nine', 'grid:\n  optimizer.lr: [0.05, 0.1, 0.2]\n  seed: [0, 1, 2]\n', '').replace('steps: 30', 'steps: 1500'));
const fast = ['--lease', '3', '--heartbeat', '0.5'];
let reference: Map<string, { status: string; testLoss: number | null }> | undefined;
const referenceRun = async () => {
  if (!reference) {
    const db = join(dir, 'reference.db');
    const r = await sgdlab(['run', nine, '--db', db, '--workers', '1']);
    assert.equal(r.code, 0, r.stderr);
    reference = await testLosses(db, 'nine');
  }
  return reference;
};

test('three machines on one study, one SIGKILLed mid-trial: every trial completed once, with the numbers of an uninterrupted run', async () => {
  const url = await cluster.newDatabase();
  const registered = await sgdlab(['run', nine, '--db', url, '--workers', '0']);
  assert.equal(registered.code, 0, registered.stderr);
  assert.match(registered.stdout, /^nine: 0 completed, 0 diverged, 0 failed, 9 left \(9 new trials this run\)\nregistered: start workers with sgdlab worker/);
  const machines = ['machine-a', 'machine-b', 'machine-c'].map((host) => ({ host, run: start(['worker', '--db', url, '--workers', '1', ...fast, '--wait', '--poll', '0.5'], host) }));
  // Once machine-b is in the middle of a trial, it dies (its worker command and worker process together).
  // Its heartbeat may be half a second old, and a trial can end in that time, so machine-b is
  // first frozen (SIGSTOP) and the trial it holds read from the trials table; between trials it is let go on.
  const machineB = -machines[1]!.run.child.pid!;
  const { victim, held } = await until('machine-b to be stopped in the middle of a trial', async () => {
    const v = await withStore(url, async (s) => (await s.workers('nine')).find((w) => w.host === 'machine-b' && w.holds?.kind === 'trial' && (w.step ?? 0) > 0));
    if (!v) return undefined;
    process.kill(machineB, 'SIGSTOP');
    const running = await withStore(url, async (s) => (await s.trials('nine')).find((t) => t.status === 'running' && t.worker === v.id));
    if (running) return { victim: v, held: running };
    process.kill(machineB, 'SIGCONT');
    return undefined;
  });
  process.kill(machineB, 'SIGKILL');
  await until('every trial to complete', () => withStore(url, async (s) => (await s.trials('nine')).every((t) => t.status === 'completed')));
  for (const m of [machines[0]!, machines[2]!]) process.kill(-m.run.child.pid!, 'SIGTERM');
  await Promise.all(machines.map((m) => m.run.done));
  await withStore(url, async (s) => {
    const trials = await s.trials('nine');
    assert.equal(trials.length, 9);
    const taken = trials.find((t) => t.key === held.key)!;
    assert.equal(taken.attempt, 2, 'the killed trial was claimed a second time');
    assert.ok(!taken.worker!.startsWith('machine-b:'), `taken over by another machine (${taken.worker})`);
    assert.deepEqual(trials.filter((t) => t.key !== held.key).map((t) => t.attempt), new Array(8).fill(1), 'every other trial claimed once');
    const hosts = new Set(trials.map((t) => t.worker!.split(':')[0]));
    assert.ok(hosts.has('machine-a') || hosts.has('machine-c'));
    const b = (await s.workers('nine')).find((w) => w.id === victim.id)!;
    assert.equal(b.expired, true, "the dead machine's worker shows no heartbeat within its lease");
    assert.equal((await s.refusals('nine')).length, 0);
  });
  assert.deepEqual(await testLosses(url, 'nine'), await referenceRun(), 'same seeds ⇒ same test losses as one uninterrupted worker');
});

test('a worker stopped (SIGSTOP) past its lease loses its trial to another; resumed (SIGCONT), its late result is refused and shown by status', async () => {
  const file = join(dir, 'paused.yaml');
  writeFileSync(file, smallMlpStudy('paused', 'grid:\n  seed: [0, 1]\n').replace('steps: 30', 'steps: 1500'));
  const url = await cluster.newDatabase();
  assert.equal((await sgdlab(['run', file, '--db', url, '--workers', '0'])).code, 0);
  const a = start(['worker', '--db', url, '--workers', '1', '--lease', '2', '--heartbeat', '0.5'], 'machine-a');
  const paused = await until('machine-a to be training', () => withStore(url, async (s) =>
    (await s.workers('paused')).find((w) => w.host === 'machine-a' && w.holds?.kind === 'trial' && (w.step ?? 0) > 0)));
  process.kill(paused.pid, 'SIGSTOP');
  const key = paused.holds!.key;
  const b = start(['worker', '--db', url, '--workers', '1', '--lease', '2', '--heartbeat', '0.5', '--wait', '--poll', '0.5'], 'machine-b');
  await until('machine-b to finish both trials', () => withStore(url, async (s) => (await s.trials('paused')).every((t) => t.status === 'completed' && t.worker!.startsWith('machine-b:'))));
  process.kill(paused.pid, 'SIGCONT');
  const first = await a.done;
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, new RegExp(`the result of trial ${key} \\(attempt 1\\) was refused`));
  process.kill(-b.child.pid!, 'SIGTERM');
  await b.done;
  await withStore(url, async (s) => {
    const t = (await s.trial('paused', key))!;
    assert.equal(t.attempt, 2);
    assert.match(t.worker!, /^machine-b:/);
    const refusals = await s.refusals('paused');
    // Its result is refused; so are the live metrics it sends if it trains on a while after SIGCONT: each kind recorded once.
    const seen = refusals.map((r) => [r.kind, r.key, r.attempt, r.currentAttempt, r.what]);
    assert.deepEqual(seen.filter((r) => r[4] === 'finish'), [['trial', key, 1, 2, 'finish']]);
    assert.ok(seen.every((r) => r[4] === 'finish' || (r[4] === 'metrics' && r[2] === 1)) && seen.length <= 2, JSON.stringify(seen));
    assert.ok(storedOnce(await s.metrics('paused', key)), "the new attempt's metrics only, once");
  });
  const status = await sgdlab(['status', 'paused', '--db', url]);
  assert.match(status.stdout, /^paused: 2 completed, 0 diverged, 0 failed, 0 running, 0 pending/);
  assert.match(status.stdout, new RegExp(`[12] late result\\(s\\) refused \\(stale attempts, not stored\\):\\n(    trial ${key}: metrics of attempt 1 .*\\n)?    trial ${key}: finish of attempt 1 .*current attempt 2`));
});

test('a worker stopped (SIGSTOP) while training a pack of a pruned study loses both members; resumed, its rung reports are refused and it drops them there, storing nothing', async () => {
  // The rung at step 2,000 of 3,000 (ASHA's only rung below the end): machine-a is stopped as soon as it holds the
  // pack, long before it, so that the first thing it sends for its members after SIGCONT is their rung reports.
  const study = `${smallMlpStudy('packlost', 'grid:\n  seed: [0, 1]\n').replace('steps: 30', 'steps: 3000')}pack: { when: always }\nprune: { rule: asha, metric: validationLoss, unit: steps, gracePeriod: 2000, reductionFactor: 2, across: [seed] }\n`;
  const file = join(dir, 'packlost.yaml');
  writeFileSync(file, study);
  const url = await cluster.newDatabase();
  assert.equal((await sgdlab(['run', file, '--db', url, '--workers', '0'])).code, 0);
  const a = start(['worker', '--db', url, '--workers', '1', '--lease', '2', '--heartbeat', '0.5'], 'machine-a');
  const packing = await until('machine-a to hold the pack of both seeds', () => withStore(url, async (s) =>
    (await s.workers('packlost')).find((w) => w.host === 'machine-a' && w.holds?.kind === 'trial' && w.holds.pack?.length === 1)));
  process.kill(packing.pid, 'SIGSTOP');
  const stoppedAt = (await withStore(url, (s) => s.workers('packlost'))).find((w) => w.pid === packing.pid)!.step ?? 0;
  assert.ok(stoppedAt < 2000, `stopped at step ${stoppedAt}, before the rung`);
  const holds = packing.holds as Extract<WorkerHolding, { kind: 'trial' }>;
  const keys = [holds.key, holds.pack![0]!.key];
  const b = start(['worker', '--db', url, '--workers', '1', '--lease', '2', '--heartbeat', '0.5', '--wait', '--poll', '0.5'], 'machine-b');
  await until('machine-b to end both trials', () => withStore(url, async (s) =>
    (await s.trials('packlost')).every((t) => (t.status === 'completed' || t.status === 'pruned') && t.worker!.startsWith('machine-b:'))));
  const ended = await withStore(url, (s) => s.trials('packlost'));
  process.kill(packing.pid, 'SIGCONT');
  const first = await a.done;
  assert.equal(first.code, 0, first.stderr);
  for (const key of keys) assert.match(first.stderr, new RegExp(`the result of trial ${key} \\(attempt 1\\) was refused`));
  process.kill(-b.child.pid!, 'SIGTERM');
  await b.done;
  await withStore(url, async (s) => {
    assert.deepEqual(await s.trials('packlost'), ended, "machine-a changed nothing of machine-b's trials");
    for (const t of ended) assert.deepEqual([t.attempt, (t.result?.packed as { members?: number } | undefined)?.members ?? 1], [2, 1], `${t.key}: its second attempt, run alone by machine-b`);
    // Dropped at the rung: it never went on to store a member's end (finish) or its pruning (prune), only metrics were refused.
    const refused = (await s.refusals('packlost')).map((r) => [r.key, r.attempt, r.what]);
    assert.deepEqual([...new Set(refused.map((r) => r[0]))].sort(), [...keys].sort(), JSON.stringify(refused));
    assert.ok(refused.every(([, attempt, what]) => attempt === 1 && what === 'metrics'), JSON.stringify(refused));
    for (const key of keys) assert.ok(storedOnce(await s.metrics('packlost', key)), `${key}: the new attempt's metrics only, once`);
  });
});

test('PostgreSQL restarted (pg_ctl restart -m fast) in the middle of a study: the workers reconnect, nothing is lost or repeated', async () => {
  const url = await cluster.newDatabase();
  assert.equal((await sgdlab(['run', nine, '--db', url, '--workers', '0'])).code, 0);
  const w = start(['worker', '--db', url, '--workers', '2', '--lease', '30', '--heartbeat', '0.5']);
  await until('two trials to complete', () => withStore(url, async (s) => (await s.trials('nine')).filter((t) => t.status === 'completed').length >= 2));
  cluster.restart();
  const r = await w.done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^nine: 9 completed, 0 diverged, 0 failed, 0 left/m, r.stderr);
  await withStore(url, async (s) => {
    const trials = await s.trials('nine');
    assert.deepEqual(trials.map((t) => [t.status, t.attempt]), new Array(9).fill(['completed', 1]), 'each trial claimed once');
    for (const t of trials) assert.ok(storedOnce(await s.metrics('nine', t.key)), `trial ${t.key}: its metrics stored once`);
    assert.equal((await s.refusals('nine')).length, 0);
  });
  assert.deepEqual(await testLosses(url, 'nine'), await referenceRun());
});

/** What the measured studies measure: every trial's λ_max and gradient noise on 100 examples. */
const MEASURE = `measure:
  trials: all
  what: [hessian, noise]
  subset: 100
  hessian: { topK: 1 }
`;
const measuredStudy = (name: string) => smallMlpStudy(name, `grid:\n  seed: [0, 1]\n${MEASURE}`);

/** Linear-regression data: with ŷ = wᵀx and ½-squared loss the Hessian is XᵀX/n, known in closed form. */
const linearData: DataSpec = { name: 'linear-regression', linearRegression: { dim: 4, covariance: [4, 2, 1, 0.5], teacher: [1, -1, 0.5, 2], labelNoise: 0.5 }, trainSize: 128, testSize: 16 };
const linearMeasuredStudy = (name: string) => `name: ${name}
base:
  model: { name: linear-regression }
  data: ${JSON.stringify(linearData)}
  optimizer: { name: sgd, lr: 0.05, momentum: 0.9 }
  batchSize: 16
  budget: { steps: 30 }
grid:
  seed: [0, 1]
${MEASURE}`;

test("a measurement phase whose trials ran on one machine and whose measurements run on another, from checkpoints in the store", async () => {
  const file = join(dir, 'split.yaml');
  writeFileSync(file, linearMeasuredStudy('split'));
  const url = await cluster.newDatabase();
  assert.equal((await sgdlab(['run', file, '--db', url, '--workers', '0'])).code, 0);
  const trained = await sgdlab(['worker', '--db', url, '--workers', '1', '--only', 'train'], 'machine-a');
  assert.equal(trained.code, 0, trained.stderr);
  assert.match(trained.stdout, /^split: 2 completed, 0 diverged, 0 failed, 0 left\nmeasurements: 0 completed, 0 failed, 4 left \(4 new this run\)/);
  const measured = await sgdlab(['worker', '--db', url, '--workers', '1'], 'machine-b');
  assert.equal(measured.code, 0, measured.stderr);
  assert.match(measured.stdout, /measurements: 4 completed, 0 failed, 0 left/);
  assert.deepEqual(readdirSync(join(dir, 'tmp-machine-a')).filter((f) => f.startsWith('sgdlab-worker-')), [], "machine-a's scratch folders are gone: the checkpoints live in the store only");
  await withStore(url, async (s) => {
    const trials = await s.trials('split');
    assert.ok(trials.every((t) => t.checkpoint === IN_STORE && t.worker!.startsWith('machine-a:')));
    const measurements = await s.measurements('split');
    assert.equal(measurements.length, 4);
    assert.ok(measurements.every((m) => m.status === 'completed' && m.worker!.startsWith('machine-b:')), JSON.stringify(measurements.map((m) => [m.status, m.worker, m.error])));
    // Plumbing: the stored λ_max equals `sgdlab measure`'s on the checkpoint exported from the store (the same
    // function on the same bytes: this checks that the right checkpoint and data reached machine-b, not the number).
    const key = trials[0]!.key;
    const out = join(dir, 'exported');
    const got = await sgdlab(['checkpoint', 'get', 'split', key, '--db', url, '--out', out]);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['initial.safetensors', 'model.json', 'model.safetensors']);
    const independent = await sgdlab(['measure', 'hessian', '--checkpoint', out, '--top-k', '1', '--subset', '100', '--json']);
    assert.equal(independent.code, 0, independent.stderr);
    const stored = measurements.find((m) => m.key === key && m.kind === 'hessian')!.result as { eigenvalues: number[] };
    assert.deepEqual(stored.eigenvalues, (JSON.parse(independent.stdout) as { eigenvalues: number[] }).eigenvalues);
  });
  // The number, in closed form: every trial's stored λ_max is the top eigenvalue of XᵀX/n on the first 100
  // training examples, computed densely here in float64 (whatever the trained weights).
  const { prepareData, disposeSplits } = await import('../data/index.js');
  const splits = prepareData(linearData);
  const X = (splits.train.x.double().toArray() as number[][]).slice(0, 100);
  disposeSplits(splits);
  const exact = symmetricEigenvalues(X[0]!.map((_, a) => X[0]!.map((__, b) => X.reduce((acc, row) => acc + row[a]! * row[b]!, 0) / 100)))[0]!;
  const hessians = await withStore(url, async (s) => (await s.measurements('split')).filter((m) => m.kind === 'hessian').map((m) => (m.result as { eigenvalues: number[] }).eigenvalues));
  assert.equal(hessians.length, 2);
  for (const [lambda] of hessians) assert.ok(Math.abs(lambda! - exact) <= 1e-4 * exact, `stored λ_max ${lambda}, top eigenvalue of XᵀX/n ${exact}`);
});

test('eight workers claiming 500 tiny trials: each claimed once, none left behind, no deadlock', async () => {
  const file = join(dir, 'tiny.yaml');
  writeFileSync(file, `name: tiny
base:
  model: { name: linear-regression }
  data: { name: linear-regression, linearRegression: { dim: 2, teacher: [1, 1], labelNoise: 1 }, trainSize: 8, testSize: 8 }
  optimizer: { name: sgd, lr: 0.1 }
  batchSize: 4
  budget: { steps: 1 }
grid: { seed: [${Array.from({ length: 500 }, (_, i) => i).join(', ')}] }
`);
  const url = await cluster.newDatabase();
  const r = await sgdlab(['run', file, '--db', url, '--workers', '8', '--lease', '30', '--heartbeat', '5']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^tiny: 500 completed, 0 diverged, 0 failed, 0 left \(500 new trials this run\)/);
  await withStore(url, async (s) => {
    const trials = await s.trials('tiny');
    assert.equal(trials.length, 500);
    assert.ok(trials.every((t) => t.status === 'completed' && t.attempt === 1), 'every trial completed, claimed once');
    const byWorker = new Map<string, number>();
    for (const t of trials) byWorker.set(t.worker!, (byWorker.get(t.worker!) ?? 0) + 1);
    assert.ok(byWorker.size >= 2, `several workers took trials (${[...byWorker.values()].join(', ')})`);
    const workers = await s.workers('tiny');
    assert.ok(workers.length >= 8 && workers.every((w) => w.state === 'exited'), 'every worker recorded and exited');
    assert.equal((await s.refusals('tiny')).length, 0);
  });
});

test('copy SQLite → PostgreSQL → SQLite: identical results and export, checkpoints included, keys kept; the study continues in PostgreSQL', async () => {
  const file = join(dir, 'moved.yaml');
  writeFileSync(file, measuredStudy('moved'));
  const laptop = join(dir, 'laptop.db');
  const run = await sgdlab(['run', file, '--db', laptop, '--workers', '1']);
  assert.equal(run.code, 0, run.stderr);
  const url = await cluster.newDatabase();
  const back = join(dir, 'back.db');
  const there = await sgdlab(['copy', 'moved', '--from', laptop, '--to', url]);
  assert.equal(there.code, 0, there.stderr);
  assert.match(there.stdout, /copied study moved from .*laptop\.db to postgres:\/\/sgdlab:\*\*\*@127\.0\.0\.1:\d+\/\w+: 2 trials, 4 measurements, 2 checkpoints \(2 read from their directories into the store\)/);
  const again = await sgdlab(['copy', 'moved', '--from', url, '--to', back]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /2 trials, 4 measurements, 2 checkpoints\n/);
  const views = async (db: string) => ({
    results: (await sgdlab(['results', 'moved', '--db', db, '--json'])).stdout,
    json: (await sgdlab(['export', 'moved', '--db', db, '--format', 'json'])).stdout,
    csv: (await sgdlab(['export', 'moved', '--db', db, '--format', 'csv'])).stdout,
  });
  const original = await views(laptop);
  assert.ok(JSON.parse(original.results).length === 1 && original.csv.split('\n').length === 4);
  assert.deepEqual(await views(url), original);
  assert.deepEqual(await views(back), original);
  // The checkpoints came along, byte for byte.
  const key = (await withStore(laptop, (s) => s.trials('moved')))[0]!;
  const out = join(dir, 'moved-checkpoint');
  assert.equal((await sgdlab(['checkpoint', 'get', 'moved', key.key, '--db', back, '--out', out])).code, 0);
  for (const f of ['model.safetensors', 'model.json', 'initial.safetensors']) assert.deepEqual(readFileSync(join(out, f)), readFileSync(join(key.checkpoint!, '..', f)), f);
  assert.match((await sgdlab(['copy', 'moved', '--from', laptop, '--to', url])).stderr, /study 'moved' already exists in postgres:\/\/sgdlab:\*\*\*@/);
  // Widened on the cluster: only the new grid point trains; nothing done on the laptop is redone.
  const wider = join(dir, 'wider.yaml');
  writeFileSync(wider, readFileSync(file, 'utf8').replace('seed: [0, 1]', 'seed: [0, 1, 2]'));
  const continued = await sgdlab(['run', wider, '--db', url, '--workers', '1']);
  assert.equal(continued.code, 0, continued.stderr);
  assert.match(continued.stdout, /^moved: 3 completed, 0 diverged, 0 failed, 0 left \(1 new trials this run\)\nmeasurements: 6 completed, 0 failed, 0 left \(2 new this run\)/);
  await withStore(url, async (s) => assert.deepEqual((await s.trials('moved')).map((t) => t.attempt), [1, 1, 1]));
});

test('loss-level checkpoints in PostgreSQL (artifacts in the store): measured there as from a directory, copied with the study, fetched by checkpoint get --level', async () => {
  const file = join(dir, 'levels.yaml');
  writeFileSync(file, levelsStudy('levels', [100, 5]));
  const url = await cluster.newDatabase();
  const local = join(dir, 'levels-local.db');
  for (const db of [url, local]) assert.equal((await sgdlab(['run', file, '--db', db, '--workers', '1'])).code, 0, db);
  const measured = (db: string) => withStore(db, async (s) => (await s.measurements('levels'))
    .map((m) => [JSON.parse(m.spec).level ?? 'final', m.status, m.error, (m.result as { eigenvalues?: number[] } | null)?.eigenvalues]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
  const there = await measured(url);
  assert.deepEqual(there.map((m) => [m[0], m[1]]), [[100, 'completed'], [5, 'completed'], ['final', 'completed']]);
  // Same seed, same machine: the checkpoints read back from PostgreSQL are those SQLite's run wrote to its directory.
  assert.deepEqual(there, await measured(local));
  const trial = (await withStore(local, (s) => s.trials('levels')))[0]!;
  const levelDir = (level: number) => (trial.result as { lossLevels: { level: number; checkpoint: string }[] }).lossLevels.find((r) => r.level === level)!.checkpoint;
  const back = join(dir, 'levels-back.db');
  assert.equal((await sgdlab(['copy', 'levels', '--from', url, '--to', back])).code, 0);
  for (const [db, level] of [[url, 5], [back, 100], [back, 5]] as const) {
    const out = join(dir, `levels-${level}-${db === url ? 'pg' : 'sqlite'}`);
    const got = await sgdlab(['checkpoint', 'get', 'levels', trial.key, '--db', db, '--out', out, '--level', String(level)]);
    assert.equal(got.code, 0, got.stderr);
    for (const f of ['model.safetensors', 'initial.safetensors']) assert.deepEqual(readFileSync(join(out, f)), readFileSync(join(levelDir(level), f)), `${f} at level ${level}`);
  }
  // The final checkpoint is the final one only, without the levels' files beside it.
  const final = join(dir, 'levels-final');
  assert.equal((await sgdlab(['checkpoint', 'get', 'levels', trial.key, '--db', back, '--out', final])).code, 0);
  assert.deepEqual(readdirSync(final).sort(), ['initial.safetensors', 'model.json', 'model.safetensors']);
  const missing = await sgdlab(['checkpoint', 'get', 'levels', trial.key, '--db', back, '--out', final, '--level', '0.5']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^sgdlab: trial \S+ has no checkpoint at training-loss level 0\.5 \(it has: 100, 5\)\n$/);
});

test('a worker stopped (SIGSTOP) inside a transaction loses its row locks after IDLE_IN_TRANSACTION_MS (claims skip locked rows: held for good, its trial would never be claimed again)', async () => {
  const url = await cluster.newDatabase();
  const script = join(dir, 'hold-lock.mjs');
  // The store's own transaction, stopped after it has locked a row (as a worker stopped mid-write would be).
  writeFileSync(script, `import { openPostgresStore } from ${JSON.stringify(new URL('./pg-store.js', import.meta.url).pathname)};
const store = await openPostgresStore(process.env.STORE_URL);
await store.tx(async (q) => { await q('SELECT version FROM schema_version FOR UPDATE'); process.stdout.write('locked\\n'); await new Promise(() => {}); });
`);
  const child = spawn(process.execPath, [script], { env: { ...process.env, STORE_URL: url }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('locked')) resolve(); }));
  process.kill(child.pid!, 'SIGSTOP');
  const started = Date.now();
  const other = new pg.Client({ connectionString: url });
  await other.connect();
  await other.query("SET lock_timeout = '200ms'");
  const tryLock = async () => {
    await other.query('BEGIN');
    try {
      await other.query('SELECT version FROM schema_version FOR UPDATE');
      return true;
    } catch (error) {
      assert.equal((error as { code?: string }).code, '55P03', String(error)); // lock_not_available
      return false;
    } finally {
      await other.query('ROLLBACK');
    }
  };
  try {
    assert.equal(await tryLock(), false, 'the stopped session holds the lock at first');
    await until('the stopped session to lose its lock', tryLock, IDLE_IN_TRANSACTION_MS / 1000 + 30);
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds >= IDLE_IN_TRANSACTION_MS / 1000 - 1, `released after ${seconds} s`);
  } finally {
    await other.end();
    process.kill(child.pid!, 'SIGKILL');
  }
});

test('a worker whose store is out of reach longer than its lease stops claiming and says why; its trial is taken over', async () => {
  const file = join(dir, 'cutoff.yaml');
  writeFileSync(file, smallMlpStudy('cutoff', 'grid:\n  seed: [0, 1]\n').replace('steps: 30', 'steps: 1500'));
  const url = await cluster.newDatabase();
  assert.equal((await sgdlab(['run', file, '--db', url, '--workers', '0'])).code, 0);
  const w = start(['worker', '--db', url, '--workers', '1', '--lease', '2', '--heartbeat', '0.5'], 'machine-a');
  const held = await until('the worker to train', () => withStore(url, async (s) => (await s.workers('cutoff')).find((x) => x.holds?.kind === 'trial' && (x.step ?? 0) > 0)));
  cluster.serverStop();
  let r: Awaited<Running['done']>;
  try {
    r = await w.done;
  } finally {
    cluster.serverStart();
  }
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /worker machine-a:\d+:\d+ stopped claiming: the study store failed: the study store postgres:\/\/sgdlab:\*\*\*@127\.0\.0\.1:\d+\/\w+: .*(ECONNREFUSED|terminat|shutting down)/);
  assert.match(r.stderr, /sgdlab worker: stopped: the study store postgres:\/\/sgdlab:\*\*\*@.* was out of reach longer than the lease \(2 s\)/);
  // Another worker takes the abandoned trial over (its lease expired) and finishes the study.
  const next = await sgdlab(['worker', '--db', url, '--workers', '1', '--lease', '2', '--heartbeat', '0.5'], 'machine-b');
  assert.equal(next.code, 0, next.stderr);
  await withStore(url, async (s) => {
    const trials = await s.trials('cutoff');
    assert.ok(trials.every((t) => t.status === 'completed' && t.worker!.startsWith('machine-b:')));
    assert.equal(trials.find((t) => t.key === held.holds!.key)!.attempt, 2);
  });
});

test('connection errors name the store without its password; workers never get it in their command line', async () => {
  const wrong = cluster.url('postgres').replace(cluster.password, `${cluster.password}-wrong`);
  const bad = await sgdlab(['status', '--db', wrong]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^sgdlab: cannot open the study store postgres:\/\/sgdlab:\*\*\*@127\.0\.0\.1:\d+\/postgres: .*password authentication failed for user "sgdlab"/);
  const missing = await sgdlab(['status', '--db', cluster.url('no_such_db')], undefined, { SGDLAB_DEBUG: '1' });
  assert.match(missing.stderr, /database "no_such_db" does not exist/);
  const viaEnv = await sgdlab(['status'], undefined, { SGDLAB_DB: wrong });
  assert.match(viaEnv.stderr, /password authentication failed/);
  const unreachable = await sgdlab(['status', '--db', `postgres://sgdlab:${cluster.password}@127.0.0.1:1/x?connect_timeout=2`]);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot open the study store postgres:\/\/sgdlab:\*\*\*@127\.0\.0\.1:1\/x\?connect_timeout=2/);
  // A worker's command line: the URL travels in its environment.
  const file = join(dir, 'argv.yaml');
  // Long enough to be still training when `status` runs below (1,500 steps, as before, ended first on a
  // quiet machine now and then); the run is killed at the end.
  writeFileSync(file, smallMlpStudy('argv', 'grid:\n  seed: [0]\n').replace('steps: 30', 'steps: 100000'));
  const url = await cluster.newDatabase();
  const run = start(['run', file, '--db', url, '--workers', '1']);
  const w = await until('the worker to train', () => withStore(url, async (s) => (await s.workers('argv')).find((x) => x.holds !== null && (x.step ?? 0) > 0)));
  const argv = readFileSync(`/proc/${w.pid}/cmdline`, 'utf8');
  assert.ok(argv.includes('worker.js') && !argv.includes(cluster.password), argv);
  // status lists the workers with what they hold, from their heartbeats.
  const status = await sgdlab(['status', 'argv', '--db', url]);
  assert.match(status.stdout, new RegExp(`1 worker\\(s\\) active:\\n    ${w.id}: trial ${w.holds!.key} \\(attempt 1\\), step \\d+/100000, loss \\d[.\\d]*(e-?\\d+)?, \\d+ MB, last seen `));
  process.kill(-run.child.pid!, 'SIGKILL');
  await run.done;
});

test('the password appears in no output of any command above, no stored record and no server log line', async () => {
  assert.ok(outputs.length > 30, `${outputs.length} outputs collected`);
  for (const o of outputs) assert.ok(!o.text.includes(cluster.password), `the password appears in the output of sgdlab ${o.command.replaceAll(cluster.password, '***')}`);
  const client = new pg.Client({ connectionString: cluster.url('postgres') });
  await client.connect();
  const dbs = (await client.query("SELECT datname FROM pg_database WHERE datname LIKE 'sgdlab_test_%'")).rows.map((r: { datname: string }) => r.datname);
  await client.end();
  for (const db of dbs) {
    const c = new pg.Client({ connectionString: cluster.url(db) });
    await c.connect();
    for (const table of ['studies', 'trials', 'metrics', 'measurement_jobs', 'workers', 'refusals']) {
      const hits = await c.query(`SELECT COUNT(*) AS n FROM ${table} t WHERE strpos(t::text, $1) > 0`, [cluster.password]);
      assert.equal(Number(hits.rows[0].n), 0, `${db}.${table} holds the password`);
    }
    await c.end();
  }
  const log = readFileSync(join(cluster.dir, 'server.log'), 'utf8');
  assert.ok(!log.includes(cluster.password), "the server's log holds the password");
});
