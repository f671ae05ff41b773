/** Figures that only a built-in study draws (its theory over its measurements), by study name. */
import type { ReportData } from '../data.js';
import type { Figure } from '../figures.js';
import { qianKlabjanFigures } from './qian-klabjan.js';
import { ziyinFigures } from './ziyin.js';
import { keskarFigures } from './keskar.js';

export * from './ziyin.js';
export * from './qian-klabjan.js';
export * from './keskar.js';

const BY_STUDY: Record<string, (d: ReportData) => Figure[]> = { keskar: keskarFigures, ziyin: ziyinFigures, 'qian-klabjan': qianKlabjanFigures };

export const builtinFigures = (d: ReportData): Figure[] => BY_STUDY[d.study.name]?.(d) ?? [];
