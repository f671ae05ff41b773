/** `sgdlab measure` as a user runs it: the JSON interface and its errors. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sgdlabCli } from '../study/testing.js';
import * as T from '../tensor/index.js';
import { disposeSplits, prepareData } from '../data/index.js';
import { inEvaluationMode, loadSafetensors } from '../nn/index.js';
import { loadCheckpoint } from '../train/index.js';
import { Objective, hessianTrace, perExampleGradients, topEigenvalues } from '../measure/index.js';

const sgdlab = sgdlabCli;
const dir = mkdtempSync(join(tmpdir(), 'sgdlab-measure-'));
const a = join(dir, 'a');
const b = join(dir, 'b');

before(() => {
  for (const [path, seed] of [[a, '0'], [b, '1']] as const) {
    const r = sgdlab('train', '--model', 'mlp', '--widths', '32', '--batch-norm', '--subset', '2000', '--batch-size', '100', '--steps', '30', '--seed', seed, '--save', path);
    assert.equal(r.status, 0, r.stderr);
  }
});

/** The checkpoint and its first n training examples, in this process, for the independent references. */
function reference(path: string, n: number) {
  const { model, sidecar } = loadCheckpoint(path);
  const splits = prepareData(sidecar.config.data);
  const x = T.keep(splits.train.x.narrow(0, 0, n).clone());
  const y = T.keep(splits.train.y.narrow(0, 0, n).clone());
  disposeSplits(splits);
  return { model, x, y, dispose: () => { model.dispose(); T.dispose([x, y]); } };
}

test('measure hessian --json: λ₁ agrees with power iteration (a second method), the trace with a 200-probe Hutchinson estimate', () => {
  const r = sgdlab('measure', 'hessian', '--checkpoint', a, '--top-k', '2', '--subset', '500', '--trace-probes', '5', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.eigenvalues.length, 2);
  assert.ok(out.eigenvalues[0] >= out.eigenvalues[1]);
  assert.equal(out.examples, 500);
  assert.equal(out.hvps, 30 + 2 + 5, 'Lanczos steps, one residual per eigenvalue, the trace probes');
  const ref = reference(a, 500);
  const objective = new Objective(ref.model, ref.x, ref.y, 'cross-entropy');
  const power = topEigenvalues(objective, { method: 'power', maxIter: 300, tol: 1e-6, seed: 4 });
  assert.ok(Math.abs(out.eigenvalues[0] - power.eigenvalues[0]!) < 1e-3 * power.eigenvalues[0]!, `λ₁ ${out.eigenvalues[0]} vs power iteration ${power.eigenvalues[0]}`);
  assert.ok(out.residuals[0] < 1e-2 * out.eigenvalues[0], `residual ${out.residuals[0]}`);
  const trace = hessianTrace(objective, { probes: 200, seed: 7 });
  const se = Math.hypot(out.traceStandardError, trace.standardError);
  assert.ok(Number.isFinite(out.trace) && Math.abs(out.trace - trace.trace) < 4 * se, `trace ${out.trace} ± ${out.traceStandardError} vs ${trace.trace} ± ${trace.standardError}`);
  ref.dispose();
});

test('measure hessian --batch-norm batch: λ₁ of the objective with batch statistics (power iteration in this process), recorded and labelled; it differs from the running-statistics λ₁', () => {
  const r = sgdlab('measure', 'hessian', '--checkpoint', a, '--subset', '300', '--batch-norm', 'batch', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.objective, { batchNorm: 'batch', batchNormBatch: 'all', probabilityClip: null });
  const ref = reference(a, 300);
  const lambda = (batchNorm: 'batch' | 'running') => topEigenvalues(new Objective(ref.model, ref.x, ref.y, 'cross-entropy', { batchNorm }), { method: 'power', maxIter: 300, tol: 1e-6, seed: 4 }).eigenvalues[0]!;
  const batch = lambda('batch');
  assert.ok(Math.abs(out.eigenvalues[0] - batch) < 1e-3 * batch, `λ₁ ${out.eigenvalues[0]} vs power iteration ${batch}`);
  const running = lambda('running');
  assert.ok(Math.abs(running - batch) > 1e-2 * batch, `running ${running} vs batch ${batch}: the conventions should differ on a batch-norm network`);
  ref.dispose();
  const text = sgdlab('measure', 'hessian', '--checkpoint', a, '--subset', '300', '--batch-norm', 'batch', '--batch-norm-batch', '100', '--probability-clip', '1e-7');
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /objective: batch norm by the statistics of the evaluated examples \(in chunks of 100\); probabilities clipped to \[1e-7, 1 − 1e-7\]/);
});

test('measure sharpness records the objective and the subspace distribution', () => {
  const r = sgdlab('measure', 'sharpness', '--checkpoint', a, '--subset', '200', '--batch-norm', 'batch', '--subspace', '5', '--subspace-distribution', 'uniform', '--random-starts', '0', '--max-iter', '2', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual([out.objective, out.subspaceDistribution, out.space], [{ batchNorm: 'batch', batchNormBatch: 'all', probabilityClip: null }, 'uniform', 'random-subspace']);
});

test('measure sharpness --json: φ = (max f − f)/(1 + f)·100 of what it reports, and beats every one of 20 random corners of the box', () => {
  const ref = reference(a, 500);
  const objective = new Objective(ref.model, ref.x, ref.y, 'cross-entropy');
  const params = ref.model.parameters();
  const x0 = params.map((q) => T.keep(q.detach().clone()));
  const f0 = objective.value();
  // Corners x + y, y_i = ±ε(|x_i| + 1): the box of the full space (A = I).
  const g = new T.Generator(3);
  const corners = Array.from({ length: 20 }, () => {
    T.noGrad(() => params.forEach((q, i) => T.tidy(() => q.copy_(x0[i]!.add(T.rand(q.shape, { generator: g }).lt(0.5).to('float32').mul(2).sub(1).mul(x0[i]!.abs().add(1).mul(1e-3)))))));
    return ((objective.value() - f0) / (1 + f0)) * 100;
  });
  T.noGrad(() => T.listCopy_(params, x0));
  T.dispose(x0);
  for (const extra of [[], ['--subspace', '10']]) {
    const r = sgdlab('measure', 'sharpness', '--checkpoint', a, '--epsilon', '1e-3', '--subset', '500', '--json', ...extra);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.ok(Math.abs(out.loss - f0) < 1e-5 * f0, `f(x) ${out.loss} vs ${f0}`);
    assert.ok(Math.abs(out.phi - ((out.maxLoss - out.loss) / (1 + out.loss)) * 100) < 1e-9 * Math.max(1, out.phi));
    assert.ok(out.iterations >= 1);
    assert.equal(out.starts.length, 3);
    assert.ok(out.starts.every((s: { moved: boolean }) => s.moved), 'every start moved');
    assert.equal(out.space, extra.length ? 'random-subspace' : 'full');
    if (extra.length === 0) assert.ok(out.phi >= Math.max(...corners), `φ ${out.phi} below a random corner's ${Math.max(...corners)}`);
  }
  ref.dispose();
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

test('measure noise --json: ‖G‖² and tr Σ equal those of per-example gradients computed one backward pass at a time', () => {
  const r = sgdlab('measure', 'noise', '--checkpoint', a, '--subset', '256', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const ref = reference(a, 256);
  const [gradNormSq, traceSigma] = T.tidy(() => {
    const per = perExampleGradients(ref.model, ref.x, ref.y, 'cross-entropy').double();
    const mean = per.mean(0);
    return [mean.square().sum().item(), per.sub(mean).square().sum(1).mean().item()];
  });
  ref.dispose();
  assert.ok(Math.abs(out.gradNormSq - gradNormSq) < 1e-4 * gradNormSq, `‖G‖² ${out.gradNormSq} vs ${gradNormSq}`);
  assert.ok(Math.abs(out.traceSigma - traceSigma) < 1e-4 * traceSigma, `tr Σ ${out.traceSigma} vs ${traceSigma}`);
  assert.ok(Math.abs(out.bSimple - traceSigma / gradNormSq) < 1e-3 * out.bSimple);
  assert.deepEqual(out.varianceByBatchSize.map((v: { b: number }) => v.b), [1, 2, 4, 8, 16, 32, 64, 128, 256]);
  const last = out.varianceByBatchSize.at(-1);
  assert.ok(Math.abs(last.withoutReplacement) < 1e-9, 'without replacement, b = N has no variance');
});

test('measure interpolate --json: mixed buffers reproduce both endpoints at α = 0 and 1; recomputed statistics give finite losses everywhere; the distance is that of the weight files', () => {
  const mixed = sgdlab('measure', 'interpolate', '--checkpoint', a, '--other', b, '--points', '5', '--from', '0', '--to', '1', '--subset', '300', '--batch-norm', 'interpolate', '--json');
  assert.equal(mixed.status, 0, mixed.stderr);
  const m = JSON.parse(mixed.stdout);
  assert.equal(m.batchNorm.mode, 'interpolate');
  for (const [path, point] of [[a, m.points[0]], [b, m.points.at(-1)]] as const) {
    const ref = reference(path, 300);
    const direct = T.tidy(() => T.noGrad(() => inEvaluationMode(ref.model, () => T.crossEntropy(ref.model.forward(ref.x), ref.y).item())));
    assert.ok(Math.abs(point.train.loss - direct) < 1e-5 * direct, `α=${point.alpha}: ${point.train.loss} vs the checkpoint's own ${direct}`);
    ref.dispose();
  }
  const r = sgdlab('measure', 'interpolate', '--checkpoint', a, '--other', b, '--points', '5', '--subset', '300', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.points.map((p: { alpha: number }) => p.alpha), [-1, -0.25, 0.5, 1.25, 2]);
  assert.ok(out.points.every((p: { train: { loss: number }; test: { loss: number } }) => Number.isFinite(p.train.loss) && Number.isFinite(p.test.loss)));
  assert.deepEqual(out.batchNorm, { mode: 'recompute', examples: 2000, batchSize: 256, layers: 1 });
  assert.equal(out.cost.lossEvaluations, 10);
  const [wa, wb] = [a, b].map((p) => loadSafetensors(join(p, 'model.safetensors')).tensors);
  const distance = T.tidy(() => Math.sqrt(['1.weight', '1.bias', '2.weight', '2.bias', '4.weight', '4.bias'].reduce((s, k) => s + wa!.get(k)!.sub(wb!.get(k)!).square().sum().item(), 0)));
  T.dispose([...wa!.values(), ...wb!.values()]);
  assert.ok(Math.abs(out.distance - distance) < 1e-5 * distance, `distance ${out.distance} vs ${distance}`);
  // The trainer saved each run's initial weights: distances from initialization are reported.
  assert.ok(out.distanceFromInitial.a > 0 && out.distanceFromInitial.b > 0);
});

test("measure interpolate --batch-norm batch: the endpoints' losses are those of the 'batch' objective, in chunks as asked", () => {
  const r = sgdlab('measure', 'interpolate', '--checkpoint', a, '--other', b, '--points', '2', '--from', '0', '--to', '1', '--subset', '300', '--batch-norm', 'batch', '--batch-norm-batch', '100', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual([out.batchNorm.mode, out.batchNorm.batchSize], ['batch', 100]);
  for (const [path, point] of [[a, out.points[0]], [b, out.points[1]]] as const) {
    const ref = reference(path, 300);
    const f = new Objective(ref.model, ref.x, ref.y, 'cross-entropy', { batchNorm: 'batch', batchNormBatch: 100 }).value();
    ref.dispose();
    assert.ok(Math.abs(point.train.loss - f) < 1e-5 * f, `α ${point.alpha}: ${point.train.loss} vs the objective's ${f}`);
  }
});

test("measure landscape --batch-norm batch: at α = 0 the loss is the 'batch' objective's (in chunks as asked), recorded; without it, the running-statistics objective's", () => {
  const ref = reference(a, 300);
  const objective = (options: object) => new Objective(ref.model, ref.x, ref.y, 'cross-entropy', options).value();
  const [batch, running] = [objective({ batchNorm: 'batch', batchNormBatch: 100 }), objective({})];
  ref.dispose();
  assert.ok(Math.abs(batch - running) > 1e-3 * running, `the conventions differ on this network: ${batch} vs ${running}`);
  for (const [flags, f, recorded] of [[['--batch-norm', 'batch', '--batch-norm-batch', '100'], batch, { batchNorm: 'batch', batchNormBatch: 100 }], [[], running, { batchNorm: 'running' }]] as const) {
    const r = sgdlab('measure', 'landscape', '--checkpoint', a, '--points', '3', '--from', '-1', '--to', '1', '--subset', '300', ...flags, '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.objective, recorded);
    assert.equal(out.points[1].alpha, 0);
    assert.ok(Math.abs(out.points[1].train.loss - f) < 1e-5 * f, `${flags.join(' ')}: ${out.points[1].train.loss} vs the objective's ${f}`);
  }
});

test('every --seed accepts 0 (as the default is) and gives the same numbers as the default', () => {
  const withZero = sgdlab('measure', 'hessian', '--checkpoint', b, '--subset', '200', '--seed', '0', '--json');
  const without = sgdlab('measure', 'hessian', '--checkpoint', b, '--subset', '200', '--json');
  assert.equal(withZero.status, 0, withZero.stderr);
  assert.deepEqual(JSON.parse(withZero.stdout).eigenvalues, JSON.parse(without.stdout).eigenvalues);
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
    [['measure', 'noise', '--checkpoint', a, '--seed', '-1'], /--seed: '-1' must be an integer from 0 to 9007199254740991/],
    [['measure', 'landscape', '--checkpoint', a, '--seed', '1.5'], /--seed: '1.5' must be an integer/],
    [['measure', 'landscape', '--checkpoint', a, '--batch-norm', 'eval'], /--batch-norm: 'eval' must be running or batch/],
    [['measure', 'landscape', '--checkpoint', a, '--batch-norm-batch', 'all'], /--batch-norm-batch: 'all' needs --batch-norm batch/],
    [['measure', 'interpolate', '--checkpoint', a, '--other', b, '--batch-norm', 'mix'], /--batch-norm: 'mix' must be recompute, interpolate or batch/],
    [['measure', 'interpolate', '--checkpoint', a, '--other', b, '--from', 'x'], /--from: 'x' is not a number/],
    [['measure', 'curvature', '--checkpoint', a], /unknown command 'curvature'/],
    [['measure', 'hessian', '--checkpoint', a, '--batch-norm', 'eval'], /--batch-norm: 'eval' must be running or batch/],
    [['measure', 'hessian', '--checkpoint', a, '--batch-norm-batch', '100'], /--batch-norm-batch: '100' needs --batch-norm batch/],
    [['measure', 'interpolate', '--checkpoint', a, '--other', b, '--batch-norm-batch', '100'], /--batch-norm-batch: '100' needs --batch-norm batch/],
    [['measure', 'sharpness', '--checkpoint', a, '--batch-norm', 'batch', '--batch-norm-batch', '0'], /--batch-norm-batch: '0' must be a positive integer/],
    [['measure', 'sharpness', '--checkpoint', a, '--probability-clip', '0.7'], /--probability-clip: '0.7' must be a number in \(0, 0\.5\)/],
    [['measure', 'sharpness', '--checkpoint', a, '--subspace-distribution', 'gaussian'], /--subspace-distribution: 'gaussian' must be normal or uniform/],
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
