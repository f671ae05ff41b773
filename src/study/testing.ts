/** Test helpers for the study layer: the sgdlab command as a user runs it, and a small MNIST MLP study file. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
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
