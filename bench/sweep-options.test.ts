/**
 * The sweep benchmark's options (bench/sweep-options.ts): what each pruned variant's study asks the
 * runner for (the study's own `prune` option, as pruning.ts parses it), the claim order the grid gives,
 * and clear errors for options that would be ignored or make no rung.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandTrials } from '../src/study/trials.js';
import { parseOptions, sweepStudy } from './sweep-options.js';

test('the default is the issue\'s grid, the full grid only, learning rates ascending', () => {
  const o = parseOptions([]);
  assert.deepEqual(o.batchSizes, [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]);
  assert.deepEqual(o.lrs, [1 / 256, 1 / 128, 1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8, 16]);
  assert.deepEqual(o.variants, ['full']);
  assert.equal(o.epochs, 16);
  assert.equal(o.first, 'sgdlab');
  assert.equal(sweepStudy(o).prune, undefined);
});

test('a pruned variant\'s study carries the rule with the given parameters, in epochs, learning rates competing', () => {
  const o = parseOptions(['--variants=full,median,asha', '--rungs=1,2,4', '--grace=0.5', '--eta=3', '--min-trials=2', '--every=2', '--prune-metric=trainLoss']);
  assert.deepEqual(o.variants, ['full', 'median', 'asha']);
  const median = sweepStudy(o, 'median').prune!;
  assert.equal(median.rule, 'median');
  assert.equal(median.unit, 'epochs');
  assert.deepEqual(median.rungs, [1, 2, 4]);
  assert.equal(median.gracePeriod, 0.5);
  assert.equal(median.minTrials, 2);
  assert.equal(median.every, 2);
  assert.equal(median.metric, 'trainLoss');
  assert.deepEqual(median.across, ['optimizer.lr']);
  const asha = sweepStudy(o, 'asha').prune!;
  assert.equal(asha.rule, 'asha');
  assert.equal(asha.reductionFactor, 3);
  // The full grid of the same options prunes nothing.
  assert.equal(sweepStudy(o, 'full').prune, undefined);
  // Without --prune-metric the rule ranks by the study's selection (pruning.ts's default): no metric set.
  assert.equal(sweepStudy(parseOptions(['--variants=median']), 'median').prune!.metric, undefined);
});

test('a packed variant\'s study packs (and prunes with its rule); --pack and --pack-members set how', () => {
  const o = parseOptions(['--variants=full,packed,median-packed', '--pack=always', '--pack-members=13', '--rungs=1,2']);
  assert.equal(sweepStudy(o, 'full').pack, undefined);
  const packed = sweepStudy(o, 'packed');
  assert.deepEqual([packed.pack, packed.prune], [{ when: 'always', maxMembers: 13 }, undefined]);
  const both = sweepStudy(o, 'median-packed');
  assert.deepEqual([both.pack, both.prune!.rule, both.prune!.rungs], [{ when: 'always', maxMembers: 13 }, 'median', [1, 2]]);
  // Default: packed only where a worker measured it faster, 8 at a time.
  assert.deepEqual(sweepStudy(parseOptions(['--variants=asha-packed']), 'asha-packed').pack, { when: 'faster', maxMembers: 8 });
  assert.equal(parseOptions(['--variants=asha-packed', '--eta=3']).prune.eta, 3);
});

test('--lr-order=descending makes the grid claim the largest learning rate of each batch size first', () => {
  const o = parseOptions(['--batch-sizes=16,64', '--lrs=0.25,1,0.5', '--epochs=2', '--lr-order=descending', '--variants=median']);
  const order = expandTrials(sweepStudy(o, 'median'), 'test').map((t) => [t.config.batchSize, t.config.optimizer.lr]);
  assert.deepEqual(order, [[16, 1], [16, 0.5], [16, 0.25], [64, 1], [64, 0.5], [64, 0.25]]);
  const ascending = parseOptions(['--lrs=0.25,1,0.5']);
  assert.deepEqual(ascending.lrs, [0.25, 0.5, 1]);
});

test('options that would be ignored or decide nothing are errors that name them', () => {
  const fails = (args: string[], pattern: RegExp) => assert.throws(() => parseOptions(args), pattern);
  fails(['--variants=full,hyperband'], /--variants: 'hyperband' is not one of full, median, asha, packed, median-packed, asha-packed/);
  fails(['--variants=median', '--pack=always'], /--pack: a packing parameter, but --variants=median runs no packed variant/);
  fails(['--variants=packed', '--pack=sometimes'], /--pack: 'sometimes' is not one of faster, always/);
  fails(['--variants=packed', '--pack-members=1'], /--pack-members: '1' is not an integer ≥ 2/);
  fails(['--variants=packed', '--pack-members=65'], /--pack-members: 65 is more than the 64/);
  fails(['--variants=packed', '--rungs=1'], /--rungs: a pruning parameter, but --variants=packed runs no pruned variant/);
  fails(['--variants=median,median'], /--variants: 'median' is listed twice/);
  fails(['--variants=median', '--eta=3'], /--eta: a parameter of the asha rule, but --variants=median runs no asha variant/);
  fails(['--variants=asha', '--min-trials=2'], /--min-trials: a parameter of the median rule/);
  fails(['--rungs=1,2'], /--rungs: a pruning parameter, but --variants=full runs no pruned variant/);
  fails(['--variants=median', '--rungs=2,1'], /--rungs: expected increasing positive epochs .* got '2,1'/);
  fails(['--variants=median', '--rungs=1,,2'], /--rungs: expected increasing positive epochs/);
  fails(['--variants=median', '--epochs=4', '--rungs=4,8'], /--rungs: 4,8 has no rung inside the 4 epochs/);
  fails(['--variants=median', '--epochs=2', '--grace=2'], /--grace: 2 epochs is not inside the 2 epochs/);
  // With explicit rungs the grace period places none of them: a grace past the run is then no error.
  assert.deepEqual(parseOptions(['--variants=median', '--epochs=1', '--rungs=0.5']).prune.rungs, [0.5]);
  fails(['--variants=asha', '--eta=1'], /--eta: '1' is not a number > 1/);
  fails(['--variants=median', '--grace=0'], /--grace: '0' is not a number > 0/);
  fails(['--variants=median', '--prune-metric=accuracy'], /--prune-metric: 'accuracy' is not one of validationAccuracy, testAccuracy, trainLoss/);
  fails(['--first=loop'], /--first: 'loop' is not one of sgdlab, pytorch/);
  fails(['--lr-order=random'], /--lr-order: 'random' is not one of ascending, descending/);
  fails(['--prune=median'], /unknown argument '--prune=median'/);
});
