/**
 * Optimizers for K packed members (src/nn/packed-mlp.ts): torch.optim.SGD's and Adam/AdamW's update
 * rules, as src/optim/optimizer.ts writes them for one model, applied to stacked parameters [K, …].
 * Each member has its own learning rate, momentum, dampening, weight decay, betas and eps (as [K, 1, …, 1]
 * columns that broadcast over a stacked parameter) and its own state: its slices of stacked momentum and
 * moment buffers. Members leave (a pruned or diverged run): keepMembers keeps the others' rows of every
 * per-member state, as PackedMlp.keepMembers keeps their rows of the parameters.
 */
import * as T from '../tensor/index.js';
import type { AdamOptions, SGDOptions } from './optimizer.js';

export interface PackedOptimizer {
  /** The stacked parameters it updates (replaced by keepMembers). */
  readonly params: readonly T.Tensor[];
  /** Each member's learning rate for the next step, in slot order (a schedule sets them). */
  lrs: number[];
  /** Updates every member's parameters in place from the stacked gradients (one per parameter). */
  step(grads: readonly T.Tensor[]): void;
  /**
   * Member k's state under the single-model optimizer's names (momentum_buffer.i, exp_avg.i, …), as new
   * tensors the caller owns; `layout` puts parameter i's slice into the member model's layout (PackedMlp.toMemberLayout).
   */
  memberState(k: number, layout?: MemberLayout): Map<string, T.Tensor>;
  /**
   * Keeps only the members in `slots` (increasing, as PackedMlp.keepMembers was given): their options,
   * learning rates and rows of every state buffer, exactly; `params` are the pack's stacked parameters after
   * its own keepMembers, which this optimizer updates from then on.
   */
  keepMembers(slots: readonly number[], params: readonly T.Tensor[]): void;
  dispose(): void;
}

/** A stacked parameter's slice in the member model's layout. */
export type MemberLayout = (stackedParameter: T.Tensor, slice: T.Tensor) => T.Tensor;

/** values [K] as a [K, 1, …, 1] column on `like`'s device and dtype, broadcasting against it. */
function column(values: readonly number[], like: T.Tensor): T.Tensor {
  return T.tensor([...values], { dtype: like.dtype, device: T.deviceOf(like) }).view([values.length, ...Array<number>(like.rank - 1).fill(1)]);
}

/**
 * Columns of per-member values, kept while the values stay the same (a learning rate changes only with a
 * schedule): at small batches the number of operations per step is what a step costs.
 */
class Columns {
  readonly #cache = new Map<string, T.Tensor>();
  get(values: readonly number[], like: T.Tensor): T.Tensor {
    const key = `${like.rank}:${values.join(',')}`;
    let c = this.#cache.get(key);
    if (c === undefined) {
      if (this.#cache.size > 64) this.dispose();
      c = T.tidy(() => T.keep(column(values, like)));
      this.#cache.set(key, c);
    }
    return c;
  }
  dispose(): void {
    T.dispose([...this.#cache.values()]);
    this.#cache.clear();
  }
}

/** Stacked state buffers [K, …] like the parameters, created at the first step, owned by the optimizer. */
class StackedBuffers {
  #buffers: T.Tensor[] | undefined;
  get created(): boolean {
    return this.#buffers !== undefined;
  }
  of(params: readonly T.Tensor[]): T.Tensor[] {
    this.#buffers ??= params.map((p) => T.keep(T.zerosLike(p)));
    return this.#buffers;
  }
  slices(k: number, name: string, params: readonly T.Tensor[], layout: MemberLayout = (_, t) => t): [string, T.Tensor][] {
    return T.tidy(() => (this.#buffers ?? []).map((b, i): [string, T.Tensor] => [`${name}.${i}`, T.keep(layout(params[i]!, b.select(0, k)).contiguous())]));
  }
  /** Keeps the buffers' rows `slots` (index_select along the member dimension: a copy of those rows). */
  keep(slots: readonly number[]): void {
    if (this.#buffers === undefined) return;
    this.#buffers = this.#buffers.map((b) => {
      const kept = T.tidy(() => T.keep(b.indexSelect(0, T.tensor([...slots], { dtype: 'int64', device: T.deviceOf(b) }))));
      b.dispose();
      return kept;
    });
  }
  dispose(): void {
    T.dispose(this.#buffers ?? []);
    this.#buffers = undefined;
  }
}

function checkMembers(name: string, params: readonly T.Tensor[], members: readonly unknown[]): void {
  const k = params[0]?.shape[0];
  if (members.length === 0) throw new Error(`${name}: needs at least one member's options`);
  params.forEach((p, i) => {
    if (p.shape[0] !== members.length) throw new Error(`${name}: parameter ${i} has shape [${p.shape.join(', ')}], but ${members.length} members' options were given (its first dimension must be the member count ${k})`);
  });
}

/** The options and learning rates of the members in `slots`, checked against the new parameters. */
function keptMembers<O>(name: string, slots: readonly number[], params: readonly T.Tensor[], members: readonly O[], lrs: readonly number[]): [readonly T.Tensor[], O[], number[]] {
  slots.forEach((k, i) => {
    if (!(Number.isInteger(k) && k >= 0 && k < members.length) || (i > 0 && k <= slots[i - 1]!)) throw new Error(`${name}.keepMembers: slots must be increasing members 0…${members.length - 1}; got ${slots.join(', ')}`);
  });
  const kept = slots.map((k) => members[k]!);
  checkMembers(name, params, kept);
  return [params, kept, slots.map((k) => lrs[k]!)];
}

/** The same option for every member, or an error naming it. */
function sameForAll<V>(name: string, field: string, values: readonly V[]): V {
  const differs = values.findIndex((v) => v !== values[0]);
  if (differs >= 0) throw new Error(`${name}: ${field} must be the same for every member; member 0 has ${String(values[0])}, member ${differs} has ${String(values[differs])}`);
  return values[0]!;
}

/**
 * SGD as torch.optim.SGD, per member k: g ← g + wd_k·p; with momentum μ_k, b ← g at the first step and
 * b ← μ_k·b + (1 − dampening_k)·g after; direction g + μ_k·b (Nesterov) or b; p ← p − lr_k·direction.
 * A member without momentum (μ_k = 0) steps along g, as the single-model SGD does: its buffer equals g.
 */
export class PackedSGD implements PackedOptimizer {
  lrs: number[];
  #params: readonly T.Tensor[];
  #members: readonly SGDOptions[];
  get params(): readonly T.Tensor[] {
    return this.#params;
  }
  /** Each member's options, in slot order. */
  get members(): readonly SGDOptions[] {
    return this.#members;
  }
  readonly #momentum = new StackedBuffers();
  readonly #columns = new Columns();
  readonly #nesterov: boolean;
  constructor(params: readonly T.Tensor[], members: readonly SGDOptions[]) {
    checkMembers('PackedSGD', params, members);
    this.#params = params;
    this.#members = members;
    this.lrs = members.map((m) => m.lr);
    this.#nesterov = sameForAll('PackedSGD', 'nesterov', members.map((m) => m.nesterov ?? false));
    members.forEach((m, k) => {
      if (m.nesterov && !((m.momentum ?? 0) > 0 && (m.dampening ?? 0) === 0)) throw new Error(`PackedSGD: member ${k}: Nesterov momentum needs momentum > 0 and dampening 0`);
    });
  }
  step(grads: readonly T.Tensor[]): void {
    const momentum = this.members.map((m) => m.momentum ?? 0);
    const decay = this.members.map((m) => m.weightDecay ?? 0);
    // (1 − dampening) multiplies g in the buffer update; 1 for a member without momentum, whose buffer is g.
    const keep = this.members.map((m, k) => (momentum[k] === 0 ? 1 : 1 - (m.dampening ?? 0)));
    const withMomentum = momentum.some((m) => m !== 0);
    const column = (values: readonly number[], like: T.Tensor) => this.#columns.get(values, like);
    T.tidy(() => T.noGrad(() => {
      const first = !this.#momentum.created;
      const buffers = withMomentum ? this.#momentum.of(this.params) : [];
      this.params.forEach((p, i) => {
        let d = grads[i]!;
        if (decay.some((w) => w !== 0)) d = d.add(p.mul(column(decay, p)));
        if (withMomentum) {
          const buf = buffers[i]!;
          if (first) buf.copy_(d);
          else buf.mul_(column(momentum, p)).add_(keep.every((v) => v === 1) ? d : d.mul(column(keep, p)));
          d = this.#nesterov ? d.add(buf.mul(column(momentum, p))) : buf;
        }
        // p ← p − lr_k·d in one pass (addcmul_ broadcasts the [K, 1, …] column), as add_(d, −lr) does for one model.
        p.addcmul_(d, column(this.lrs.map((lr) => -lr), p));
      });
    }));
  }
  memberState(k: number, layout?: MemberLayout): Map<string, T.Tensor> {
    // The single-model SGD keeps a momentum buffer only when it has momentum.
    return new Map((this.members[k]!.momentum ?? 0) !== 0 ? this.#momentum.slices(k, 'momentum_buffer', this.params, layout) : []);
  }
  keepMembers(slots: readonly number[], params: readonly T.Tensor[]): void {
    [this.#params, this.#members, this.lrs] = keptMembers('PackedSGD', slots, params, this.#members, this.lrs);
    this.#momentum.keep(slots);
    this.#columns.dispose();
  }
  dispose(): void {
    this.#momentum.dispose();
    this.#columns.dispose();
  }
}

/**
 * Adam (Kingma & Ba 2015) as torch.optim.Adam / AdamW, per member k: m ← β₁m + (1 − β₁)g,
 * v ← β₂v + (1 − β₂)g², p ← p − (lr_k / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε), with β₁, β₂, ε, the
 * weight decay and the learning rate the member's own; every member has taken the same t steps.
 */
export class PackedAdam implements PackedOptimizer {
  lrs: number[];
  #params: readonly T.Tensor[];
  #members: readonly AdamOptions[];
  get params(): readonly T.Tensor[] {
    return this.#params;
  }
  /** Each member's options, in slot order. */
  get members(): readonly AdamOptions[] {
    return this.#members;
  }
  #t = 0;
  readonly #exp = new StackedBuffers();
  readonly #expSq = new StackedBuffers();
  readonly #columns = new Columns();
  readonly #decoupled: boolean;
  constructor(params: readonly T.Tensor[], members: readonly AdamOptions[]) {
    checkMembers('PackedAdam', params, members);
    this.#params = params;
    this.#members = members;
    this.lrs = members.map((m) => m.lr);
    this.#decoupled = sameForAll('PackedAdam', 'decoupled (Adam or AdamW)', members.map((m) => m.decoupled ?? false));
  }
  step(grads: readonly T.Tensor[]): void {
    this.#t += 1;
    const beta1 = this.members.map((m) => m.beta1 ?? 0.9);
    const beta2 = this.members.map((m) => m.beta2 ?? 0.999);
    const eps = this.members.map((m) => m.eps ?? 1e-8);
    const decay = this.members.map((m) => m.weightDecay ?? 0);
    const bc1 = beta1.map((b) => 1 - b ** this.#t);
    const sqrtBc2 = beta2.map((b) => Math.sqrt(1 - b ** this.#t));
    const stepSize = this.lrs.map((lr, k) => -lr / bc1[k]!);
    const column = (values: readonly number[], like: T.Tensor) => this.#columns.get(values, like);
    T.tidy(() => T.noGrad(() => {
      const ms = this.#exp.of(this.params);
      const vs = this.#expSq.of(this.params);
      this.params.forEach((p, i) => {
        let g = grads[i]!;
        if (decay.some((w) => w !== 0)) {
          if (this.#decoupled) p.mul_(column(this.lrs.map((lr, k) => 1 - lr * decay[k]!), p));
          else g = g.add(p.mul(column(decay, p)));
        }
        const m = ms[i]!;
        const v = vs[i]!;
        m.mul_(column(beta1, p)).add_(g.mul(column(beta1.map((b) => 1 - b), p)));
        v.mul_(column(beta2, p)).addcmul_(g, g.mul(column(beta2.map((b) => 1 - b), p)));
        const denom = v.sqrt().div_(column(sqrtBc2, p)).add_(column(eps, p));
        p.addcdiv_(m.mul(column(stepSize, p)), denom);
      });
    }));
  }
  get steps(): number {
    return this.#t;
  }
  memberState(k: number, layout?: MemberLayout): Map<string, T.Tensor> {
    const state = new Map([...this.#exp.slices(k, 'exp_avg', this.params, layout), ...this.#expSq.slices(k, 'exp_avg_sq', this.params, layout)]);
    state.set('step', T.keep(T.tensor(this.#t, { dtype: 'int64' })));
    return state;
  }
  keepMembers(slots: readonly number[], params: readonly T.Tensor[]): void {
    [this.#params, this.#members, this.lrs] = keptMembers('PackedAdam', slots, params, this.#members, this.lrs);
    this.#exp.keep(slots);
    this.#expSq.keep(slots);
    this.#columns.dispose();
  }
  dispose(): void {
    this.#exp.dispose();
    this.#expSq.dispose();
    this.#columns.dispose();
  }
}
