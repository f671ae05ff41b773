/**
 * The keskar built-in's Tables 3 and 4 beside the paper's (Keskar et al. 2017, network F1): φ(ε, A = I)
 * and φ(ε, A) in a random subspace of the SB and LB minima, with one column per objective the study
 * measured under (batch norm by running statistics; Keskar's, batch statistics with probabilities
 * clipped as Keras 1 did) and per inner solver, so the two conventions' values stand side by side and
 * never mix. Needs no addon.
 */
import { splitObjectiveLabel, type Stat, type StoredTrial } from '../../study/index.js';
import type { ReportData, ReportRow } from '../data.js';
import { budgetLabel } from '../data.js';
import { formatStat, type Table } from '../tables.js';

/** Keskar et al. 2017, Table 2, network F1 (mean ± std over 5 seeds): accuracy, by minimum, as formatStat prints a percentage. */
export const KESKAR_PAPER_F1_ACCURACY = {
  training: { SB: '99.66% ± 0.05', LB: '99.92% ± 0.01' },
  test: { SB: '98.03% ± 0.07', LB: '97.81% ± 0.07' },
} as const;

/** The paper's tables average 5 seeds. */
const PAPER_SEEDS = 5;

/** Keskar et al. 2017, Tables 3 and 4, network F1 (mean ± std over 5 seeds): φ by ε and minimum. */
export const KESKAR_PAPER_F1 = {
  full: { 0.001: { SB: '1.23 ± 0.83', LB: '205.14 ± 69.52' }, 0.0005: { SB: '0.61 ± 0.27', LB: '42.90 ± 17.14' } },
  subspace: { 0.001: { SB: '0.11 ± 0.00', LB: '9.22 ± 0.56' }, 0.0005: { SB: '0.05 ± 0.00', LB: '9.17 ± 0.14' } },
} as const;

/** A φ value's name (results.ts, measurementValues), read back: ε, space, the objective's label ('' for the default) and the solver. */
export interface PhiName {
  epsilon: number;
  /** 'full', or the subspace as named: 'p=100', 'p=100 uniform'. */
  space: string;
  /** What measurementValues adds for a non-default objective, e.g. 'BN batch clip 1e-7'; '' for running statistics, no clipping. */
  objective: string;
  solver: 'lbfgsb' | 'projected';
}

/** The parts of a φ name, or undefined for another value (and for a first-order part). */
export function parsePhiName(name: string): PhiName | undefined {
  const { quantity, objective } = splitObjectiveLabel(name);
  const m = /^phi\(eps=([^,]+), (full|p=\d+(?: uniform)?)\)( L-BFGS-B)?$/.exec(quantity);
  return m ? { epsilon: Number(m[1]), space: m[2]!, objective, solver: m[3] ? 'lbfgsb' : 'projected' } : undefined;
}

const SOLVER_ORDER = { projected: 0, lbfgsb: 1 } as const;

/** The order of φ columns and panels: the default objective (running statistics) first, then by label; projected before L-BFGS-B. */
export const phiOrder = (a: PhiName, b: PhiName): number =>
  (a.objective === '' ? 0 : 1) - (b.objective === '' ? 0 : 1) || a.objective.localeCompare(b.objective) || SOLVER_ORDER[a.solver] - SOLVER_ORDER[b.solver];

/** A column's title for an objective and solver. */
const columnTitle = (objective: string, solver: PhiName['solver']) => `sgdlab, ${objective === '' ? 'BN running' : objective} (${solver === 'lbfgsb' ? 'L-BFGS-B' : 'projected'})`;

/** The plain F1 minima at the smallest (SB) and largest (LB) batch size: no warm start, no other model; each with its label. */
function sbAndLb(d: ReportData): { row: ReportRow; which: 'SB' | 'LB'; label: string }[] {
  const byKey = new Map(d.trials.map((t) => [t.key, t]));
  const plain = d.rows.filter((r) => {
    const config = byKey.get(r.bestTrials[0] ?? '')?.config;
    return config !== undefined && config.warmStart === undefined && config.model.name === 'keskar-f1';
  });
  if (plain.length < 2) return [];
  const sizes = plain.map((r) => r.batchSize);
  const [sb, lb] = [Math.min(...sizes), Math.max(...sizes)];
  if (sb === lb) return [];
  return plain.filter((r) => r.batchSize === sb || r.batchSize === lb).map((row) => {
    const which = row.batchSize === sb ? 'SB' as const : 'LB' as const;
    return { row, which, label: minimumLabel(row, which, row.bestTrials.flatMap((k) => byKey.get(k) ?? [])) };
  }).sort((a, b) => a.row.batchSize - b.row.batchSize);
}

/**
 * A minimum as the tables name it: SB or LB, its batch size, how long it trained, and over how many
 * seeds its values are (the paper's: 5). Trained under a stop rule (stopAt: the paper's "until the loss
 * ceased to improve"), its seeds' epochs are shown, and how many of them the rule stopped (the others
 * ran to the budget).
 */
function minimumLabel(r: ReportRow, which: 'SB' | 'LB', trials: readonly StoredTrial[]): string {
  const epochs = trials.flatMap((t) => (typeof t.result?.epochs === 'number' ? [t.result.epochs] : []));
  const [fewest, most] = [Math.min(...epochs), Math.max(...epochs)];
  const stopped = trials.filter((t) => t.result?.stopped !== undefined).length;
  const byRule = stopped === trials.length ? 'all stopped by the stop rule' : stopped === 0 ? 'the budget, none stopped by the stop rule' : `${stopped} of ${trials.length} stopped by the stop rule`;
  const trained = trials.some((t) => t.config.stopAt !== undefined) && epochs.length > 0
    ? `${fewest === most ? fewest : `${fewest}–${most}`} epochs (${byRule})`
    : budgetLabel(r.budget);
  return `${which} (B = ${r.batchSize}, ${trained}, n = ${r.bestTrials.length})`;
}

/** A cell's mean ± std; its n when it is not the row's (a measurement that failed or has not run yet on some seed). */
const statCell = (s: Stat | undefined, r: ReportRow, percent = false) => `${formatStat(s, percent)}${s && s.n !== r.bestTrials.length ? ` (n = ${s.n})` : ''}`;

/** Table 2: training and test accuracy of SB and LB beside the paper's F1; none without both minima. */
export function keskarPaperTable2(d: ReportData): Table[] {
  const minima = sbAndLb(d);
  if (minima.length === 0) return [];
  return [{
    id: 'keskar-table-2', title: `Keskar et al. Table 2: training and test accuracy of the SB and LB minima, the paper (F1, mean ± std over ${PAPER_SEEDS} seeds) beside sgdlab (mean ± std over n seeds)`,
    columns: ['accuracy', 'minimum', `paper (F1, n = ${PAPER_SEEDS})`, 'sgdlab'],
    rows: (['training', 'test'] as const).flatMap((which) => minima.map(({ row, which: m, label }) => [
      which, label, KESKAR_PAPER_F1_ACCURACY[which][m], statCell(which === 'training' ? row.trainAccuracy : row.testAccuracy, row, true),
    ])),
  }];
}

/** Tables 3 (full space) and 4 (random subspaces) in the paper's terms; none without SB and LB φ. */
export function keskarPaperTables(d: ReportData): Table[] {
  const minima = sbAndLb(d);
  if (minima.length === 0) return [];
  const phis = [...new Set(minima.flatMap((m) => Object.keys(m.row.measurements)))].flatMap((name) => {
    const p = parsePhiName(name);
    return p ? [{ name, ...p }] : [];
  });
  const table = (id: string, title: string, spaces: string[], paper: Record<number, { SB: string; LB: string }>, paperTitle: string): Table[] => {
    if (spaces.length === 0) return [];
    // One column per objective and solver, the default objective first, projected before L-BFGS-B.
    const columns = [...new Map(phis.filter((p) => spaces.includes(p.space)).sort(phiOrder)
      .map((p) => [columnTitle(p.objective, p.solver), p] as const)).values()];
    const epsilons = [...new Set(phis.filter((p) => spaces.includes(p.space)).map((p) => p.epsilon))].sort((a, b) => b - a);
    const stat = (r: ReportRow, space: string, epsilon: number, c: PhiName): Stat | undefined =>
      r.measurements[phis.find((p) => p.space === space && p.epsilon === epsilon && p.objective === c.objective && p.solver === c.solver)?.name ?? ''];
    return [{
      id, title,
      columns: ['space', 'ε', 'minimum', paperTitle, ...columns.map((c) => columnTitle(c.objective, c.solver))],
      rows: spaces.flatMap((space) => epsilons.flatMap((epsilon) => minima.map(({ row, which, label }) => [
        space === 'full' ? 'A = I' : space, String(epsilon), label, paper[epsilon]?.[which] ?? '–',
        ...columns.map((c) => statCell(stat(row, space, epsilon, c), row)),
      ]))),
    }];
  };
  const subspaces = [...new Set(phis.map((p) => p.space).filter((s) => s !== 'full'))].sort();
  return [
    ...table('keskar-table-3', 'Keskar et al. Table 3: φ(ε, A = I), full space, the paper (F1) beside sgdlab under each objective (mean ± std over seeds)', phis.some((p) => p.space === 'full') ? ['full'] : [], KESKAR_PAPER_F1.full, `paper (F1, n = ${PAPER_SEEDS})`),
    ...table('keskar-table-4', 'Keskar et al. Table 4: φ(ε, A) in a random subspace, the paper (F1, p = 100) beside sgdlab under each objective (mean ± std over seeds)', subspaces, KESKAR_PAPER_F1.subspace, `paper (F1, p = 100, n = ${PAPER_SEEDS})`),
  ];
}
