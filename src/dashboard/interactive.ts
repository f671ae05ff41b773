/**
 * The report's figures, made explorable in the browser without changing what they draw: the same
 * Vega-Lite specification (src/report/figures.ts) gets the report's look (figureConfig), tooltips on
 * every mark, a legend that selects series (click a budget, a batch size, a rule; shift-click for
 * several; the others fade), and zoom and pan on the axes (wheel and drag; double-click resets),
 * log axes included. Vega-Lite rejects some combinations (scale binding on a facet whose scales are
 * independent, for instance): each variant is compiled here and the richest one that compiles is
 * served, so a figure is never lost to its interaction.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { figureConfig } from '../report/figure-config.js';

type Json = Record<string, unknown>;

const LEGEND = 'legend_pick';
const ZOOM = 'zoom';

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The field the colour legend shows in a unit, given what its parents encode. */
const colorField = (encoding: unknown, inherited: string | undefined): string | undefined => {
  const color = isObject(encoding) ? encoding.color : undefined;
  return isObject(color) && typeof color.field === 'string' ? color.field : inherited;
};

interface Units {
  /** Unit specs (with a mark) and the colour field each draws with. */
  units: { unit: Json; color: string | undefined }[];
}

/** Every unit spec under `node`, in order (layers and the inner spec of a facet). */
function collectUnits(node: Json, inherited: string | undefined, into: Units): void {
  const color = colorField(node.encoding, inherited);
  if (Array.isArray(node.layer)) for (const l of node.layer) if (isObject(l)) collectUnits(l, color, into);
  if (isObject(node.spec)) collectUnits(node.spec, color, into);
  if (node.mark !== undefined) into.units.push({ unit: node, color });
}

const baseOpacity = (unit: Json): number => {
  const mark = unit.mark;
  return isObject(mark) && typeof mark.opacity === 'number' ? mark.opacity : 1;
};

/** Adds a few pixels of padding to the x and y scales of quantitative encodings (their own domains are kept). */
function padPositions(node: Json): void {
  const encoding = isObject(node.encoding) ? node.encoding : undefined;
  for (const channel of ['x', 'y']) {
    const e = encoding?.[channel];
    if (!isObject(e) || e.type !== 'quantitative') continue;
    const scale = isObject(e.scale) ? e.scale : {};
    if (scale.padding === undefined && scale.domain === undefined) e.scale = { ...scale, padding: 8 };
  }
}

/** A copy of `spec` with the legend selection and/or zoom added (undefined if it has nothing to add them to). */
export function withInteraction(spec: TopLevelSpec, options: { legend: boolean; zoom: 'xy' | 'x' | false }): TopLevelSpec | undefined {
  const copy = structuredClone(spec) as unknown as Json;
  const found: Units = { units: [] };
  collectUnits(copy, undefined, found);
  if (found.units.length === 0) return undefined;
  let changed = false;
  if (options.legend) {
    const field = found.units.find((u) => u.color !== undefined)?.color;
    if (field === undefined) return undefined;
    let placed = false;
    for (const { unit, color } of found.units) {
      if (color !== field) continue;
      const encoding = (isObject(unit.encoding) ? unit.encoding : (unit.encoding = {})) as Json;
      if (encoding.opacity !== undefined) continue;
      const opacity = baseOpacity(unit);
      encoding.opacity = { condition: { param: LEGEND, value: opacity, empty: true }, value: opacity * 0.12 };
      if (!placed) {
        unit.params = [...(Array.isArray(unit.params) ? unit.params : []), { name: LEGEND, select: { type: 'point', fields: [field] }, bind: 'legend' }];
        placed = true;
      }
    }
    changed ||= placed;
    if (!placed) return undefined;
  }
  if (options.zoom) {
    // Scales bound to zoom lose their "nice" rounding: pad them so that marks at the ends are not cut in half.
    for (const { unit } of found.units) padPositions(unit);
    padPositions(copy);
    const unit = found.units[0]!.unit;
    unit.params = [...(Array.isArray(unit.params) ? unit.params : []), { name: ZOOM, select: { type: 'interval', encodings: options.zoom === 'xy' ? ['x', 'y'] : ['x'] }, bind: 'scales' }];
    changed = true;
  }
  return changed ? (copy as unknown as TopLevelSpec) : undefined;
}

/** Whether Vega-Lite compiles the spec and Vega parses the result (no warnings-as-errors: only failures count). */
function compiles(spec: TopLevelSpec): boolean {
  try {
    vega.parse(compile(spec, { logger: vega.logger(vega.None) }).spec);
    return true;
  } catch {
    return false;
  }
}

/** The report figure as the dashboard serves it: its look, tooltips, and the richest interaction that compiles. */
export function interactiveSpec(spec: TopLevelSpec): TopLevelSpec {
  const styled = {
    ...spec,
    config: { ...figureConfig, ...(spec.config ?? {}), mark: { tooltip: true, ...((spec.config as Json | undefined)?.mark as Json | undefined) } },
  } as TopLevelSpec;
  for (const options of [{ legend: true, zoom: 'xy' }, { legend: true, zoom: 'x' }, { legend: false, zoom: 'xy' }, { legend: true, zoom: false }, { legend: false, zoom: 'x' }] as const) {
    const candidate = withInteraction(styled, options);
    if (candidate && compiles(candidate)) return candidate;
  }
  return styled;
}
