/** Figures (and tables) that only a built-in study draws (its theory over its measurements), by study name. */
import type { ReportData } from '../data.js';
import { studyFigures, type Figure } from '../figures.js';
import type { Table } from '../tables.js';
import { keskarRemediesFigures, keskarRemediesTables } from './keskar-remedies.js';
import { qianKlabjanFigures, qianKlabjanTables } from './qian-klabjan.js';
import { ziyinFigures } from './ziyin.js';
import { ziyinClaimsTable } from './ziyin-claims.js';
import { keskarFigures } from './keskar.js';
import { keskarEqualLossFigure, keskarEqualLossTable } from './keskar-equal-loss.js';
import { keskarPaperTable2, keskarPaperTables } from './keskar-paper-tables.js';
import { keskarFigure4 } from './keskar-figure-4.js';
import { smithClaimsTable } from './smith-claims.js';

export * from './ziyin.js';
export * from './ziyin-claims.js';
export * from './qian-klabjan.js';
export * from './keskar.js';
export * from './keskar-remedies.js';
export * from './keskar-equal-loss.js';
export * from './keskar-paper-tables.js';
export * from './keskar-figure-4.js';
export * from './smith-claims.js';

const present = <X>(x: X | undefined): X[] => (x === undefined ? [] : [x]);

const BY_STUDY: Record<string, (d: ReportData) => Figure[]> = {
  keskar: (d) => [...keskarFigure4(d), ...keskarFigures(d), ...present(keskarEqualLossFigure(d))],
  'keskar-remedies': keskarRemediesFigures,
  ziyin: ziyinFigures,
  'qian-klabjan': qianKlabjanFigures,
};
/** Tables that only a built-in study shows (keskar: Tables 2–4 beside the paper's, sharpness at equal training loss; keskar-remedies: the remedies; qian-klabjan, smith, ziyin: their claims, each with a verdict). */
const TABLES_BY_STUDY: Record<string, (d: ReportData) => Table[]> = { keskar: (d) => [...keskarPaperTable2(d), ...keskarPaperTables(d), ...present(keskarEqualLossTable(d))], 'keskar-remedies': keskarRemediesTables, 'qian-klabjan': qianKlabjanTables, smith: smithClaimsTable, ziyin: ziyinClaimsTable };

export const builtinFigures = (d: ReportData): Figure[] => BY_STUDY[d.study.name]?.(d) ?? [];

/**
 * Generic figures a built-in study leaves out because its grid makes them meaningless: ziyin's trials are
 * unrelated problems (1-D and 2-D regression, MLPs, logistic regression), so its Hessian traces, measured
 * for ziyin-noise-general, say nothing as sharpness against batch size or gap across them.
 */
const OMITTED_BY_STUDY: Record<string, readonly string[]> = { ziyin: ['sharpness-vs-batch-size', 'sharpness-vs-gap'] };

/** A report's figures: the generic ones the data support (less those its built-in study omits), then the built-in study's own. */
export function reportFigures(d: ReportData): Figure[] {
  const omitted = new Set(OMITTED_BY_STUDY[d.study.name] ?? []);
  return [...studyFigures(d).filter((f) => !omitted.has(f.id)), ...builtinFigures(d)];
}
export const builtinTables = (d: ReportData): Table[] => TABLES_BY_STUDY[d.study.name]?.(d) ?? [];
