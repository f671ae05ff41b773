/** `sgdlab measure robustness` as a user runs it: a trained model is less accurate on adversarial inputs than on clean ones. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sgdlabCli as sgdlab } from '../study/testing.js';

const dir = mkdtempSync(join(tmpdir(), 'sgdlab-robustness-'));
const checkpoint = join(dir, 'mlp');

before(() => {
  const r = sgdlab('train', '--model', 'mlp', '--widths', '64', '--batch-norm', '--subset', '2000', '--batch-size', '50', '--steps', '80', '--lr', '0.05', '--optimizer', 'sgd', '--momentum', '0.9', '--save', checkpoint);
  assert.equal(r.status, 0, r.stderr);
});

test('measure robustness: adversarial accuracy is below clean accuracy, falls with ε, and PGD is at least as strong as FGSM', () => {
  const run = (...extra: string[]) => {
    const r = sgdlab('measure', 'robustness', '--checkpoint', checkpoint, '--subset', '500', '--json', ...extra);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { clean: { accuracy: number }; points: { epsilon: number; adversarial: { accuracy: number; loss: number } }[]; examples: number; split: string; attack: { steps: number; randomStart: boolean } };
  };
  const fgsm = run('--epsilon', '0.05,0.1,0.2');
  assert.equal(fgsm.examples, 500);
  assert.equal(fgsm.split, 'test');
  assert.ok(fgsm.clean.accuracy > 0.8, `clean accuracy ${fgsm.clean.accuracy}`);
  const accuracies = fgsm.points.map((p) => p.adversarial.accuracy);
  assert.ok(accuracies[0]! < fgsm.clean.accuracy, `ε = 0.05: ${accuracies[0]} vs clean ${fgsm.clean.accuracy}`);
  assert.ok(accuracies[0]! > accuracies[1]! && accuracies[1]! > accuracies[2]!, `accuracy falls with ε: ${accuracies.join(', ')}`);
  const pgd = run('--attack', 'pgd', '--epsilon', '0.1', '--steps', '5');
  assert.deepEqual([pgd.attack.steps, pgd.attack.randomStart], [5, true]);
  assert.equal(pgd.clean.accuracy, fgsm.clean.accuracy);
  assert.ok(pgd.points[0]!.adversarial.accuracy <= accuracies[1]!, `PGD-5 ${pgd.points[0]!.adversarial.accuracy} vs FGSM ${accuracies[1]} at ε = 0.1`);
  const l2 = run('--norm', 'l2', '--epsilon', '1', '--split', 'train');
  assert.equal(l2.split, 'train');
  assert.ok(l2.points[0]!.adversarial.accuracy < l2.clean.accuracy);
});

test('measure robustness: bad flags name the flag, the value and what is allowed', () => {
  const cases: [string[], RegExp][] = [
    [['--attack', 'bim'], /--attack: 'bim' must be fgsm or pgd/],
    [['--norm', 'l1'], /--norm: 'l1' must be linf or l2/],
    [['--epsilon', '0.1,-1'], /--epsilon: '-1' must be a positive number/],
    [['--steps', '3'], /--steps: fgsm takes one step \(got '3'\); use --attack pgd for several/],
    [['--mode', 'test'], /--mode: 'test' must be eval or train/],
  ];
  for (const [args, pattern] of cases) {
    const r = sgdlab('measure', 'robustness', '--checkpoint', checkpoint, ...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
