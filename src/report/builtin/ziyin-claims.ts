/**
 * The ziyin report's claims table: each claim of Ziyin et al. 2022 that the study measures, the paper's
 * statement, sgdlab's numbers and a verdict by a stated rule, from the same comparisons the figures draw.
 * A claim whose trials are not in the study is left out.
 */
import { median, optimalWeightDecay1d, sampleStatistics } from '../../theory/index.js';
import type { ReportData } from '../data.js';
import type { Table } from '../types.js';
import { ziyinEllipses, ziyinSigmaComparisons, ziyinWidthRows, type ZiyinEllipse } from './ziyin.js';
import { bestWeightDecay, decayPoints, regressionDecayRows, type BestWeightDecay } from './ziyin-decay.js';
import { ziyinNoiseComparisons } from './ziyin-noise.js';
import { ziyinGeneralNoiseRows } from './ziyin-general-noise.js';

const fmt = (x: number, digits = 3) => x.toPrecision(digits);
const stat = (xs: readonly number[]) => {
  const s = sampleStatistics(xs);
  return `${fmt(s.mean)} ± ${fmt(s.std, 2)} (n = ${s.n})`;
};
const decayVerdict = (b: BestWeightDecay) => (b.negativeResolved ? 'reproduced' : b.weightDecay < 0 ? 'partly: negative, not resolved from γ = 0' : 'not');
const decayText = (b: BestWeightDecay) => `best γ = ${b.weightDecay.toPrecision(3)}, seeds cannot tell [${b.range[0].toPrecision(3)}, ${b.range[1].toPrecision(3)}] from it${b.onEdge ? '; at the edge of the grid' : ''}`;

export function ziyinClaimsTable(d: ReportData): Table[] {
  const rows: string[][] = [];
  // Σ: within 2 standard errors of the exact formula wherever the error is finite (tail index β > 4).
  const sigma = ziyinSigmaComparisons(d.trials).filter((r) => r.measured !== undefined && r.relativeError !== undefined);
  if (sigma.length > 0) {
    const ratios = sigma.map((r) => r.measured! / r.exact);
    const within = sigma.filter((r) => Math.abs(r.measured! / r.exact - 1) <= 2 * r.relativeError!).length;
    const continuous = Math.max(...sigma.map((r) => r.measured! / r.continuous));
    rows.push(['1-D stationary Var(w) = λσ²/(2S − λa(S + 2)), not λσ²/(2S)', 'exact formula matches simulation; continuous time underestimates',
      `measured/exact ${fmt(Math.min(...ratios))}–${fmt(Math.max(...ratios))}; ${within} of ${sigma.length} points (β > 4) within 2 SE; measured/continuous up to ${fmt(continuous)}`,
      within >= 0.8 * sigma.length ? 'reproduced' : 'partly']);
  }
  rows.push(...ellipseRows(d), ...noiseRows(d));
  const width = ziyinWidthRows(d.trials);
  for (const rule of [...new Set(width.map((w) => w.rule))]) {
    const mine = width.filter((w) => w.rule === rule);
    if (mine.length < 2) continue;
    const [first, last] = [mine[0]!, mine[mine.length - 1]!];
    const growth = last.lossVariance / first.lossVariance;
    const scaled = rule.includes('/d');
    rows.push([`width instability, ${rule} (Fig. 1 middle)`, scaled ? 'λ ∝ 1/d keeps Var(loss) bounded' : 'Var(training loss) grows with width d',
      `Var(loss) ${fmt(first.lossVariance)} at d = ${first.width} → ${fmt(last.lossVariance)} at d = ${last.width} (×${fmt(growth, 2)}, n = ${last.n})`,
      scaled ? (growth <= 3 ? 'reproduced' : 'not') : growth >= 10 ? 'reproduced' : growth >= 3 ? 'partly' : 'not']);
  }
  const mnist = d.trials.filter((t) => t.config.model.name === 'logistic-regression' && t.status === 'completed' && t.result?.test);
  if (mnist.length > 0) {
    const decay = (t: (typeof mnist)[number]) => t.config.optimizer.weightDecay ?? 0;
    const loss = bestWeightDecay(decayPoints(mnist.map((t) => ({ weightDecay: decay(t), value: t.result!.test!.loss ?? NaN }))));
    const error = bestWeightDecay(decayPoints(mnist.filter((t) => t.result!.test!.accuracy != null).map((t) => ({ weightDecay: decay(t), value: 1 - t.result!.test!.accuracy! }))));
    if (loss) rows.push(['negative optimal weight decay, MNIST logistic regression, λ = 1.5, S = 32 (Fig. 1 right): test loss', 'optimal γ < 0', decayText(loss), decayVerdict(loss)]);
    if (error) rows.push(['the same, by test error', 'optimal γ < 0', decayText(error), decayVerdict(error)]);
  }
  const regression = d.trials.find((t) => t.config.data.name === 'linear-regression' && (t.config.optimizer.weightDecay ?? 0) !== 0);
  if (regression && typeof regression.config.batchSize === 'number') {
    const [lr, S] = [regression.config.optimizer.lr, regression.config.batchSize];
    const r = regressionDecayRows(d.trials, lr, S);
    const best = bestWeightDecay(decayPoints(r.map((x) => ({ weightDecay: x.weightDecay, value: x.measured }))));
    const spec = regression.config.data.linearRegression!;
    const a = (spec.covariance as number[] | undefined)?.[0];
    const u = spec.teacher?.[0];
    // The closed form needs the 1-D problem written out (a drawn teacher or an identity covariance is not).
    const theory = a === undefined || u === undefined ? undefined : optimalWeightDecay1d({ a, noiseVariance: (spec.labelNoise ?? 0) ** 2, teacher: u, batchSize: S, learningRate: lr });
    if (best && theory) rows.push([`negative optimal weight decay, label-noise regression, λ = ${lr}, S = ${S}, a = ${a}`, `theory (1 < λa < 2S/(S + 2)): γ* = ${theory.weightDecay.toFixed(3)}`, decayText(best), decayVerdict(best)]);
  }
  return rows.length === 0 ? [] : [{ id: 'ziyin-claims', title: 'Ziyin et al. 2022: claims, the paper, sgdlab, verdict', columns: ['claim', 'paper', 'sgdlab', 'verdict'], rows }];
}

/** The 2-D ellipses (Fig. 4): each against the exact Σ, and per A the discrete-time Hessian approximation at its largest and smallest S. */
function ellipseRows(d: ReportData): string[][] {
  const rows: string[][] = [];
  const ellipses = ziyinEllipses(d.trials);
  const tr = (m: number[][]) => m[0]![0]! + m[1]![1]!;
  for (const e of ellipses) {
    const worst = Math.max(...[0, 1].map((i) => Math.abs(e.measured[i]![i]! / e.exact[i]![i]! - 1)));
    const corr = (m: number[][]) => m[0]![1]! / Math.sqrt(m[0]![0]! * m[1]![1]!);
    rows.push([`2-D fluctuation ellipse, λ = ${e.lr}, S = ${e.batchSize}, A = ${JSON.stringify(e.hessian)} (Fig. 4)`, 'Σ from the exact equation, not ∝ A nor λσ²/(2S)·I',
      `diagonal within ${fmt(100 * worst, 2)}% of exact; correlation ${fmt(corr(e.measured))} vs exact ${fmt(corr(e.exact))}, A's ${fmt(corr(e.hessian))}, continuous time 0; `
        + `tr Σ: discrete-time Hessian approximation/measured ${fmt(tr(e.discreteHessian) / tr(e.measured))} (n = ${e.seeds})`,
      worst < 0.05 ? 'reproduced' : 'partly']);
  }
  // Fig. 4b–c's caption: with one A and λ, the discrete-time Hessian approximation is accurate at a large S and too small at a small one.
  for (const A of new Set(ellipses.map((e) => JSON.stringify(e.hessian)))) {
    const byS = ellipses.filter((e) => JSON.stringify(e.hessian) === A).sort((x, y) => x.batchSize - y.batchSize);
    const [small, large] = [byS[0]!, byS[byS.length - 1]!];
    if (small.batchSize === large.batchSize || small.lr !== large.lr) continue;
    const ratio = (e: ZiyinEllipse) => tr(e.discreteHessian) / tr(e.measured);
    rows.push([`the discrete-time Hessian approximation, λ = ${small.lr}, A = ${A}, S = ${large.batchSize} vs ${small.batchSize} (Fig. 4b–c)`, 'quite accurate at a large S; underestimates the fluctuation at a small S',
      `tr Σ_H/tr Σ measured ${fmt(ratio(large))} at S = ${large.batchSize}, ${fmt(ratio(small))} at S = ${small.batchSize}`,
      // "Quite accurate": within 15% (the exact theory itself puts it 12% low at λ = 1.5, S = 50); "underestimates": by 30% or more.
      Math.abs(ratio(large) - 1) <= 0.15 && ratio(small) <= 0.7 ? 'reproduced' : 'partly']);
  }
  return rows;
}

/** The noise covariance C: 1-D at stationarity, 2-D at each trial's w, along training, and Theorem 5 on MNIST. */
function noiseRows(d: ReportData): string[][] {
  const rows: string[][] = [];
  const comparisons = ziyinNoiseComparisons(d.trials, d.measurements);
  // C: the per-example covariance at the final w against the formula there (1-D) and at the measured Σ.
  const noise = comparisons.filter((r) => r.dim === 1 && r.weightDecay === 0);
  // Each trial's C is one draw at its final w, quadratic in w − u: its mean over draws is finite and
  // well estimated only where the stationary distribution's fourth moment is (tail index β > 4).
  const stable = new Set(ziyinSigmaComparisons(d.trials).filter((r) => r.measured !== undefined && r.relativeError !== undefined).map((r) => r.key));
  const c = noise.filter((r) => stable.has(r.key) && r.stationary && r.exact !== undefined);
  if (c.length > 0) {
    const atWeights = c.flatMap((r) => (r.exactAtWeights === undefined ? [] : [r.measured / r.exactAtWeights]));
    const atSigma = c.map((r) => r.measured / r.exact!);
    const hessianGap = Math.max(...c.map((r) => r.exact! / r.hessian));
    const mean = sampleStatistics(atSigma);
    rows.push(['noise covariance C = (1/S)(AΣA + Tr[AΣ]A + σ²A) (Lemma 1 / Thm 3)', 'C depends on Σ; C ∝ H (continuous time) misses it',
      `measured/exact at the final w ${atWeights.length > 0 ? stat(atWeights) : '–'}; measured/exact at the measured Σ ${stat(atSigma)}; exact/Hessian approximation up to ${fmt(hessianGap)}`,
      Math.abs(mean.mean - 1) <= Math.max(2 * mean.standardError, 0.05) && Math.abs(sampleStatistics(atWeights).mean - 1) <= 0.05 ? 'reproduced' : 'partly']);
  }
  // C in 2-D: each trial's measured C against the formula at its own final w (recorded by the measurement), per A.
  const twoD = comparisons.filter((r) => r.dim === 2 && r.weightDecay === 0 && r.stationary && r.exactAtWeights !== undefined);
  const covarianceOf = (key: string) => JSON.stringify(d.trials.find((t) => t.key === key)?.config.data.linearRegression?.covariance);
  for (const A of new Set(twoD.map((r) => covarianceOf(r.key)))) {
    const mine = twoD.filter((r) => covarianceOf(r.key) === A);
    const ratios = mine.map((r) => r.measured / r.exactAtWeights!);
    const spread = mine.map((r) => r.exactAtWeights! / r.hessian);
    rows.push([`noise covariance in 2-D at each trial's final w, A = ${A}, (λ, S) = ${[...new Set(mine.map((r) => `(${r.lr}, ${r.batchSize})`))].join(', ')}`, 'C = (1/S)(AMA + Tr[AM]A + σ²A) at M = (w − u)(w − u)ᵀ, for any w',
      `measured/exact at the final w ${stat(ratios)}; the draws' exact C spans ${fmt(Math.min(...spread))}–${fmt(Math.max(...spread))}× the Hessian approximation`,
      Math.abs(sampleStatistics(ratios).mean - 1) <= 0.05 ? 'reproduced' : 'partly']);
  }
  // C along training: the trials of one (λ, S) cut at several step budgets (not at stationarity).
  const along = comparisons.filter((r) => r.dim === 1 && r.weightDecay === 0 && !r.stationary && r.exactAtWeights !== undefined);
  if (new Set(along.map((r) => r.steps)).size >= 3) {
    const first = Math.min(...along.map((r) => r.steps));
    const early = sampleStatistics(along.filter((r) => r.steps === first).map((r) => r.measured / r.hessian));
    const ratio = sampleStatistics(along.map((r) => r.measured / r.exactAtWeights!));
    rows.push([`noise covariance along training from w₀ = 0, λ = ${along[0]!.lr}, S = ${along[0]!.batchSize}`, 'C = (1/S)(2a²(w − u)² + aσ²) at every w; "C ∝ H" only near the minimum',
      `measured/exact at w_t ${stat(along.map((r) => r.measured / r.exactAtWeights!))} over t = ${first} … ${Math.max(...along.map((r) => r.steps))}; at t = ${first} C is ${fmt(early.mean)}× the Hessian approximation`,
      Math.abs(ratio.mean - 1) <= 0.05 ? 'reproduced' : 'partly']);
  }
  // Theorem 5 (MSE) on the MNIST trials (cross-entropy): how far measured S·tr C is from 2L·tr H − |∇L|², per family of trials.
  const general = ziyinGeneralNoiseRows(d.trials, d.measurements);
  for (const family of [...new Set(general.map((r) => r.family))].sort()) {
    const mine = general.filter((r) => r.family === family);
    const span = (xs: number[]) => `median ${fmt(median(xs))}, ${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
    const theorem5 = mine.map((r) => r.measured / r.theorem5);
    rows.push([`general noise C ≈ (2L₀/S)H − ∇L∇Lᵀ/S (Theorem 5, derived for MSE) on MNIST, ${family}, cross-entropy`, 'not claimed for cross-entropy (the paper cites Mori et al. 2021: noise ∝ loss there too)',
      `measured/Theorem 5 ${span(theorem5)}; measured/tr H ${span(mine.map((r) => r.measured / r.traceHessian))} (n = ${mine.length})`,
      theorem5.every((x) => x >= 0.5 && x <= 2) ? 'holds beyond the paper (within 2×)' : 'does not hold (beyond the paper)']);
  }
  return rows;
}
