/**
 * The smith claims table on a synthetic study whose answers hold by construction: every run's validation
 * accuracy is a parabola in log₂ ε around an optimum chosen per batch size, budget and momentum (and its
 * training loss one around a training-loss optimum), shifted per seed; so the optima, the slopes, the
 * critical batch size and the differences are known before the table reads them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredTrial } from '../../study/index.js';
import type { ReportData } from '../data.js';
import { builtinTables } from './index.js';
import { seedOptima, smithClaimsTable, smithRuns } from './smith-claims.js';

const SEEDS = [0, 1, 2];
/** Seed s shifts every accuracy by 0.01·(s − 1): over 3 seeds a std of 0.01, a standard error of a difference of two means 0.01·√(2/3) = 0.0082. */
const jitter = (seed: number) => 0.01 * (seed - 1);

interface Design {
  batchSize: number;
  momentum: number;
  budget: { epochs: number } | { steps: number };
  /** log₂ of the learning rates tried (times `scale`). */
  grid: number[];
  scale?: number;
  /** log₂ of the validation-optimal ε (before `scale`) and of the training-loss-optimal one. */
  best: number;
  bestLoss: number;
  /** Test accuracy at the optimum (seed 1). */
  peak: number;
  /** Training loss at its optimum. */
  floor?: number;
  status?: (lr: number, seed: number) => StoredTrial['status'];
}

function trials(designs: readonly Design[]): StoredTrial[] {
  return designs.flatMap((d) => d.grid.flatMap((k) => SEEDS.map((seed): StoredTrial => {
    const lr = (d.scale ?? 1) * 2 ** k;
    const validation = d.peak - 0.01 * (k - d.best) ** 2 + jitter(seed);
    const epochs = 'epochs' in d.budget ? d.budget.epochs : (d.budget.steps * d.batchSize) / 55000;
    const status = d.status?.(lr, seed) ?? 'completed';
    return {
      study: 'smith', key: `${d.batchSize}/${d.momentum}/${JSON.stringify(d.budget)}/${k}/${seed}`, coordinates: {},
      config: { batchSize: d.batchSize, seed, budget: d.budget, optimizer: { name: 'sgd', lr, momentum: d.momentum, weightDecay: 5e-4 } } as unknown as StoredTrial['config'],
      status, attempt: 1, worker: null, startedAt: null, finishedAt: null, seconds: 1, error: null, checkpoint: null,
      result: { batchSize: d.batchSize, epochs, validation: { accuracy: validation }, test: { accuracy: validation - 0.005 }, train: { loss: (d.floor ?? 0.2) + 0.1 * (k - d.bestLoss) ** 2 } },
    };
  })));
}

const range = (lo: number, hi: number) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
const SIZES = [16, 64, 256, 1024, 4096];
const EPOCH_BUDGETS = [0.25, 0.5, 1, 2, 8, 16, 32];

/**
 * The paper's picture: ε_opt = 2⁻⁶·B/16 up to B = 256, then flat at 2⁻²; test accuracy 89.5% up to 256 (90.2 at 64), then 87.5 and 84.5;
 * at 2,048 steps B = 256 best (89.5%) and B = 4,096 84.5% with the lowest training loss; at B = 64 the test-optimal ε
 * 2⁻³ for budgets ≤ 1 epoch and 2⁻⁴ beyond (×2), the training-loss-optimal one 2⁻³ … 2⁻⁷ (×16; trends ×2.4 and ×11); SGD at ε = 10·ε_momentum
 * equal to momentum up to B = 256 and 5 points behind at 4,096.
 */
function paperLike(linearThroughout = false, lossOptima?: Record<number, number>): StoredTrial[] {
  const best = (b: number) => (linearThroughout ? -6 + Math.log2(b / 16) : Math.min(-6 + Math.log2(b / 16), -2));
  const peak: Record<number, number> = { 16: 0.9, 64: 0.907, 256: 0.9, 1024: 0.88, 4096: 0.85 };
  const epochs = SIZES.map((batchSize): Design => ({ batchSize, momentum: 0.9, budget: { epochs: 4 }, grid: range(-10, 1), best: best(batchSize), bestLoss: best(batchSize) - 1, peak: peak[batchSize]! }));
  const sgdPeak: Record<number, number> = { ...peak, 1024: 0.87, 4096: 0.8 };
  const sgd = SIZES.map((batchSize): Design => ({ batchSize, momentum: 0, budget: { epochs: 4 }, grid: range(-10, 1), scale: 10, best: best(batchSize), bestLoss: best(batchSize) - 1, peak: sgdPeak[batchSize]! }));
  const stepPeak: Record<number, number> = { 64: 0.88, 256: 0.9, 1024: 0.89, 4096: 0.85 };
  const floor: Record<number, number> = { 64: 0.3, 256: 0.2, 1024: 0.1, 4096: 0.05 };
  const steps = [64, 256, 1024, 4096].map((batchSize, i): Design => ({ batchSize, momentum: 0.9, budget: { steps: 2048 }, grid: range(-10 + i, -2 + i), best: -6 + i, bestLoss: -6 + i, peak: stepPeak[batchSize]!, floor: floor[batchSize]! }));
  const testOpt: Record<number, number> = { 0.25: -3, 0.5: -3, 1: -3, 2: -4, 8: -4, 16: -4, 32: -4 };
  const lossOpt: Record<number, number> = lossOptima ?? { 0.25: -3, 0.5: -4, 1: -5, 2: -5, 8: -6, 16: -6, 32: -7 };
  const budgets = EPOCH_BUDGETS.map((e): Design => ({ batchSize: 64, momentum: 0.9, budget: { epochs: e }, grid: range(-11, -2), best: testOpt[e]!, bestLoss: lossOpt[e]!, peak: 0.89 }));
  return [...epochs, ...sgd, ...steps, ...budgets].flatMap((d) => trials([d]));
}

const data = (ts: StoredTrial[]) => ({ study: { name: 'smith', select: 'validationAccuracy' }, trials: ts, rows: [], curves: new Map(), measurements: [], problems: [] }) as unknown as ReportData;

test('smith claims: the paper-like study is reproduced claim by claim, with the optima, slopes, critical B and differences built into it', () => {
  const [table, ...rest] = builtinTables(data(paperLike()));
  assert.equal(rest.length, 0);
  assert.equal(table!.id, 'smith-claims');
  const rows = table!.rows;
  assert.deepEqual(rows.map((r) => [r[0], r[3]]), [
    ['1. constant epochs (4 epochs): ε_opt ∝ B, then flat', 'reproduced'],
    ['1. constant epochs (4 epochs): the critical batch size', 'reproduced'],
    ['1. constant epochs (4 epochs): test accuracy flat, then falling', 'reproduced'],
    ['2. constant steps (2048): small or moderate B beats the largest on the test set', 'reproduced'],
    ['3. epoch budget at B = 64 (0.25 … 32 epochs, 128×)', 'reproduced'],
    ['4. SGD vs momentum 0.9 at the same ε/(1 − m) (4 epochs)', 'reproduced'],
  ]);
  // Optima 2⁻⁶, 2⁻⁴, 2⁻², 2⁻², 2⁻² in every seed; slopes (−4 + 6)/2 = 1 and 0.
  assert.equal(rows[0]![2], 'B = 16: 2^(−6 ± 0.00); B = 64: 2^(−4 ± 0.00); B = 256: 2^(−2 ± 0.00); B = 1024: 2^(−2 ± 0.00); B = 4096: 2^(−2 ± 0.00). Slope 1.00 ± 0.00 from B = 16 to 64, 0.00 ± 0.00 from 1024 to 4096 (n = 3)');
  // The linear line from 2⁻⁶ at 16 reaches 2⁰ at 1,024; 2⁻² is below its half.
  assert.equal(rows[1]![2], 'B* = 1024 (per seed: 1024, 1024, 1024)');
  // Test accuracy = peak − 0.005 + 0.01·(seed − 1): 89.50 ± 1.00 …; B = 4,096 is 90.2 − 84.5 = 5.70 points below B = 64, SE 0.82.
  assert.equal(rows[2]![2], 'B = 16: 89.50% ± 1.00 (n = 3); B = 64: 90.20% ± 1.00 (n = 3); B = 256: 89.50% ± 1.00 (n = 3); B = 1024: 87.50% ± 1.00 (n = 3); B = 4096: 84.50% ± 1.00 (n = 3). Best at B = 64; B = 4096 − B = 64: −5.70 ± 0.82 points');
  assert.match(rows[3]![2]!, /B = 256 − B = 4096: \+5\.00 ± 0\.82 points\. In 2048 steps B = 64 sees the training set 2\.4 times\.$/);
  assert.match(rows[3]![2]!, /B = 4096: 84\.50% ± 1\.00 \(n = 3\), lowest training loss 0\.0500 ± 0\.0000/);
  assert.match(rows[3]![4]!, /the largest B does reach the lower training loss/);
  // Test-optimal 2⁻³ → 2⁻⁴ (×2); training-loss-optimal 2⁻³ → 2⁻⁷ (×16); the 4-epoch point is claim 1's B = 64 (2⁻⁴ and 2⁻⁵).
  // The trend by hand: x = log₂ budget = −2 … 5 (the constant-epoch run adds 4 epochs), x̄ = 1.5, Σ(x − x̄)² = 42.
  // Test optima −3, −3, −3, −4, −4, −4, −4, −4: Σ(x − x̄)(y − ȳ) = −51 − 8·1.5·(−3.625) = −7.5, slope −7.5/42,
  // times log₂ 128 = 7: −1.25 (×2.4). Training-loss optima −3, −4, −5, −5, −5, −6, −6, −7: −82 + 61.5 = −20.5,
  // slope −20.5/42, times 7: −3.42 (×10.7).
  assert.match(rows[4]![2]!, /^test-optimal ε moves down ×2\.4 \(2\^\(−1\.25 ± 0\.00\), n = 3\), by budget 0\.25: 2\^\(−3 ± 0\.00\); .*; 4: 2\^\(−4 ± 0\.00\); .*training-loss-optimal ε moves down ×11 \(2\^\(−3\.42 ± 0\.00\), n = 3\), by budget .*4: 2\^\(−5 ± 0\.00\).*32: 2\^\(−7 ± 0\.00\)$/);
  // SGD at 10·2^k: the same effective ε/(1 − m) = 10·2⁻⁶ = 2^−2.68 at B = 16; 5 points behind at 4,096.
  assert.match(rows[5]![2]!, /^B = 16: momentum − SGD \+0\.00 ± 0\.82 points, ε_opt\/\(1 − m\) 2\^\(−2\.68 ± 0\.00\) vs 2\^\(−2\.68 ± 0\.00\);/);
  assert.match(rows[5]![2]!, /B = 4096: momentum − SGD \+5\.00 ± 0\.82 points/);
  assert.ok(rows.every((r) => !r[4]!.includes('edge')), 'no optimum on a grid edge');
  // Another network beside it (the quick size's LeNet-5), better at ε = 2: read apart, it changes nothing.
  const lenet = trials(SIZES.map((batchSize) => ({ batchSize, momentum: 0.9, budget: { epochs: 4 }, grid: [-8, 1], best: 1, bestLoss: 1, peak: 0.99 })))
    .map((t) => ({ ...t, key: `lenet/${t.key}`, coordinates: { model: { name: 'lenet5' } } }));
  assert.deepEqual(smithClaimsTable(data([...paperLike(), ...lenet]))[0]!.rows, rows);
});

test('smith claims: ε_opt ∝ B at every B is no flat regime (no critical batch size), and an optimum at the grid edge is said', () => {
  const rows = smithClaimsTable(data(paperLike(true)))[0]!.rows;
  // B = 4,096's optimum 2⁻⁶·4096/16 = 2² lies beyond the grid (up to 2¹): each seed picks the edge 2¹, a last slope of (1 − 0)/2.
  assert.match(rows[0]![2]!, /1\.00 ± 0\.00 from B = 16 to 64, 0\.50 ± 0\.00 from 1024 to 4096/);
  // Within the grid the slope falls by 0.5, not more: not reproduced; but with an optimum on the edge the verdict is not settled.
  assert.equal(rows[0]![3], 'not settled (not reproduced within the grid; an optimum on its edge)');
  assert.deepEqual([rows[1]![2], rows[1]![3]], ['B* = beyond 4096 (per seed: none ≤ 4096, none ≤ 4096, none ≤ 4096)', 'not settled (not reproduced within the grid; an optimum on its edge)']);
  assert.match(rows[0]![4]!, /Optimum on the grid's edge at B = 4096: the grid does not bound it there\.$/);
  // SGD at 10·2^k up to 20: its optimum 10·2² = 40 is beyond too; momentum's 2² beyond 2¹.
  assert.match(rows[5]![4]!, /Optimum on the grid's edge at momentum 0\.9, B = 4096; SGD, B = 4096:/);
});

test('per-seed optima: the best completed run of each seed; diverged runs are no candidates; ties go to the smaller ε', () => {
  const ts = trials([{ batchSize: 64, momentum: 0.9, budget: { epochs: 4 }, grid: range(-6, -2), best: -4, bestLoss: -5, peak: 0.9, status: (lr, seed) => (seed === 0 && lr === 2 ** -4 ? 'diverged' : 'completed') }]);
  const optima = seedOptima(smithRuns(ts), 'validationAccuracy');
  // Seed 0 lost its optimum 2⁻⁴: its neighbours 2⁻⁵ and 2⁻³ tie (0.01 below), the smaller wins.
  assert.deepEqual(optima.map((o) => [o.seed, Math.log2(o.lr), o.edge]), [[0, -5, false], [1, -4, false], [2, -4, false]]);
  assert.deepEqual(seedOptima(smithRuns(ts), 'trainLoss').map((o) => Math.log2(o.lr)), [-5, -5, -5]);
  assert.deepEqual(smithClaimsTable(data([])), []);
});

test('smith claims, claim 3: a training-loss optimum that moves further than the test one but less than 8× is partly reproduced', () => {
  // Training-loss optima −3, −4, −4, −5, −5 (claim 1's 4 epochs), −5, −5, −5 at log₂ budget −2 … 5: ȳ = −4.5,
  // Σ(x − x̄)(y − ȳ) = −65 + 54 = −11, slope −11/42, times 7: −1.83 (×3.6), against the test optimum's −1.25.
  const rows = smithClaimsTable(data(paperLike(false, { 0.25: -3, 0.5: -4, 1: -4, 2: -5, 8: -5, 16: -5, 32: -5 })))[0]!.rows;
  assert.match(rows[4]![2]!, /training-loss-optimal ε moves down ×3\.6 \(2\^\(−1\.83 ± 0\.00\), n = 3\)/);
  assert.equal(rows[4]![3], 'partly');
});
