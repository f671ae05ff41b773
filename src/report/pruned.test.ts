/** Pruned trials in the report: a table of where and why they were stopped, rings on their heatmap cells. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { temperatureHeatmaps } from './figures.js';
import type { ReportData } from './data.js';
import { prunedTable } from './tables.js';
import { storedTrial as trial } from '../study/testing.js';


test('the report lists pruned trials with their step, value and rule, and rings their heatmap cells instead of colouring them', () => {
  const trials = [trial(0.1, 0, 'completed', 0.8), trial(0.2, 0, 'pruned', 0.5), { ...trial(0.1, 0, 'completed', 0.7), key: 'b64', coordinates: { batchSize: 64 }, result: { batchSize: 64, test: { accuracy: 0.7 }, train: { examples: 1000 } } }, { ...trial(0.2, 0, 'completed', 0.6), key: 'b64b', result: { batchSize: 64, test: { accuracy: 0.6 }, train: { examples: 1000 } } }];
  const [table] = prunedTable(trials);
  assert.equal(table!.title, 'Stopped early by the pruning rule (1 of 4 trials)');
  assert.deepEqual(table!.rows[0]!.slice(2), ['10', '0', 'validationAccuracy', '0.5000', 'asha: …']);
  assert.deepEqual(prunedTable(trials.filter((t) => t.status !== 'pruned')), []);
  const [figure] = temperatureHeatmaps({ trials } as Pick<ReportData, 'trials'> as ReportData);
  const layers = (figure!.spec as { layer: { data: { values: { batchSize: number; lr: number; accuracy: number | null }[] } }[] }).layer;
  assert.deepEqual(layers[0]!.data.values.map((v) => [v.batchSize, v.lr]), [[32, 0.1], [64, 0.1], [64, 0.2]], 'coloured: the completed cells');
  assert.deepEqual(layers[2]!.data.values.map((v) => [v.batchSize, v.lr]), [[32, 0.2]], 'ringed: the pruned cell');
});
