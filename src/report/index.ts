/** Reports: figures as Vega-Lite specs rendered to SVG and PNG in Node, tables, a self-contained HTML page. Needs no addon. */
export * from './data.js';
export * from './figures.js';
export * from './tables.js';
export * from './html.js';
export * from './render.js';
export * from './report.js';
export * from './builtin/index.js';
