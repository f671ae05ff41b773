/** What the runner says when it cannot do what it was asked: a memory limit it cannot enforce is said once, not silently dropped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStudy, runStudy } from './index.js';

test('without /proc the memory limit is not enforced, and the run says so once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-warnings-'));
  const study = parseStudy({
    name: 'no-proc',
    base: { model: { name: 'linear-regression' }, data: { name: 'linear-regression', trainSize: 200, testSize: 50, linearRegression: { dim: 3 } }, optimizer: { name: 'sgd', lr: 0.05 }, batchSize: 10, budget: { steps: 400 } },
    grid: { seed: [0, 1, 2] },
  });
  const said: string[] = [];
  const summary = await runStudy(study, { db: join(dir, 's.db'), workers: 1, maxMemoryMb: 1000, procRoot: join(dir, 'no-proc-here'), onWarning: (w) => said.push(w) });
  assert.equal(summary.counts.completed, 3);
  assert.deepEqual(said, ["--max-memory-mb 1000 is not enforced: this system has no /proc to read the workers' resident memory from"]);
  assert.deepEqual(summary.warnings, said);
});
