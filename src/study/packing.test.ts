/**
 * Packed trials in a study end to end (`sgdlab run`): with `pack: { when: always }` the trials of each
 * pack are trained together and every one is stored once, with its own attempt, with the results and
 * the sampled metrics of the same study run without packing (float32 tolerance: batched products sum in
 * another order), a diverging learning rate diverged and the others undisturbed; killed mid-study and
 * resumed, the members stored before the kill are not trained again; with `when: faster` the timing
 * that decided is recorded in every result, and the decision follows it; a measured study keeps each
 * member's checkpoint and measures what the unpacked one does. Then the option's errors.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IN_STORE, openStore, parseStudy, type Metric, type StoredTrial } from './index.js';
import { PACK_MARGIN } from './packing.js';
import { runUntilThenKill, sgdlabCli } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'sgdlab-packing-'));
/** Two packs (one per batch size) of three learning rates, the largest diverging. */
const grid = (steps: number, batchSizes = '[25, 100]') => `
name: packs
base:
  model: { name: mlp, widths: [16] }
  data: { name: mnist, subset: 1000, validation: 200 }
  optimizer: { name: sgd, lr: 0.1, momentum: 0.9 }
  budget: { steps: ${steps} }
grid:
  batchSize: ${batchSizes}
  optimizer.lr: [0.01, 0.05, 1000]
`;

interface Stored {
  trials: StoredTrial[];
  metrics: Map<string, Metric[]>;
}

async function stored(db: string): Promise<Stored> {
  const store = await openStore(db);
  const trials = await store.trials('packs');
  const metrics = new Map<string, Metric[]>();
  for (const t of trials) metrics.set(t.key, await store.metrics('packs', t.key));
  await store.close();
  return { trials, metrics };
}

async function run(name: string, yaml: string, workers = '1'): Promise<Stored> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  const r = sgdlabCli('run', file, '--db', join(dir, `${name}.db`), '--workers', workers);
  assert.equal(r.status, 0, r.stderr);
  return stored(join(dir, `${name}.db`));
}

type Result = { train: { loss: number }; test: { loss: number; accuracy: number; examples: number }; validation: { loss: number; accuracy: number; examples: number }; steps: number; packed?: { members: number; measuredSpeedup?: number } };
const result = (t: StoredTrial) => t.result as unknown as Result;
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

/** Trial by trial: the status, steps, losses, accuracies and sampled metrics of `reference` (accuracies within one example of the split). */
function assertSameResults(packed: Stored, reference: Stored): void {
  assert.deepEqual(packed.trials.map((t) => t.key).sort(), reference.trials.map((t) => t.key).sort());
  for (const ref of reference.trials) {
    const t = packed.trials.find((p) => p.key === ref.key)!;
    const [a, b] = [result(t), result(ref)];
    assert.deepEqual([t.status, a.steps], [ref.status, b.steps], t.key);
    close(a.train.loss, b.train.loss, `${t.key} train loss`);
    for (const split of ['test', 'validation'] as const) {
      close(a[split].loss, b[split].loss, `${t.key} ${split} loss`);
      assert.ok(Math.abs(a[split].accuracy - b[split].accuracy) <= 1.01 / b[split].examples, `${t.key} ${split} accuracy ${a[split].accuracy} vs ${b[split].accuracy}`);
    }
    const [ma, mb] = [packed.metrics.get(t.key)!, reference.metrics.get(ref.key)!];
    assert.deepEqual(ma.map((m) => `${m.step} ${m.name}`), mb.map((m) => `${m.step} ${m.name}`), `${t.key}: the same metric rows`);
    ma.forEach((m, i) => (m.name.endsWith('accuracy') ? assert.ok(Math.abs(m.value - mb[i]!.value) <= 0.0051) : close(m.value, mb[i]!.value, `${t.key} ${m.name} at ${m.step}`)));
  }
}

test('packed trials are stored one by one, each once with its own attempt, with the numbers of the study run without packing', async () => {
  const reference = await run('reference', grid(30));
  const packed = await run('packed', `${grid(30)}pack: { when: always }\n`);
  assert.deepEqual(reference.trials.map((t) => t.status).sort(), ['completed', 'completed', 'completed', 'completed', 'diverged', 'diverged']);
  assertSameResults(packed, reference);
  // One worker: each batch size's three learning rates were one pack, each member claimed once.
  assert.deepEqual(packed.trials.map((t) => [t.attempt, result(t).packed?.members]), packed.trials.map(() => [1, 3]));
  assert.deepEqual(reference.trials.map((t) => result(t).packed), reference.trials.map(() => undefined), 'without `pack` nothing is packed');
  // Packs of at most 2: per batch size a pair, then the third trial alone (its partners taken).
  const pairs = await run('pairs', `${grid(30)}pack: { when: always, maxMembers: 2 }\n`);
  assertSameResults(pairs, reference);
  assert.deepEqual(pairs.trials.map((t) => result(t).packed?.members), [2, 2, 1, 2, 2, 1]);
});

test('with when: faster the timing that decided is recorded in every result, and trials are packed exactly when it found packing faster', async () => {
  const reference = await run('reference-faster', grid(30));
  const faster = await run('faster', `${grid(30)}pack: { when: faster, maxMembers: 3 }\n`);
  assertSameResults(faster, reference);
  for (const t of faster.trials) {
    const p = result(t).packed!;
    assert.ok(Number.isFinite(p.measuredSpeedup) && p.measuredSpeedup! > 0, `${t.key}: measured speed-up ${p.measuredSpeedup}`);
    assert.equal(p.members, p.measuredSpeedup! > PACK_MARGIN ? 3 : 1, `${t.key}: packed as measured (${p.measuredSpeedup})`);
  }
});

test('two workers killed with SIGKILL mid-study, then resumed: members stored before the kill are not trained again, and every trial ends with the unpacked numbers', async () => {
  const yaml = `${grid(120, '[25, 50, 100]')}pack: { when: always }\n`;
  const reference = await run('kill-reference', grid(120, '[25, 50, 100]'));
  const file = join(dir, 'killed.yaml');
  const db = join(dir, 'killed.db');
  writeFileSync(file, yaml);
  await runUntilThenKill([file, '--db', db, '--workers', '2'], async () => {
    const { trials } = await stored(db);
    return trials.filter((t) => t.status !== 'pending' && t.status !== 'running').length >= 3;
  });
  await new Promise((r) => setTimeout(r, 200));
  const before = (await stored(db)).trials;
  const done = before.filter((t) => t.status === 'completed' || t.status === 'diverged');
  assert.ok(done.length >= 3 && done.length < before.length, `the kill should have come between packs (${done.length} of ${before.length} stored)`);
  const r = sgdlabCli('run', file, '--db', db, '--workers', '2');
  assert.equal(r.status, 0, r.stderr);
  const after = await stored(db);
  assertSameResults(after, reference);
  for (const t of done) {
    const again = after.trials.find((a) => a.key === t.key)!;
    assert.deepEqual([again.attempt, again.finishedAt, again.worker], [t.attempt, t.finishedAt, t.worker], `${t.key} stored before the kill stays as it was`);
  }
});

test("a packed study that measures its trials keeps each member's checkpoint in the store, and measures the λ_max of the unpacked study's", async () => {
  const measured = (name: string, pack: string) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, `${grid(30, '[50]').replace('1000]', '0.1]')}measure: { trials: all, what: [hessian], subset: 100 }\n${pack}`);
    const r = sgdlabCli('run', file, '--db', join(dir, `${name}.db`), '--workers', '1', '--artifacts', 'store');
    assert.equal(r.status, 0, r.stderr);
    return openStore(join(dir, `${name}.db`));
  };
  const [packed, reference] = [await measured('measured-packed', 'pack: { when: always }\n'), await measured('measured-reference', '')];
  const lambdas = async (store: Awaited<ReturnType<typeof openStore>>) => new Map((await store.measurements('packs')).map((m) => [m.key, (m.result as { eigenvalues: number[] }).eigenvalues[0]!]));
  const [a, b] = [await lambdas(packed), await lambdas(reference)];
  assert.equal(a.size, 3);
  for (const [key, value] of b) close(a.get(key)!, value, `${key} λ_max`);
  for (const t of await packed.trials('packs')) {
    assert.deepEqual([t.checkpoint, result(t).packed?.members], [IN_STORE, 3]);
    assert.deepEqual((await packed.artifactSizes('packs', t.key))?.map((f) => f.name), (await reference.artifactSizes('packs', t.key))?.map((f) => f.name));
  }
  await packed.close();
  await reference.close();
});

test('the pack option: bad values are named with what is allowed', () => {
  assert.throws(() => parseStudy({ name: 'x', base: {}, pack: { when: 'sometimes', maxMembers: 1 } }), (e: Error) => {
    assert.match(e.message, /pack\.when: .*"faster"\|"always"\|"never".*sometimes/);
    assert.match(e.message, /pack\.maxMembers: .*>=2.*got 1/);
    return true;
  });
  assert.throws(() => parseStudy({ name: 'x', base: {}, pack: { members: 4 } }), /pack: .*members/);
  assert.deepEqual(parseStudy({ name: 'x', base: {}, pack: {} }).pack, { maxMembers: 8, when: 'faster' });
});
