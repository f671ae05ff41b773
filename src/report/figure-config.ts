/**
 * The figures' shared look, apart from the renderer so that the dashboard (which draws the same
 * specs in the browser) can use it without loading resvg: DejaVu Sans, the font the PNG renderer
 * has and the dashboard's page asks for (no font is fetched).
 */
export const FONT_FAMILY = 'DejaVu Sans';

export const figureConfig = {
  font: FONT_FAMILY,
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 11, labelLimit: 400 },
  title: { fontSize: 13, anchor: 'start' as const },
};
