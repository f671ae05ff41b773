/**
 * Every example in examples/ runs, at its CI size (--quick), as a user runs it (a child process of the
 * compiled script), and prints real values: checked against closed forms (the Hessian of logistic
 * regression is positive definite with eigenvalues ≥ λ), a second method (λ_max by power iteration
 * against Lanczos), a second reader (the store read back by read-store against the study's own table),
 * and the grid the study was given. The examples are found by listing the folder, so a new one without
 * a check here fails the first test.
 */
// Not marked every-node: the native layer's own tests cover each Node release; these run on the machine's
// Node and the newest tested one (CI), as every unmarked file does.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
// The examples' temporary files (checkpoints, the default store) go here (TMPDIR), removed at the end.
const scratch = mkdtempSync(join(tmpdir(), 'sgdlab-examples-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Run { status: number | null; stdout: string; stderr: string }

/** node ARGS in the repository root, with TMPDIR pointing into the scratch folder. */
function node(args: string[]): Run {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, TMPDIR: scratch }, timeout: 240_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const example = (name: string, args: string[]): Run => node([join(root, 'dist', 'examples', `${name}.js`), ...args]);
const succeeded = (r: Run, name: string): string => {
  assert.equal(r.status, 0, `${name} exited with ${r.status}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
};

/** The number after `label` in the output (label is a literal prefix). */
function numberAfter(output: string, label: string): number {
  const at = output.indexOf(label);
  assert.ok(at >= 0, `'${label}' is not in the output:\n${output}`);
  const match = /^\s*([-+]?[\d.]+(?:e[-+]?\d+)?)/i.exec(output.slice(at + label.length));
  assert.ok(match, `no number after '${label}' in:\n${output}`);
  return Number(match[1]);
}

/** The body rows of the Markdown table that follows `title`, as cells. */
function tableAfter(output: string, title: string): string[][] {
  const lines = output.slice(output.indexOf(title)).split('\n').slice(1);
  assert.ok(output.includes(title) && lines[0]?.startsWith('|'), `no table after '${title}' in:\n${output}`);
  const end = lines.findIndex((l) => !l.startsWith('|'));
  const rows = (end < 0 ? lines : lines.slice(0, end)).map((l) => l.slice(1, -1).split('|').map((c) => c.trim()));
  return rows.slice(2); // after the header and its separator
}
const percent = (cell: string): number => {
  assert.match(cell, /^\d+\.\d%$/);
  return Number(cell.slice(0, -1)) / 100;
};

// The quick study's grid (study-from-code.ts) and store, shared by its test and read-store's.
const QUICK_BATCH_SIZES = ['32', '256'];
const QUICK_LEARNING_RATES = ['0.03', '0.3'];
const db = join(scratch, 'study', 'study.db');
let studyRun: Run | undefined;
const runStudyExample = (): string => succeeded((studyRun ??= example('study-from-code', ['--quick', '--db', db])), 'study-from-code');

const checks: Record<string, () => void> = {
  'hessian-vector-product': () => {
    // Through the launcher of `npm run example -- NAME`, as the README says to run it.
    const out = succeeded(node(['scripts/example.mjs', 'hessian-vector-product', '--quick']), 'hessian-vector-product');
    assert.ok(numberAfter(out, 'max |H·v (autograd) − H·v (closed form)| =') < 1e-5, out);
    assert.ok(numberAfter(out, 'products − H (closed form)| =') < 1e-5, out);
    // f is λ-strongly convex with λ = 0.01: H's eigenvalues are at least λ, and λ_max ≥ λ_min.
    const lambdaMin = numberAfter(out, 'λ_min =');
    assert.ok(lambdaMin >= 0.01 - 1e-12, out);
    assert.ok(numberAfter(out, 'λ_max =') >= lambdaMin, out);
    assert.equal(numberAfter(out, 'live tensors:'), numberAfter(out, 'before,'), 'tidy freed every tensor it made');
  },

  'train-and-measure': () => {
    const out = succeeded(example('train-and-measure', ['--quick']), 'train-and-measure');
    assert.ok(numberAfter(out, 'test accuracy') > 50, `a 784-32-10 MLP after one epoch on 1,000 MNIST examples beats chance (10%) by far:\n${out}`);
    const checkpoint = /^checkpoint (.+)$/m.exec(out)?.[1];
    assert.ok(checkpoint?.startsWith(scratch) && existsSync(checkpoint), `the checkpoint (${checkpoint}) was written`);
    const lanczos = numberAfter(out, 'λ_max (Lanczos) =');
    const power = numberAfter(out, 'λ_max (power) =');
    assert.ok(lanczos > 0, out);
    assert.ok(Math.abs(lanczos - power) <= 0.01 * lanczos, `power iteration ${power} within 1% of Lanczos ${lanczos}`);
    const phi = numberAfter(out, 'φ(ε=1e-3) =');
    assert.ok(phi >= 0 && Number.isFinite(phi), out);
    assert.ok(numberAfter(out, 'first-order part') >= 0, out);
  },

  'study-from-code': () => {
    const out = runStudyExample();
    assert.match(out, /: 4 completed, 0 diverged, 0 failed \(4 new trials this run\); measurements: 2 completed, 0 failed/);
    const grid = tableAfter(out, 'validation accuracy, batch size × learning rate');
    const best = tableAfter(out, 'best learning rate per batch size');
    assert.deepEqual(grid.map((r) => r[0]), QUICK_BATCH_SIZES);
    assert.deepEqual(best.map((r) => r[0]), QUICK_BATCH_SIZES);
    for (const [i, row] of best.entries()) {
      // The library's selection against the grid printed from the raw trials: the best validation accuracy of the row.
      const accuracies = grid[i]!.slice(1).map(percent);
      assert.equal(row[1], QUICK_LEARNING_RATES[accuracies.indexOf(Math.max(...accuracies))], `best lr of B = ${row[0]}`);
      assert.equal(percent(row[2]!), Math.max(...accuracies));
      assert.ok(Number(row[5]) > 0, `λ_max of B = ${row[0]} was measured: ${row[5]}`);
    }
  },

  'read-store': () => {
    const study = runStudyExample();
    const out = succeeded(example('read-store', [db]), 'read-store');
    const studies = tableAfter(out, 'studies in ');
    assert.deepEqual(studies.map((r) => r.slice(0, 1).concat(r.slice(2))), [['lr-by-batch-size-quick', '4', '0', '0', '0', '2']]);
    const trials = tableAfter(out, 'lr-by-batch-size-quick: trials');
    assert.equal(trials.length, 4);
    assert.ok(trials.every((t) => t[2] === 'completed'));
    // The measurements read back are the λ_max values the study example printed from the same store.
    const measured = tableAfter(out, 'lr-by-batch-size-quick: measurements');
    const best = tableAfter(study, 'best learning rate per batch size');
    assert.deepEqual(measured.map((m) => [m[1], m[2], m[4]]), best.map((b) => [`batchSize=${b[0]} optimizer.lr=${b[1]}`, 'hessian', `lambdaMax = ${b[5]}`]));
    assert.match(out, /metric rows of trial [0-9a-f]{12}; the last of each: loss = /);
    // A store that is not there: a clear error, and no empty store created.
    const missing = join(scratch, 'no-such.db');
    const refused = example('read-store', [missing]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, new RegExp(`no store at ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.ok(!existsSync(missing));
  },
};

test('every example in examples/ has a check here, a header saying how to run it and how long it takes, and imports sgdlab as a user does', () => {
  const entries = Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string> }).exports).map((e) => `sgdlab${e.slice(1)}`);
  const names = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => f.slice(0, -3)).sort();
  assert.deepEqual(names, Object.keys(checks).sort());
  for (const name of names) {
    const head = readFileSync(join(root, 'examples', `${name}.ts`), 'utf8').slice(0, 3000);
    assert.ok(head.startsWith('/**'), `${name}.ts starts with its header comment`);
    assert.ok(head.includes(`npm run example -- ${name}`) && head.includes(`node dist/examples/${name}.js`), `${name}.ts's header says how to run it`);
    assert.match(head, /Measured runtime \([^)]*\): [\d.]+(–[\d.]+)? s/, `${name}.ts's header gives its measured runtime`);
    // Node's own modules and the package's public entry points (package.json "exports"), never a path into src/ or dist/.
    const imported = [...readFileSync(join(root, 'examples', `${name}.ts`), 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]!);
    assert.ok(imported.some((m) => m.startsWith('sgdlab')), `${name}.ts imports sgdlab`);
    for (const m of imported) assert.ok(m.startsWith('node:') || entries.includes(m), `${name}.ts imports '${m}', not node:… nor one of ${entries.join(', ')}`);
  }
});

test('the launcher names the examples when it is given an unknown one', () => {
  const r = node(['scripts/example.mjs', 'no-such-example']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no example 'no-such-example'/);
  for (const name of Object.keys(checks)) assert.ok(r.stderr.includes(name), `${name} is listed:\n${r.stderr}`);
});

for (const [name, check] of Object.entries(checks)) test(`example ${name} runs at its CI size and prints real values`, check);
