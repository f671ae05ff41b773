/**
 * The runner's second phase and its crash isolation: measurements of the best trials are stored as
 * `sgdlab measure` computes them on the trial's checkpoint (the plumbing: targets, options, data,
 * checkpoint; the numbers themselves are checked against independent references in
 * measure-trial.test.ts and cli/measure.test.ts, and here for a linear regression against XᵀX/n); a worker over its memory limit or killed by a signal
 * has its trial recorded as failed with the reason while the study goes on; a worker killed by a signal, or by
 * Ctrl-C with its run, leaves no scratch folder in the temporary directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IN_STORE, openStore } from './index.js';
import { levelsStudy, linearHessianEigenvalues, linearStudy, repoRoot, runUntilThenKill, sgdlabCli, smallMlpStudy } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'sgdlab-measure-study-'));
const file = join(dir, 'measured.yaml');
writeFileSync(file, smallMlpStudy('measured', `grid:
  batchSize: [25, 100]
  optimizer.lr: [0.05, 0.2]
  seed: [0, 1]
measure:
  trials: best
  what: [hessian, sharpness, noise]
  subset: 200
  hessian: { topK: 2, traceProbes: 3 }
  sharpness: { epsilon: [1e-3], space: [full, 10], maxIter: 3, randomStarts: 0 }
`));
const sgdlab = sgdlabCli;
const root = repoRoot;

/** The workers' scratch folders (worker-pool.ts) in a temporary directory. */
const scratchFolders = (tmp: string) => readdirSync(tmp).filter((f) => f.startsWith('sgdlab-worker-'));

type Row = { batchSize: number; bestLr: number; bestTrials: string[]; measurements: Record<string, { mean: number; std: number; n: number }> };

test('measurements run on the best learning rate\'s seeds per batch size, equal to sgdlab measure on their checkpoints, once', async () => {
  const db = join(dir, 'm.db');
  const run = sgdlab('run', file, '--db', db, '--workers', '2');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^measured: 8 completed, 0 diverged, 0 failed, 0 left \(8 new trials this run\)\nmeasurements: 12 completed, 0 failed, 0 left \(12 new this run\)/);
  const rows = JSON.parse(sgdlab('results', 'measured', '--db', db, '--json').stdout) as Row[];
  assert.equal(rows.length, 2);
  const store = await openStore(db);
  try {
    for (const row of rows) {
      assert.equal(row.bestTrials.length, 2);
      for (const name of ['lambdaMax', 'hessianTrace', 'phi(eps=0.001, full)', 'phi(eps=0.001, p=10)', 'gradNormSq', 'traceSigma', 'bSimple']) {
        assert.equal(row.measurements[name]?.n, 2, `${name} at b=${row.batchSize}`);
      }
      assert.ok(row.measurements['phi(eps=0.001, full)']!.mean > 0, 'the full-space maximization moves off a non-stationary point');
    }
    // Plumbing: the stored numbers are those of `sgdlab measure` on the same checkpoint and data (the same
    // functions on the same bytes: this checks targets, options, data and checkpoint, not the numbers; the
    // closed form in the next test does).
    const key = rows[0]!.bestTrials[0]!;
    const checkpoint = (await store.trial('measured', key))!.checkpoint!;
    const stored = Object.fromEntries((await store.measurements('measured', key)).map((m) => [m.kind, m.result!]));
    const hessian = JSON.parse(sgdlab('measure', 'hessian', '--checkpoint', checkpoint, '--top-k', '2', '--trace-probes', '3', '--subset', '200', '--json').stdout) as { eigenvalues: number[]; trace: number };
    assert.deepEqual(stored.hessian!.eigenvalues, hessian.eigenvalues);
    assert.equal(stored.hessian!.trace, hessian.trace);
    const sharp = JSON.parse(sgdlab('measure', 'sharpness', '--checkpoint', checkpoint, '--epsilon', '1e-3', '--subspace', '10', '--max-iter', '3', '--random-starts', '0', '--subset', '200', '--json').stdout) as { phi: number };
    assert.equal((stored.sharpness!.values as { space: unknown; phi: number }[]).find((v) => v.space === 10)!.phi, sharp.phi);
    const noise = JSON.parse(sgdlab('measure', 'noise', '--checkpoint', checkpoint, '--subset', '200', '--json').stdout) as { gradNormSq: number; traceSigma: number };
    assert.equal(stored.noise!.gradNormSq, noise.gradNormSq);
    assert.equal(stored.noise!.traceSigma, noise.traceSigma);
  } finally {
    await store.close();
  }
  assert.match(sgdlab('run', file, '--db', db).stdout, /\(0 new trials this run\)\nmeasurements: 12 completed, 0 failed, 0 left \(0 new this run\)/);
  // A changed option measures again, that kind only; results count the current options' measurements.
  const changed = join(dir, 'changed.yaml');
  writeFileSync(changed, readFileSync(file, 'utf8').replace('epsilon: [1e-3]', 'epsilon: [5e-4]'));
  assert.match(sgdlab('run', changed, '--db', db).stdout, /measurements: 12 completed, 0 failed, 0 left \(4 new this run\)/);
  const after = JSON.parse(sgdlab('results', 'measured', '--db', db, '--json').stdout) as Row[];
  assert.equal(after[0]!.measurements['phi(eps=0.0005, full)']?.n, 2);
  assert.equal(after[0]!.measurements['phi(eps=0.001, full)'], undefined);
});

test('a measured linear regression: the stored top Hessian eigenvalues are those of XᵀX/n on the first `subset` examples (closed form, computed densely here)', async () => {
  // ŷ = wᵀx and ½-squared loss: H = XᵀX/n whatever w, so λ₁ ≥ λ₂ are the top eigenvalues of the 4×4 matrix.
  const subset = 50;
  const linear = join(dir, 'linear.yaml');
  writeFileSync(linear, linearStudy('linear', `grid: { seed: [0] }
measure:
  trials: all
  what: [hessian]
  subset: ${subset}
  hessian: { topK: 2 }
`, '  batchSize: 16\n'));
  const db = join(dir, 'linear.db');
  const run = sgdlab('run', linear, '--db', db, '--workers', '1');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /measurements: 1 completed, 0 failed, 0 left/);
  const store = await openStore(db);
  const [measured] = await store.measurements('linear');
  await store.close();
  const exact = (await linearHessianEigenvalues(subset)).slice(0, 2);
  const stored = (measured!.result as { eigenvalues: number[] }).eigenvalues;
  assert.equal(stored.length, 2);
  stored.forEach((v, i) => assert.ok(Math.abs(v - exact[i]!) <= 1e-4 * exact[i]!, `λ${i + 1}: stored ${v}, XᵀX/n ${exact[i]}`));
});

test('a worker over its memory limit is killed, its trial recorded as failed with the reason, and the study goes on', async () => {
  const big = join(dir, 'big.yaml');
  // About 20M parameters with Adam's two moments: far above an idle worker (≈ 300 MB with MNIST loaded).
  writeFileSync(big, `
name: big
base:
  model: { name: mlp, widths: [4096, 4096] }
  data: { name: mnist, subset: 1000 }
  optimizer: { name: adam, lr: 0.001 }
  batchSize: 50
  budget: { steps: 400 }
grid: { seed: [0, 1] }
`);
  const db = join(dir, 'big.db');
  const r = sgdlab('run', big, '--db', db, '--workers', '1', '--max-memory-mb', '450');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^big: 0 completed, 0 diverged, 2 failed, 0 left/);
  assert.match(r.stdout, /2 worker\(s\) killed over the memory limit/);
  const store = await openStore(db);
  for (const t of await store.trials('big')) assert.match(t.error!, /^killed: the worker's resident memory \d+ MB exceeded the limit of 450 MB \(--max-memory-mb\)$/);
  await store.close();
  assert.match(sgdlab('run', big, '--db', db, '--max-memory-mb', 'lots').stderr, /--max-memory-mb: 'lots' must be a positive number of megabytes/);
});

test('a worker killed by a signal (a native crash) has its trial recorded as failed; the other trials complete', async () => {
  const crashy = join(dir, 'crashy.yaml');
  writeFileSync(crashy, `
name: crashy
base:
  model: { name: mlp, widths: [16] }
  data: { name: mnist, subset: 500 }
  optimizer: { name: sgd, lr: 0.05 }
  batchSize: 25
  budget: { steps: 1500 }
grid: { seed: [0, 1, 2] }
`);
  const db = join(dir, 'crashy.db');
  const tmp = mkdtempSync(join(dir, 'tmp-crashy-'));
  const output = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'sgdlab.js'), 'run', crashy, '--db', db, '--workers', '1'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TMPDIR: tmp } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    let sent = false;
    const poll = setInterval(async () => {
      if (sent) return;
      try {
        const store = await openStore(db);
        const running = (await store.trials('crashy')).find((t) => t.status === 'running');
        await store.close();
        if (running?.worker) {
          sent = true;
          process.kill(Number(running.worker.split(':')[1]), 'SIGSEGV');
        }
      } catch {
        /* not created yet */
      }
    }, 100);
    child.on('exit', () => {
      clearInterval(poll);
      resolve(out);
    });
  });
  assert.match(output, /^crashy: 2 completed, 0 diverged, 1 failed, 0 left/);
  assert.match(output, /1 worker\(s\) died/);
  const store = await openStore(db);
  const failed = (await store.trials('crashy')).filter((t) => t.status === 'failed');
  await store.close();
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.error, 'the worker died (signal SIGSEGV) while running this');
  assert.deepEqual(scratchFolders(tmp), [], "the dead worker's scratch folder is removed with the others'");
});

test("Ctrl-C (SIGINT to the run's process group) mid-trial: the run stops with 130, no worker's scratch folder is left, and the next run completes the study", async () => {
  const file = join(dir, 'ctrlc.yaml');
  writeFileSync(file, smallMlpStudy('ctrlc', 'grid:\n  seed: [0, 1]\n').replace('steps: 30', 'steps: 3000'));
  const db = join(dir, 'ctrlc.db');
  const tmp = mkdtempSync(join(dir, 'tmp-ctrlc-'));
  let whileTraining = 0;
  // Its own process group, as a terminal's foreground job: SIGINT reaches the command and its workers at once.
  const { code, stderr } = await runUntilThenKill([file, '--db', db, '--workers', '2'], async () => {
    const store = await openStore(db);
    const training = (await store.workers('ctrlc')).filter((w) => w.holds?.kind === 'trial' && (w.step ?? 0) > 0).length;
    await store.close();
    if (training < 2) return false;
    whileTraining = scratchFolders(tmp).length;
    return true;
  }, { signal: 'SIGINT', env: { ...process.env, TMPDIR: tmp } });
  // The witness that this test can fail: the folders exist while the workers train.
  assert.equal(whileTraining, 2);
  assert.equal(code, 130, stderr);
  assert.match(stderr, /interrupted: run the same command again to resume/);
  assert.deepEqual(scratchFolders(tmp), []);
  const resumed = sgdlab('run', file, '--db', db, '--workers', '2');
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout, /^ctrlc: 2 completed, 0 diverged, 0 failed, 0 left \(0 new trials this run\)/);
});

test('loss-level checkpoints are measured from an artifacts directory and from the store, with the same numbers', async () => {
  const levels = join(dir, 'levels.yaml');
  writeFileSync(levels, levelsStudy('levels', [100]));
  const eigenvalues: Record<string, number[]> = {};
  for (const artifacts of ['dir', 'store'] as const) {
    const db = join(dir, `levels-${artifacts}.db`);
    const run = sgdlab('run', levels, '--db', db, ...(artifacts === 'store' ? ['--artifacts', 'store'] : []));
    assert.equal(run.status, 0, run.stderr);
    const store = await openStore(db);
    const jobs = await store.measurements('levels');
    const trial = (await store.trials('levels'))[0]!;
    await store.close();
    assert.equal(trial.checkpoint === IN_STORE, artifacts === 'store');
    const level = jobs.find((m) => JSON.parse(m.spec).level === 100)!;
    const final = jobs.find((m) => JSON.parse(m.spec).level === undefined)!;
    assert.equal(final.status, 'completed', final.error ?? '');
    assert.equal(level.status, 'completed', level.error ?? '');
    eigenvalues[artifacts] = [(final.result!.eigenvalues as number[])[0]!, (level.result!.eigenvalues as number[])[0]!];
    // The loss-100 checkpoint is the model at the first evaluation (step 8 of 30: 400 examples, batches of 50): not the final one.
    assert.notEqual(eigenvalues[artifacts]![0], eigenvalues[artifacts]![1]);
  }
  // Same seed, same machine: the level checkpoint read back from the store is the one written to the directory.
  assert.deepEqual(eigenvalues.store, eigenvalues.dir);
});
