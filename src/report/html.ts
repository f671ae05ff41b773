/**
 * The self-contained HTML report: figures as inline SVG (no scripts, no fonts, no images fetched;
 * the PNGs and Vega-Lite specs sit beside it as files), captions, and the tables.
 */
import type { Figure } from './figures.js';
import type { Table } from './tables.js';

export const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface HtmlReport {
  title: string;
  summary: string[];
  figures: { figure: Figure; svg: string }[];
  tables: Table[];
  generatedBy: string;
}

/** Drops what could make a browser fetch anything from an SVG (Vega writes none; this keeps it so). */
const inlineSvg = (svg: string) => svg.replace(/<\?xml[^>]*>/, '').replace(/\s(?:xlink:)?href="(?:https?:)?\/\/[^"]*"/g, '');

export function reportHtml(r: HtmlReport): string {
  const table = (t: Table) => `<h3 id="${t.id}">${escapeHtml(t.title)}</h3>
<table><thead><tr>${t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>
<tbody>${t.rows.map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.title)}</title>
<style>
body { font-family: "DejaVu Sans", system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
figure { margin: 2em 0; } figcaption { font-size: 0.9em; color: #444; max-width: 800px; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; } th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; } .meta { color: #666; font-size: 0.85em; }
</style></head><body>
<h1>${escapeHtml(r.title)}</h1>
${r.summary.map((s) => `<p>${escapeHtml(s)}</p>`).join('\n')}
<h2>Tables</h2>
${r.tables.map(table).join('\n')}
<h2>Figures</h2>
${r.figures.map(({ figure, svg }) => `<figure id="${figure.id}">${inlineSvg(svg)}<figcaption><strong>${escapeHtml(figure.title)}.</strong> ${escapeHtml(figure.caption)} <span class="meta">(${figure.id}.png, ${figure.id}.svg, ${figure.id}.vl.json)</span></figcaption></figure>`).join('\n')}
<p class="meta">${escapeHtml(r.generatedBy)}</p>
</body></html>
`;
}
