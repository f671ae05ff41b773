/** Figures that only a built-in study draws (its theory over its measurements), by study name. */
import type { ReportData } from '../data.js';
import type { Figure } from '../figures.js';
import { qianKlabjanFigures } from './qian-klabjan.js';
import { ziyinFigures } from './ziyin.js';
import { keskarFigures } from './keskar.js';
import { keskarEqualLossFigure, keskarEqualLossTable } from './keskar-equal-loss.js';
import type { Table } from '../tables.js';

export * from './ziyin.js';
export * from './qian-klabjan.js';
export * from './keskar.js';
export * from './keskar-equal-loss.js';

const present = <X>(x: X | undefined): X[] => (x === undefined ? [] : [x]);

const BY_STUDY: Record<string, (d: ReportData) => Figure[]> = {
  keskar: (d) => [...keskarFigures(d), ...present(keskarEqualLossFigure(d))],
  ziyin: ziyinFigures,
  'qian-klabjan': qianKlabjanFigures,
};

export const builtinFigures = (d: ReportData): Figure[] => BY_STUDY[d.study.name]?.(d) ?? [];

/** Tables that only a built-in study shows (keskar: sharpness at equal training loss). */
export const builtinTables = (d: ReportData): Table[] => (d.study.name === 'keskar' ? present(keskarEqualLossTable(d)) : []);
