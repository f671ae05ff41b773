/**
 * Stored records: a store written by the previous release (fixtures/, see its README) opens and every
 * record reads, unchanged, through the store; a malformed record is refused with an error naming the
 * study, the trial, the field and its value; the versioned parser migrates old records and refuses
 * newer ones; a result is stored as JSON keeps it (non-finite numbers become null).
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { openStore } from './store-factory.js';
import { measurementValues } from './results.js';
import { RecordError, isMeasurementOf, parseTrialResult, storedTrialResult, versionedParser } from './records.js';

/** The store `sgdlab run --builtin keskar --size smoke` wrote at commit cf8a17a (the release before records.ts). */
const FIXTURE = fileURLToPath(new URL('../../../src/study/fixtures/keskar-smoke-cf8a17a.db', import.meta.url));

/** A copy of the fixture to open (opening a store may migrate it). */
function fixtureCopy(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sgdlab-records-')), 'keskar-smoke.db');
  copyFileSync(FIXTURE, path);
  return path;
}

/** The fixture's rows read with SQLite alone, not through the store: the independent account of what is stored. */
function rawRows(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    const trials = db.prepare('SELECT key, status, result FROM trials ORDER BY rowid').all() as { key: string; status: string; result: string | null }[];
    const measurements = db.prepare('SELECT key, kind, spec, result FROM measurement_jobs ORDER BY rowid').all() as { key: string; kind: string; spec: string; result: string | null }[];
    return { trials, measurements };
  } finally {
    db.close();
  }
}

test("the previous release's store opens and every record reads as stored", async () => {
  const path = fixtureCopy();
  const raw = rawRows(path);
  const store = await openStore(path);
  try {
    assert.deepEqual((await store.listStudies()).map((s) => [s.name, s.counts.completed, s.measurements.completed]), [['keskar', 3, 22]]);
    const trials = await store.trials('keskar');
    assert.equal(trials.length, raw.trials.length);
    for (const [i, t] of trials.entries()) {
      assert.equal(t.key, raw.trials[i]!.key);
      // Nothing lost or reordered: the record is the stored JSON itself.
      assert.equal(JSON.stringify(t.result), raw.trials[i]!.result);
    }
    // Values as the previous release logged them (keskar-smoke's run.log: "trial 664bd127bc9d4337 completed … test accuracy 72.39%").
    const first = trials.find((t) => t.key === '664bd127bc9d4337')!;
    assert.equal(first.result?.test?.accuracy, 0.7239);
    assert.equal(first.result?.batchSize, 16);
    assert.deepEqual(first.result?.lossLevels?.map((l) => l.level), [2.2, 1.8]);

    const measurements = await store.measurements('keskar');
    assert.equal(measurements.length, 22);
    assert.deepEqual([...new Set(measurements.map((m) => m.kind))].sort(), ['hessian', 'interpolate', 'noise', 'sharpness']);
    for (const [i, m] of measurements.entries()) {
      assert.deepEqual([m.key, m.kind, m.spec], [raw.measurements[i]!.key, raw.measurements[i]!.kind, raw.measurements[i]!.spec]);
      assert.equal(JSON.stringify(m.result), raw.measurements[i]!.result);
      const stored = JSON.parse(raw.measurements[i]!.result!);
      // The typed readers see the stored numbers.
      if (isMeasurementOf(m, 'hessian')) assert.equal(measurementValues(m).lambdaMax, stored.eigenvalues[0]);
      if (isMeasurementOf(m, 'noise')) assert.equal(m.result?.varianceByBatchSize?.length, stored.varianceByBatchSize.length);
      if (isMeasurementOf(m, 'interpolate')) assert.equal(m.result?.points?.[0]?.train.loss, stored.points[0].train.loss);
    }
  } finally {
    await store.close();
  }
});

test('a malformed stored record is refused with the study, the trial, the field and the value', async () => {
  const path = fixtureCopy();
  const db = new Database(path);
  db.prepare("UPDATE trials SET result = json_set(result, '$.test.loss', 'high') WHERE key = '664bd127bc9d4337'").run();
  db.prepare("UPDATE measurement_jobs SET result = json_set(result, '$.eigenvalues', json('[\"x\"]')) WHERE key = '17d2e25891537e16' AND kind = 'hessian' AND spec NOT LIKE '%level%'").run();
  db.prepare("UPDATE trials SET result = '{\"steps\": 1' WHERE key = '583d91b8c6c90839'").run();
  db.close();
  const store = await openStore(path);
  try {
    await assert.rejects(store.trial('keskar', '664bd127bc9d4337'), (e: Error) => {
      assert.ok(e instanceof RecordError);
      assert.match(e.message, /^study 'keskar', trial 664bd127bc9d4337: the stored result cannot be read:\n {2}- test\.loss: .*\(got "high"\)$/);
      return true;
    });
    // The other trials still read (run.log: "interpolate of trial 17d2e25891537e16 completed (batchSize=60 seed=0)").
    assert.equal((await store.trial('keskar', '17d2e25891537e16'))?.result?.batchSize, 60);
    await assert.rejects(store.trial('keskar', '583d91b8c6c90839'), /^RecordError: study 'keskar', trial 583d91b8c6c90839: the stored result cannot be read:\n {2}- \(top level\): not JSON \(.*\): "\{\\"steps\\": 1"$/);
    await assert.rejects(store.measurements('keskar', '17d2e25891537e16'), /^RecordError: study 'keskar', trial 17d2e25891537e16: the stored hessian measurement \{"method":"lanczos".*\} cannot be read:\n {2}- eigenvalues\.0: .*\(got "x"\)$/);
  } finally {
    await store.close();
  }
});

test('the versioned parser migrates older records, reads current ones as stored, and refuses newer ones', () => {
  // A made-up history: version 1 called the accuracy `acc`; version 2 calls it `accuracy`.
  const parse = versionedParser(z.looseObject({ accuracy: z.number(), recordVersion: z.literal(2) }), [({ acc, ...rest }) => ({ ...rest, accuracy: acc })]);
  const place = { study: 's', key: 'k', what: 'result' };
  assert.deepEqual(parse({ acc: 0.5, kept: 'x' }, place), { kept: 'x', accuracy: 0.5, recordVersion: 2 });
  const current = { recordVersion: 2, accuracy: 0.75 };
  assert.equal(parse(current, place), current, 'a current record is the stored object itself');
  assert.throws(() => parse({ recordVersion: 3, accuracy: 1 }, place), /recordVersion: 3 was written by a newer sgdlab; this one reads versions up to 2/);
  assert.throws(() => parse({ recordVersion: 'two' }, place), /recordVersion: expected a whole number from 1 \(got "two"\)/);
  assert.throws(() => parse([1, 2], place), /\(top level\): expected a JSON object \(got \[1,2\]\)/);
  // This release's results are version 1: a record that says 2 comes from a newer release.
  assert.throws(() => parseTrialResult({ recordVersion: 2 }, place), /written by a newer sgdlab; this one reads versions up to 1/);
});

test('a result is checked as the store keeps it: NaN and Infinity become null, like JSON', () => {
  const stored = storedTrialResult({ status: 'diverged', train: { loss: NaN, accuracy: 0.1, examples: 10 }, distanceFromInitial: Infinity, extra: { kept: true } }, 's', 'k');
  assert.deepEqual(stored, { status: 'diverged', train: { loss: null, accuracy: 0.1, examples: 10 }, distanceFromInitial: null, extra: { kept: true } });
  assert.throws(() => storedTrialResult({ steps: 'ten' }, 's', 'k'), /^RecordError: study 's', trial k: the stored result cannot be read:\n {2}- steps: .*\(got "ten"\)$/);
});

test("a stopAt run's end is read typed: what stopped it, and the plateau rule's checks and best; an unknown reason is refused", () => {
  const place = { study: 's', key: 'k', what: 'result' };
  const check = { step: 22, epoch: 2, loss: 0.15 };
  const stored = { status: 'completed', steps: 55, stoppedBy: 'plateau', stopped: 'the epoch mean training loss did not improve…',
    plateau: { on: 'epoch', checks: [{ step: 11, epoch: 1, loss: 0.8 }, check, { step: 33, epoch: 3, loss: 0.2 }], best: check, sinceBest: 1, epochsDone: 3, lossSum: 0, examples: 0 } };
  const result = parseTrialResult(stored, place);
  assert.equal(result.stoppedBy, 'plateau');
  assert.deepEqual(result.plateau?.best, check);
  assert.equal(result.plateau?.checks.length, 3);
  assert.throws(() => parseTrialResult({ ...stored, stoppedBy: 'tired' }, place), /stoppedBy: .*"budget"\|"trainLoss"\|"plateau".* \(got "tired"\)/);
  assert.throws(() => parseTrialResult({ ...stored, plateau: { ...stored.plateau, on: 'val_loss' } }, place), /plateau\.on: .* \(got "val_loss"\)/);
});
