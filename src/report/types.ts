/**
 * What a report hands out: its tables and figures. Type-only imports, so that the dashboard's API
 * (and through it the browser client, whose type check has no Node types) uses these same shapes.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface Table {
  id: string;
  title: string;
  columns: string[];
  rows: string[][];
}

export interface Figure {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}
