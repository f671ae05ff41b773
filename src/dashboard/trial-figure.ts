/**
 * A trial's learning curves as a Vega-Lite figure: one panel per kind of quantity (losses, accuracies,
 * gradient norm, learning rate), each metric a coloured line, steps on x. The points are a named data
 * set ("curves"), so the page adds new points to the drawn view as the trial trains instead of drawing
 * it again (zoom and legend selection stay).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { CurvePoint } from './api.js';
import { CURVES_DATASET, curveRows } from './curve-rows.js';
import { interactiveSpec } from './interactive.js';

const PANELS = ['loss', 'accuracy', 'gradient norm', 'learning rate'];

/**
 * The figure without its data, made interactive once (checking the variants compiles the spec:
 * tens of milliseconds, not to be paid on every answer); each answer puts its points in.
 */
let template: TopLevelSpec | undefined;

export function trialCurvesSpec(points: readonly CurvePoint[]): TopLevelSpec {
  template ??= interactiveSpec({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    datasets: { [CURVES_DATASET]: [] },
    data: { name: CURVES_DATASET },
    // Panels in this order; any other metric's panel after them.
    facet: { field: 'panel', type: 'nominal', title: null, sort: PANELS },
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
  return { ...template, datasets: { [CURVES_DATASET]: curveRows(points) } } as TopLevelSpec;
}
