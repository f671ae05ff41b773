/** `sgdlab measure` as a user runs it: the JSON interface and its errors. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;
const sgdlab = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin', 'sgdlab.js'), ...args], { encoding: 'utf8', cwd: root });
const dir = mkdtempSync(join(tmpdir(), 'sgdlab-measure-'));
const a = join(dir, 'a');
const b = join(dir, 'b');

before(() => {
  for (const [path, seed] of [[a, '0'], [b, '1']] as const) {
    const r = sgdlab('train', '--model', 'mlp', '--widths', '32', '--batch-norm', '--subset', '2000', '--batch-size', '100', '--steps', '30', '--seed', seed, '--save', path);
    assert.equal(r.status, 0, r.stderr);
  }
});

test('measure hessian --top-k 2 --json gives eigenvalues and the Hessian-vector products used', () => {
  const r = sgdlab('measure', 'hessian', '--checkpoint', a, '--top-k', '2', '--subset', '500', '--trace-probes', '5', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.eigenvalues.length, 2);
  assert.ok(out.eigenvalues[0] >= out.eigenvalues[1] && out.eigenvalues[0] > 0);
  assert.ok(out.hvps >= 30 + 5);
  assert.equal(out.examples, 500);
  assert.equal(typeof out.trace, 'number');
});

test('measure sharpness --epsilon 1e-3 [--subspace 10] --json gives phi, iterations and what the optimizer did', () => {
  for (const extra of [[], ['--subspace', '10']]) {
    const r = sgdlab('measure', 'sharpness', '--checkpoint', a, '--epsilon', '1e-3', '--subset', '500', '--json', ...extra);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.ok(out.phi > 0);
    assert.ok(out.iterations >= 1);
    assert.equal(out.starts.length, 3);
    assert.equal(typeof out.starts[0].moved, 'boolean');
    assert.equal(out.space, extra.length ? 'random-subspace' : 'full');
  }
});

test('measure sharpness --solver lbfgsb runs the paper\'s L-BFGS-B and reports its own stopping message and the first-order part', () => {
  const r = sgdlab('measure', 'sharpness', '--checkpoint', a, '--epsilon', '1e-3', '--subset', '500', '--solver', 'lbfgsb', '--random-starts', '0', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.solver, 'lbfgsb');
  assert.ok(out.phi > 0 && out.firstOrder > 0);
  assert.match(out.starts[0].reason, /^(STOP: TOTAL NO\. of ITERATIONS REACHED LIMIT|CONVERGENCE: .*|ABNORMAL_TERMINATION_IN_LNSRCH)$/);
  const text = sgdlab('measure', 'sharpness', '--checkpoint', a, '--subset', '200', '--solver', 'lbfgsb', '--random-starts', '0', '--max-iter', '2');
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /\(L-BFGS-B, [\d.]+ s\); first-order part [\d.e+-]+\n  start zero: .*2 iterations.*\(STOP: TOTAL NO\. of ITERATIONS REACHED LIMIT\)/);
});

test('measure noise --json gives gradNormSq, traceSigma, bSimple and the variance for every b', () => {
  const r = sgdlab('measure', 'noise', '--checkpoint', a, '--subset', '256', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  for (const k of ['gradNormSq', 'traceSigma', 'bSimple']) assert.equal(typeof out[k], 'number');
  assert.deepEqual(out.varianceByBatchSize.map((v: { b: number }) => v.b), [1, 2, 4, 8, 16, 32, 64, 128, 256]);
  const last = out.varianceByBatchSize.at(-1);
  assert.ok(Math.abs(last.withoutReplacement) < 1e-9, 'without replacement, b = N has no variance');
});

test('measure interpolate gives loss along the path between two checkpoints', () => {
  const r = sgdlab('measure', 'interpolate', '--checkpoint', a, '--other', b, '--points', '5', '--subset', '300', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.points.map((p: { alpha: number }) => p.alpha), [-1, -0.25, 0.5, 1.25, 2]);
  assert.ok(out.distance > 0);
  // The trainer saved each run's initial weights: distances from initialization are reported.
  assert.ok(out.distanceFromInitial.a > 0 && out.distanceFromInitial.b > 0);
});

test('errors: a missing checkpoint, a checkpoint that does not match its spec, parameters out of range', () => {
  const cases: [string[], RegExp][] = [
    [['measure', 'hessian', '--checkpoint', join(dir, 'nope')], /checkpoint .*nope: no sidecar .*model\.json/],
    [['measure', 'sharpness', '--checkpoint', a, '--epsilon', '-1'], /--epsilon: '-1' must be a positive number/],
    [['measure', 'sharpness', '--checkpoint', a, '--solver', 'bfgs'], /--solver: 'bfgs' must be one of lbfgsb, projected/],
    [['measure', 'hessian', '--checkpoint', a, '--top-k', '0'], /--top-k: '0' must be a positive integer/],
    [['measure', 'hessian', '--checkpoint', a, '--method', 'qr'], /--method: 'qr' must be lanczos or power/],
    [['measure', 'noise', '--checkpoint', a, '--subset', '70000'], /--subset: 70000 exceeds the 2000 examples of the train split/],
    [['measure', 'hessian'], /required option '--checkpoint <path>' not specified/],
    [['measure', 'curvature', '--checkpoint', a], /unknown command 'curvature'/],
  ];
  for (const [args, pattern] of cases) {
    const r = sgdlab(...args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, pattern, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${args.join(' ')}: stack trace`);
  }
  const sidecar = join(a, 'model.json');
  writeFileSync(sidecar, readFileSync(sidecar, 'utf8').replace('"widths": [\n      32\n    ]', '"widths": [\n      64\n    ]'));
  const r = sgdlab('measure', 'hessian', '--checkpoint', a);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the weights do not match the model spec .*'1\.weight' has shape \[32, 784\] but the model expects \[64, 784\]/);
});
