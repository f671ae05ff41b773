/**
 * The keskar report's sharpness at equal training loss: rows join each trial's loss levels (training
 * loss, ‖θ − θ₀‖) with the measurements made at them, and the final minima with theirs; a warm-started
 * run is its own series; the figure draws a line per run, not per batch size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredMeasurement, StoredTrial } from '../../study/index.js';
import type { ReportData } from '../data.js';
import { renderSvg } from '../render.js';
import { keskarEqualLossFigure, keskarEqualLossRows } from './keskar-equal-loss.js';

const level = (lvl: number, loss: number) => ({ level: lvl, step: 5, epoch: 0.5, trainLoss: loss, trainExamples: 500, testAccuracy: 0.5, distanceFromInitial: 2 * lvl, checkpoint: `/ckpt/loss-${lvl}` });
const trial = (key: string, batchSize: number, coordinates: Record<string, unknown>, levels: ReturnType<typeof level>[]): StoredTrial => ({
  study: 'keskar', key, coordinates, config: { batchSize } as StoredTrial['config'], status: 'completed', attempt: 1, worker: null, startedAt: null, finishedAt: null, seconds: 1, error: null, checkpoint: `/ckpt/${key}`,
  result: { batchSize, steps: 10, epochs: 1, train: { loss: 0.25, accuracy: 0.9 }, test: { loss: 0.4, accuracy: 0.8 }, distanceFromInitial: 7, lossLevels: levels },
});
const measured = (key: string, kind: string, lvl: number | undefined, result: Record<string, unknown>): StoredMeasurement => ({
  key, kind, spec: JSON.stringify(lvl === undefined ? { seed: 0 } : { seed: 0, level: lvl }), status: 'completed', attempt: 1, worker: null, seconds: 1, error: null, result,
});

test('rows per trial and level (training loss, ‖θ − θ₀‖, λ_max, φ by solver, first-order part) and per final minimum; warm starts are a series', () => {
  const trials = [trial('sb', 16, { batchSize: 16 }, [level(1, 0.9), level(0.5, 0.45)]), trial('lb', 64, { batchSize: 64 }, [level(1, 0.8)]), trial('warm', 64, { batchSize: 64, warmStart: { batchSize: 16, epochs: 1 } }, [level(1, 0.7)])];
  const sharp = (phi: number) => ({ values: [{ epsilon: 0.001, space: 'full', solver: 'lbfgsb', phi, firstOrder: phi / 4 }, { epsilon: 0.001, space: 'full', solver: 'projected', phi: phi + 1, firstOrder: phi / 4 }], examples: 100 });
  const measurements = [
    measured('sb', 'sharpness', 1, sharp(10)), measured('sb', 'hessian', 1, { eigenvalues: [3], examples: 100 }), measured('sb', 'sharpness', 0.5, sharp(20)),
    measured('sb', 'sharpness', undefined, sharp(40)), measured('lb', 'sharpness', 1, sharp(30)), measured('lb', 'noise', 1, { gradNormSq: 1 }),
  ];
  const rows = keskarEqualLossRows(trials, measurements);
  assert.deepEqual(rows.map((r) => [r.key, r.level ?? 'final', r.trainLoss, r.values.lambdaMax, r.values['phi(eps=0.001, full) L-BFGS-B'], r.values['phi(eps=0.001, full)'], r.values['phi(eps=0.001, full) first-order'], r.values['‖θ − θ₀‖']]), [
    ['sb', 1, 0.9, 3, 10, 11, 2.5, 2], ['sb', 0.5, 0.45, undefined, 20, 21, 5, 1], ['sb', 'final', 0.25, undefined, 40, 41, 10, 7],
    ['lb', 1, 0.8, undefined, 30, 31, 7.5, 2],
    ['warm', 1, 0.7, undefined, undefined, undefined, undefined, 2],
  ]);
  assert.deepEqual(rows.map((r) => r.series), ['', '', '', '', 'warmStart={batchSize=16,epochs=1}']);
  assert.equal(rows[0]!.examples, 100);
});

test('the figure draws one line per run: two seeds at one batch size are two lines of two checkpoints each, per quantity', async () => {
  // Seed 1's checkpoints lie between seed 0's in loss: one line per batch size would join all four.
  const trials = [trial('s0', 16, { batchSize: 16, seed: 0 }, [level(1, 0.9), level(0.5, 0.3)]), trial('s1', 16, { batchSize: 16, seed: 1 }, [level(1, 0.6), level(0.5, 0.2)])];
  const measurements = trials.flatMap((t) => [1, 0.5].map((lvl) => measured(t.key, 'hessian', lvl, { eigenvalues: [lvl * 10], examples: 100 })));
  const figure = keskarEqualLossFigure({ trials, measurements } as unknown as ReportData)!;
  const svg = await renderSvg(figure.spec);
  // Vega writes each line of a line mark as one <path> inside the mark's group (class mark-line).
  const lines = [...svg.matchAll(/<g class="mark-line role-mark[^"]*"[^>]*>(.*?)<\/g>/g)].flatMap((g) => [...g[1]!.matchAll(/<path[^>]* d="([^"]+)"/g)].map((p) => p[1]!));
  // Two quantities (λ_max, ‖θ − θ₀‖) × two runs; each line has its two checkpoints: a move and one segment.
  assert.equal(lines.length, 4, svg.slice(0, 2000));
  for (const d of lines) assert.equal(d.match(/[ML]/g)!.join(''), 'ML', d);
});
