/**
 * Qian & Klabjan's Var(g_k | w₀) (along-training.ts) with the sequences packed: R independent SGD runs
 * from w₀ are K members of one PackedMlp (nn/packed-mlp.ts), a pack of sequences at a time, and every
 * requested step k is read off the same runs. The numbers are those of gradientVarianceAlongTraining
 * (up to float rounding: batched products sum in another order): sequence r at batch size b draws from
 * the generator sequenceSeed(seed, b, r) in the same order, and the gradient measured at step k is the
 * one the serial code draws after k updates — which is also the gradient of the run's update k, so one
 * run of max k + 1 gradients serves every k (the serial code runs each k from w₀ again, along the
 * same batches). Packing saves the per-operation cost of R tiny models, which is the whole cost of the
 * paper's linear networks (a 4-input regression's step is a few microseconds of arithmetic). A deep
 * linear network's gradients come from each batch's second moments (linear-moment-gradient.ts), which
 * spares the pass through its layers.
 *
 * The variance over sequences in one pass, in bounded memory: with a shift c (the first pack's mean
 * gradient at that step; any fixed vector gives the same value), e_r = g_r − c, δ = ḡ − c,
 *   Σ_r ‖g_r − ḡ‖² = Σ_r ‖e_r‖² − R‖δ‖²,
 * exactly the serial estimate Σ‖g_r − ḡ‖²/(R − 1). Its standard error is that of the mean of ‖e_r‖²
 * rather than of ‖g_r − ḡ‖²: the same when the sequences fit one pack (c = ḡ, the default for the
 * paper's linear networks up to 64 MB of packed parameters), otherwise they differ by the cross term
 * 2e_r·δ, with c within the first pack's sampling error of ḡ: about 1/√(pack size) relative, an error
 * bar's precision. (The exact one needs Σ e_r e_rᵀ, P × P, or every e_r kept: neither fits a network of
 * MNIST's 784 inputs.)
 *
 * Held-out folds: sequences with r even and r odd are two independent halves (fold 0 and 1), each with
 * its own estimate, so that the degree of a polynomial in 1/b can be chosen by how well a fit to one
 * half predicts the other (selectDegreeByHeldOut, along-training.ts).
 */
import * as T from '../tensor/index.js';
import { Activation, BatchNorm, Flatten, Linear, Sequential, buildModel, modelInfo, type Module } from '../nn/index.js';
import { PackedMlp } from '../nn/packed-mlp.js';
import { packedBatchGradient } from '../train/packed-gradient.js';
import { linearMomentGradient, momentGradientPays } from './linear-moment-gradient.js';
import { sampleStatistics } from '../theory/statistics.js';
import { sequenceSeed, type AlongTrainingOptions, type VarianceAtStep } from './along-training.js';

export interface PackedAlongTrainingOptions extends Omit<AlongTrainingOptions, 'step'> {
  /** The steps k at which the variance is measured, each from the same runs. */
  steps: number[];
  /** Sequences per pack (default: as many as fit PACK_BYTES of parameters and inputs). */
  packSize?: number;
}

/** Var(g_k | w₀) at every b for one step k, over all sequences and over each half of them. */
export interface PackedVarianceAtStep {
  step: number;
  points: VarianceAtStep[];
  /** The estimates from the even-numbered and the odd-numbered sequences alone. */
  folds: [VarianceAtStep[], VarianceAtStep[]];
}

/** Whether a model's sequences can run packed: a Sequential of the layers PackedMlp stacks (not dropout, not convolutions). */
export const canPackSequences = (model: Module): boolean =>
  model instanceof Sequential && model.layers.every((l) => l instanceof Flatten || l instanceof Linear || l instanceof Activation || l instanceof BatchNorm);

/** Memory a pack's parameters (with gradient and update) or its gathered inputs may take. */
const PACK_BYTES = 64 * 2 ** 20;

/** Running sums over the sequences of one fold at one (b, k): Σ e_r, the ‖e_r‖², R. */
interface Accumulator {
  sum: T.Tensor | undefined;
  squares: number[];
}

/** The serial estimate (along-training.ts) from the sums: (Σ‖e_r‖² − R‖δ‖²)/(R − 1), its standard error from the ‖e_r‖². */
function estimate(b: number, parts: readonly Accumulator[]): VarianceAtStep {
  const squares = parts.flatMap((p) => p.squares);
  const r = squares.length;
  const sums = parts.map((p) => p.sum).filter((s): s is T.Tensor => s !== undefined);
  const deltaSq = T.tidy(() => (sums.reduce((a, s) => a.add(s)).div(r).square().sum().item()));
  const { mean, standardError } = sampleStatistics(squares);
  const unbias = r / (r - 1);
  return { b, variance: (mean - deltaSq) * unbias, standardError: standardError * unbias };
}

/**
 * How many sequences go in one pack (their parameters, gradients and gradient rows within PACK_BYTES) and
 * how many examples per micro-batch (a pack's gathered float32 inputs within PACK_BYTES).
 */
function packShape(parameterCount: number, exampleFloats: number, b: number, sequences: number, packSize: number | undefined): { pack: number; micro: number } {
  const pack = packSize ?? Math.max(1, Math.min(sequences, Math.floor(PACK_BYTES / (4 * 4 * parameterCount))));
  const micro = Math.max(1, Math.min(b, Math.floor(PACK_BYTES / (4 * pack * exampleFloats))));
  return { pack, micro };
}

/** The members' batch indices [K, b] for one step, each from its own generator (the serial code's draws: randint, or randperm's first b), in one native call. */
function drawIndices(generators: readonly T.Generator[], n: number, b: number, replacement: boolean): T.Tensor {
  return replacement ? T.randintRows(generators, 0, n, b) : T.randpermRows(generators, n, b);
}

export function gradientVarianceAlongTrainingPacked(o: PackedAlongTrainingOptions): PackedVarianceAtStep[] {
  const n = o.data.x.shape[0]!;
  const io = { inputShape: o.data.inputShape, outputs: o.data.outputs };
  const loss = modelInfo(o.model.name).defaultLoss;
  const w0 = o.initial.stateDict();
  const parameterCount = o.initial.parameters().reduce((s, p) => s + p.numel, 0);
  const exampleFloats = o.data.inputShape.reduce((a, c) => a * c, 1);
  const last = Math.max(...o.steps);
  const recorded = new Set(o.steps);
  const replacement = o.replacement ?? true;
  // Linear networks under half-MSE: each gradient from the batch's second moments where that is cheaper.
  const moments = momentGradientPays(o.initial, loss);
  const perB = o.batchSizes.map((b) => {
    // The running sums of each step k, per fold.
    const acc = new Map(o.steps.map((k) => [k, [{ sum: undefined, squares: [] }, { sum: undefined, squares: [] }] as Accumulator[]]));
    const shift = new Map<number, T.Tensor>();
    for (let first = 0; first < o.sequences; ) {
      const members: Module[] = [];
      let pack: PackedMlp | undefined;
      // Hundreds of thousands of generators per measurement: each is disposed with its pack, not left to V8.
      const generators: T.Generator[] = [];
      const { pack: size, micro } = packShape(parameterCount, exampleFloats, b, o.sequences, o.packSize);
      const count = Math.min(size, o.sequences - first);
      try {
        // One generator for the members' throwaway initialization: every member is then loaded with w₀.
        const init = new T.Generator(0);
        for (let r = 0; r < count; r++) {
          const m = buildModel(o.model, io, init);
          m.loadStateDict(w0);
          members.push(m);
        }
        init.dispose();
        pack = new PackedMlp(members);
        for (let r = 0; r < count; r++) generators.push(new T.Generator(sequenceSeed(o.seed ?? 0, b, first + r)));
        const params = pack.parameters();
        for (let k = 0; k <= last; k++) {
          T.tidy(() => {
            const indices = drawIndices(generators, n, b, replacement);
            const grads = moments ? linearMomentGradient(params, o.data, indices, micro) : packedBatchGradient(pack!, loss, o.data, indices, micro).grads;
            if (recorded.has(k)) accumulate(acc.get(k)!, shift, k, grads, first);
            if (k < last) T.noGrad(() => T.listAdd_(params, grads, -o.lr));
          });
        }
      } finally {
        pack?.dispose();
        for (const m of members) m.dispose();
        for (const g of generators) g.dispose();
      }
      first += count;
    }
    // Per step k: the whole and each half (fold) of the sequences at this b.
    const result = o.steps.map((k) => {
      const folds = acc.get(k)!;
      return { all: estimate(b, folds), halves: [estimate(b, [folds[0]!]), estimate(b, [folds[1]!])] as const };
    });
    for (const folds of acc.values()) T.dispose(folds.flatMap((f) => (f.sum ? [f.sum] : [])));
    T.dispose([...shift.values()]);
    return result;
  });
  return o.steps.map((step, i) => ({
    step,
    points: perB.map((r) => r[i]!.all),
    folds: [perB.map((r) => r[i]!.halves[0]), perB.map((r) => r[i]!.halves[1])],
  }));
}

/** Adds one pack's gradients at step k to the fold sums (member r of the pack is sequence first + r). */
function accumulate(folds: Accumulator[], shift: Map<number, T.Tensor>, k: number, grads: readonly T.Tensor[], first: number): void {
  const members = grads[0]!.shape[0]!;
  // Each member's gradient as one row, in double: the variance is a sum of squares over parameters, which no layout changes.
  const flat = T.cat(grads.map((g) => g.reshape([members, -1])), 1).double();
  if (!shift.has(k)) shift.set(k, T.keep(flat.mean(0)));
  const e = flat.sub(shift.get(k)!);
  const squares = e.square().sum(1).toArray() as number[];
  for (const fold of [0, 1] as const) {
    // Sequence first + r is in fold (first + r) mod 2.
    const rows = Array.from({ length: members }, (_, r) => r).filter((r) => (first + r) % 2 === fold);
    if (rows.length === 0) continue;
    const part = e.indexSelect(0, T.tensor(rows, { dtype: 'int64' })).sum(0);
    const f = folds[fold]!;
    const next = T.keep(f.sum ? f.sum.add(part) : part.clone());
    f.sum?.dispose();
    f.sum = next;
    for (const r of rows) f.squares.push(squares[r]!);
  }
}
