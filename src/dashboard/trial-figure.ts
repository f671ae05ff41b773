/**
 * A trial's learning curves as a Vega-Lite figure: one panel per kind of quantity (losses, accuracies,
 * gradient norm, learning rate), each metric a coloured line, steps on x. The points are a named data
 * set ("curves"), so the page adds new points to the drawn view as the trial trains instead of drawing
 * it again (zoom and legend selection stay).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { CurvePoint } from './api.js';
import { CURVES_DATASET, curveRows, panelOf } from './curve-rows.js';
import { interactiveSpec } from './interactive.js';

export function trialCurvesSpec(points: readonly CurvePoint[]): TopLevelSpec {
  const panels = [...new Set(points.map((p) => panelOf(p.metric)))];
  const order = ['loss', 'accuracy', 'gradient norm', 'learning rate'];
  panels.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
  return interactiveSpec({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    datasets: { [CURVES_DATASET]: curveRows(points) },
    data: { name: CURVES_DATASET },
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels.length > 0 ? panels : order },
    columns: 2,
    spec: {
      width: 320, height: 190,
      mark: { type: 'line', point: false, interpolate: 'linear' },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'step' },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'metric', type: 'nominal', title: 'metric' },
      },
    },
    resolve: { scale: { y: 'independent', x: 'independent' } },
  } as TopLevelSpec);
}
