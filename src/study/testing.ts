/** Test helpers for the study layer: the sgdlab command as a user runs it, and a small MNIST MLP study file. */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import type { StoredTrial } from './store.js';
import type { DataSpec } from '../data/index.js';
import { join } from 'node:path';

/** The repository root (tests run from dist/src/...). */
export const repoRoot = new URL('../../../', import.meta.url).pathname;

/** Runs `sgdlab ARGS…` in a child process, as a user would. */
export const sgdlabCli = (...args: string[]): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, [join(repoRoot, 'bin', 'sgdlab.js'), ...args], { encoding: 'utf8', cwd: repoRoot });

/** A study of a 16-unit MLP on 500 MNIST images (100 for validation), 30 steps a trial; `rest` is appended (grid, measure, …). */
export const smallMlpStudy = (name: string, rest: string, baseExtra = ''): string => `
name: ${name}
base:
  model: { name: mlp, widths: [16] }
  data: { name: mnist, subset: 500, validation: 100 }
  optimizer: { name: sgd, lr: 0.1, momentum: 0.9 }
  batchSize: 50
  budget: { steps: 30 }
${baseExtra}${rest}`;

/** A smallMlpStudy of one seed that saves checkpoints at the training-loss `levels` and measures λ_max (100 examples) of the final one and of each level. */
export const levelsStudy = (name: string, levels: readonly number[]): string => smallMlpStudy(name, `grid:
  seed: [0]
measure:
  trials: best
  what: [hessian]
  subset: 100
  hessian: { topK: 1 }
  levels: { what: [hessian], subset: 100 }
`, `  checkpointAt: { trainLoss: [${levels.join(', ')}] }\n`);

/**
 * A linear regression (4 inputs, 64 training examples) whose Hessian under ½-squared loss is XᵀX/n
 * whatever the weights: the closed form the Hessian measurements' study tests check against.
 */
export const LINEAR_DATA: DataSpec = { name: 'linear-regression', linearRegression: { dim: 4, covariance: [4, 2, 1, 0.5], teacher: [1, -1, 0.5, 2], labelNoise: 0.5 }, trainSize: 64, testSize: 16 };

/** A study file training LINEAR_DATA's model with SGD for 4 steps; `rest` is appended (grid, measure, …). */
export const linearStudy = (name: string, rest: string, baseExtra = ''): string => `name: ${name}
base:
  model: { name: linear-regression }
  data: ${JSON.stringify(LINEAR_DATA)}
  optimizer: { name: sgd, lr: 0.05 }
  budget: { steps: 4 }
${baseExtra}${rest}`;

/** The eigenvalues of XᵀX/n on the first `subset` training examples of LINEAR_DATA (all by default), descending, computed densely. */
export async function linearHessianEigenvalues(subset?: number): Promise<number[]> {
  const { prepareData, disposeSplits } = await import('../data/index.js');
  const splits = prepareData(LINEAR_DATA);
  const X = (splits.train.x.double().toArray() as number[][]).slice(0, subset);
  disposeSplits(splits);
  return symmetricEigenvalues(X[0]!.map((_, a) => X[0]!.map((__, b) => X.reduce((acc, row) => acc + row[a]! * row[b]!, 0) / X.length)));
}

/**
 * Eigenvalues of a small symmetric matrix, descending: cyclic Jacobi rotations in float64, written
 * here so that tests of the Hessian measurements have a reference that shares no code with libtorch.
 */
export function symmetricEigenvalues(matrix: number[][]): number[] {
  const a = matrix.map((r) => [...r]);
  const n = a.length;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (a[p]![q] === 0) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < n; k++) {
          const [akp, akq] = [a[k]![p]!, a[k]![q]!];
          a[k]![p] = c * akp - sn * akq;
          a[k]![q] = sn * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const [apk, aqk] = [a[p]![k]!, a[q]![k]!];
          a[p]![k] = c * apk - sn * aqk;
          a[q]![k] = sn * apk + c * aqk;
        }
      }
    }
  }
  return a.map((r, i) => r[i]!).sort((x, y) => y - x);
}

/**
 * Runs `sgdlab run ARGS…` with its own process group and sends the whole group (runner and workers) `signal`
 * (default SIGKILL; SIGINT is a terminal's Ctrl-C) as soon as `stop()` says so (asked 50 ms after its last
 * answer; a throw means the store is not there yet). Resolves once the runner has exited, with its exit code
 * and error output. One `stop()` at a time, and none after it said yes: a second one in flight (a timer that
 * does not wait for the first) would read the stopped run's state as the live one's; on a loaded machine, where
 * a store query outlasts 50 ms, it could overwrite the Ctrl-C test's count of scratch folders with the count after the signal.
 */
export function runUntilThenKill(args: readonly string[], stop: () => Promise<boolean>, options: { signal?: NodeJS.Signals; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'sgdlab.js'), 'run', ...args], { cwd: repoRoot, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: options.env ?? process.env });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    let ended = false;
    let timer: NodeJS.Timeout | undefined;
    const poll = async () => {
      let yes = false;
      try {
        yes = await stop();
      } catch {
        /* the store is not created yet */
      }
      if (ended) return;
      if (yes) {
        try {
          process.kill(-child.pid!, options.signal ?? 'SIGKILL');
        } catch {
          /* the run ended on its own meanwhile (ESRCH): 'close' follows */
        }
      } else timer = setTimeout(() => void poll(), 50);
    };
    timer = setTimeout(() => void poll(), 50);
    child.on('close', (code) => {
      ended = true;
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** A stored trial of one seed and learning rate at B = 32 (a pruned one stopped at step 10 by ASHA), for results and report tests. */
export const storedTrial = (lr: number, seed: number, status: StoredTrial['status'], accuracy: number): StoredTrial => ({
  study: 's', key: `lr${lr}-s${seed}`, coordinates: { batchSize: 32, 'optimizer.lr': lr, seed },
  config: { batchSize: 32, budget: { steps: 100 }, optimizer: { name: 'sgd', lr } } as StoredTrial['config'],
  status, worker: null, startedAt: null, finishedAt: null, seconds: null, error: null, checkpoint: null, attempt: 1,
  result: { batchSize: 32, steps: status === 'pruned' ? 10 : 100, validation: { accuracy }, test: { accuracy }, train: { loss: 1, examples: 1000 },
    ...(status === 'pruned' ? { pruned: { step: 10, rung: 0, metric: 'validationAccuracy', value: accuracy, rule: 'asha', why: 'asha: …' } } : {}) },
});
