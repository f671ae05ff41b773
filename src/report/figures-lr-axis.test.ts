/**
 * Learning rates on the figures' axes read 2⁻ᵏ, never 0.0009765625: the three figures with a
 * learning-rate axis (best ε vs B, optimal ε vs epoch budget, the B × ε heatmap), rendered to SVG by
 * Vega, and their tick labels read back from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat, type StoredTrial } from '../study/index.js';
import type { ReportData, ReportRow } from './data.js';
import { bestLrVsBatchSize, epochBudgetFigure, lrScaleAxis, temperatureHeatmaps } from './figures.js';
import { renderSvg } from './render.js';

const row = (batchSize: number, bestLr: number, epochs: number): ReportRow => ({
  budget: { epochs }, series: '', batchSize, bestLr, testAccuracy: stat([0.9, 0.91]), trainLoss: stat([0.1, 0.12]), bestTrials: [],
  tried: [{ lr: 2 ** -10, completed: 2, diverged: 0, failed: 0, pruned: 0 }, { lr: 2, completed: 2, diverged: 0, failed: 0, pruned: 0 }], measurements: {},
});

const trial = (batchSize: number, lr: number, accuracy: number): StoredTrial => ({
  study: 'smith', key: `${batchSize}/${lr}`, coordinates: { batchSize, 'optimizer.lr': lr }, status: 'completed', attempt: 1, worker: null, startedAt: null, finishedAt: null, seconds: 1, error: null, checkpoint: null,
  config: { batchSize, seed: 0, budget: { epochs: 4 }, optimizer: { name: 'sgd', lr, momentum: 0.9 } } as unknown as StoredTrial['config'],
  result: { batchSize, test: { accuracy }, train: { loss: 0.1, examples: 55000 } },
});

/** The text of every <text> element of an SVG. */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);

test('learning-rate axes: ticks at the powers of 2 around the values, labelled 2ᵏ in superscripts', async () => {
  assert.deepEqual(lrScaleAxis([0.0125, 0.2]).scale.domain, [2 ** -7, 2 ** -2]);
  assert.deepEqual(lrScaleAxis([0.025]).axis.values, [2 ** -6, 2 ** -5, 2 ** -4], 'one value: a factor of 4 around it');
  assert.deepEqual(lrScaleAxis([2 ** -14, 2 ** 1]).axis.values, [-13, -11, -9, -7, -5, -3, -1, 1].map((k) => 2 ** k), 'more than 13 powers: every other, down from the top');
  const rows = [row(16, 2 ** -6, 4), row(64, 2 ** -4, 4), row(256, 0.0009765625, 4), row(64, 2 ** -5, 1), row(64, 2 ** -3, 16)];
  const trials = [16, 64].flatMap((b) => [2 ** -8, 2 ** -4, 0.1].map((lr, i) => trial(b, lr, 0.8 + 0.05 * i)));
  const d = { study: { name: 'smith', select: 'validationAccuracy' }, trials, rows, curves: new Map(), measurements: [], problems: [] } as unknown as ReportData;
  const figures = [bestLrVsBatchSize(d)!, epochBudgetFigure(d)!, ...temperatureHeatmaps(d)];
  assert.deepEqual(figures.map((f) => f.id), ['best-lr-vs-batch-size', 'best-lr-vs-epoch-budget', 'batch-size-lr-heatmap']);
  const labels = await Promise.all(figures.map(async (f) => texts(await renderSvg(f.spec))));
  // Best ε vs B: 2⁻¹⁰ (B = 256) up to 2⁻² (the linear line from 2⁻⁶ at B = 16 reaches 2⁻² at 256).
  for (const k of ['2⁻¹⁰', '2⁻⁶', '2⁻²']) assert.ok(labels[0]!.includes(k), `${k} in ${labels[0]!.join(' | ')}`);
  assert.ok(['2⁻⁶', '2⁻⁵', '2⁻⁴', '2⁻³'].every((k) => labels[1]!.includes(k)), labels[1]!.join(' | '));
  // The heatmap: ε from 2⁻⁸ to 0.1 (its domain 1.4× beyond): the powers 2⁻⁸ … 2⁻⁴.
  assert.ok(['2⁻⁸', '2⁻⁶', '2⁻⁴'].every((k) => labels[2]!.includes(k)), labels[2]!.join(' | '));
  for (const [i, l] of labels.entries()) assert.ok(!l.some((t) => /^0\.0\d/.test(t)), `figure ${figures[i]!.id} has a decimal learning rate: ${l.join(' | ')}`);
});

test("the epoch-budget figure draws one series: another series at that batch size (smith's SGD arm at 10× ε) is not a point of it", () => {
  const inSeries = (r: ReportRow, series: string): ReportRow => ({ ...r, series });
  const rows = [inSeries(row(64, 2 ** -5, 1), 'momentum=0.9'), inSeries(row(64, 2 ** -4, 4), 'momentum=0.9'), inSeries(row(64, 2 ** -3, 16), 'momentum=0.9'), inSeries(row(64, 2 ** -1, 4), 'momentum=0')];
  const d = { study: { name: 'smith', select: 'validationAccuracy' }, trials: [], rows, curves: new Map(), measurements: [], problems: [] } as unknown as ReportData;
  const values = (epochBudgetFigure(d)!.spec as { data: { values: { epochs: number; lr: number; rule: string }[] } }).data.values;
  assert.deepEqual(values.filter((v) => v.rule === 'best by validationAccuracy').map((v) => [v.epochs, v.lr]), [[1, 2 ** -5], [4, 2 ** -4], [16, 2 ** -3]]);
});
