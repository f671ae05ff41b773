/**
 * K models of one multilayer-perceptron architecture (the zoo's Sequential of Flatten, Linear,
 * BatchNorm and activations) packed into one: every parameter and buffer stacked along a new leading
 * member dimension, the K forward passes as one batched matrix product per layer, each member with
 * its own batch-norm statistics. What a packed sweep trains (issue 23, src/train/packed.ts).
 *
 * Legend: K = members, B = examples per member, C = features of a layer.
 *   Linear weight [K, in, out] (member k's is the transpose of its model's [out, in], so that x W is a
 *   batched product of contiguous matrices whose weight gradient comes out contiguous), bias [K, out];
 *   BatchNorm weight, bias, running_mean, running_var [K, C];
 *   activations [K, B, C]; an input shared by every member (evaluation) is [B, …].
 */
import * as T from '../tensor/index.js';
import { Activation, BatchNorm, Flatten, Linear, type ActivationName } from './layers.js';
import { Sequential, type Module } from './module.js';

type PackedLayer =
  | { kind: 'flatten' }
  | { kind: 'activation'; activation: ActivationName }
  | { kind: 'linear'; name: string; weight: T.Tensor; bias?: T.Tensor }
  | {
    kind: 'batch-norm'; name: string; weight: T.Tensor; bias: T.Tensor; runningMean: T.Tensor; runningVar: T.Tensor;
    eps: number; momentum: number | null; ghostBatchSize: number | undefined; batchesTracked: number;
  };

/** The members' tensors of one parameter or buffer, stacked along dim 0 (a copy the pack owns); `transposed`: each matrix transposed. */
const stacked = (tensors: readonly T.Tensor[], parameter: boolean, transposed = false): T.Tensor => {
  const s = T.tidy(() => T.keep(T.noGrad(() => T.stack(tensors.map((t) => (transposed ? t.detach().t() : t.detach())), 0))));
  return parameter ? s.requiresGrad_() : s;
};

function activationOf(kind: ActivationName, x: T.Tensor): T.Tensor {
  return new Activation(kind).forward(x);
}

/**
 * x_k W_kᵀ + b_k for every member k: x [K, B, in] with the stacked W_kᵀ [K, in, out] in one batched product
 * (bmm), or an input x [B, in] shared by the members, which matmul broadcasts. On one CPU thread this costs
 * what K single-model products cost (the same multiply-adds; forward and backward measured at B = 16 and 256):
 * packing saves the per-operation overhead of K models, not arithmetic. The weight gradient is contiguous
 * [K, in, out], so the optimizer's elementwise passes over it run at full speed (on a transposed gradient
 * they took 10× longer).
 */
function packedLinear(x: T.Tensor, weight: T.Tensor, bias: T.Tensor | undefined, shared: boolean): T.Tensor {
  const product = shared ? T.matmul(x, weight) : T.bmm(x, weight);
  if (!bias) return product;
  const out = product.add(bias.unsqueeze(1));
  product.dispose();
  return out;
}

export class PackedMlp {
  /** Training mode: batch statistics in batch norm (as Module.training). */
  training = true;
  readonly #layers: PackedLayer[];
  #members: readonly Module[];

  /**
   * Packs the members, which must be the same architecture (their weights may differ): the pack starts
   * from copies of their parameters and buffers, so member k starts exactly where its model is.
   */
  constructor(members: readonly Module[]) {
    this.#members = members;
    if (members.length === 0) throw new Error('PackedMlp: needs at least one member model');
    const layersOf = members.map((m, k) => {
      if (!(m instanceof Sequential)) throw new Error(`PackedMlp: member ${k} is a ${m.constructor.name}; only Sequential models of Flatten, Linear, BatchNorm and activations can be packed`);
      return m.layers;
    });
    const first = layersOf[0]!;
    const description = members[0]!.describe();
    members.forEach((m, k) => {
      if (m.describe() !== description) throw new Error(`PackedMlp: member ${k} is\n${m.describe()}\nbut member 0 is\n${description}\n(members must share the architecture)`);
    });
    this.#layers = first.map((layer, i): PackedLayer => {
      const all = layersOf.map((ls) => ls[i]!);
      const name = String(i);
      if (layer instanceof Flatten) return { kind: 'flatten' };
      if (layer instanceof Activation) return { kind: 'activation', activation: layer.kind };
      if (layer instanceof Linear) {
        const linears = all as Linear[];
        return {
          kind: 'linear', name, weight: stacked(linears.map((l) => l.weight), true, true),
          ...(layer.bias ? { bias: stacked(linears.map((l) => l.bias!), true) } : {}),
        };
      }
      if (layer instanceof BatchNorm) {
        const norms = all as BatchNorm[];
        const tracked = norms.map((b) => b.numBatchesTracked.item());
        if (tracked.some((t) => t !== tracked[0])) throw new Error(`PackedMlp: layer ${i}: the members' batch norms have tracked different numbers of batches (${tracked.join(', ')})`);
        return {
          kind: 'batch-norm', name,
          weight: stacked(norms.map((b) => b.weight), true), bias: stacked(norms.map((b) => b.bias), true),
          runningMean: stacked(norms.map((b) => b.runningMean), false), runningVar: stacked(norms.map((b) => b.runningVar), false),
          eps: layer.eps, momentum: layer.momentum, ghostBatchSize: layer.ghostBatchSize, batchesTracked: tracked[0]!,
        };
      }
      throw new Error(`PackedMlp: layer ${i} (${layer.describe()}) cannot be packed; packable layers: Flatten, Linear, BatchNorm, activations (no dropout: its masks come from each member's own generator)`);
    });
  }

  /** The member models, in slot order (slot k of every stacked tensor is members[k]'s). */
  get members(): readonly Module[] {
    return this.#members;
  }

  get size(): number {
    return this.#members.length;
  }

  /** The most features any layer takes or gives (the widest activation per example). */
  get widestFeatures(): number {
    return Math.max(0, ...this.#layers.map((l) => (l.kind === 'linear' ? Math.max(l.weight.shape[1]!, l.weight.shape[2]!) : 0)));
  }

  /** Whether a layer normalizes with batch statistics (a member's micro-batch is then its normalization batch). */
  get hasBatchNorm(): boolean {
    return this.#layers.some((l) => l.kind === 'batch-norm');
  }

  /** The stacked parameters, in the members' parameters() order (the pack's own tensors). */
  parameters(): T.Tensor[] {
    return this.#layers.flatMap((l) => {
      if (l.kind === 'linear') return l.bias ? [l.weight, l.bias] : [l.weight];
      if (l.kind === 'batch-norm') return [l.weight, l.bias];
      return [];
    });
  }

  /**
   * Logits [K, B, outputs] of per-member inputs x [K, B, …], or of one input [B, …] shared by every
   * member (evaluation on the same examples). In training mode, each member's batch norm normalizes
   * with the statistics of its own batch and updates its own running statistics.
   */
  forward(x: T.Tensor, options: { shared?: boolean } = {}): T.Tensor {
    let shared = options.shared ?? false;
    let h = x;
    for (const layer of this.#layers) {
      let next: T.Tensor;
      switch (layer.kind) {
        case 'flatten':
          next = h.flatten(shared ? 1 : 2);
          break;
        case 'activation':
          next = activationOf(layer.activation, h);
          break;
        case 'linear':
          next = packedLinear(h, layer.weight, layer.bias, shared);
          shared = false;
          break;
        case 'batch-norm':
          if (shared) throw new Error('PackedMlp: a batch norm before the first linear layer is not packable');
          next = this.#batchNorm(layer, h);
          break;
      }
      // Free each intermediate as soon as the next layer has it (as Sequential.forward does; autograd keeps what backward needs).
      if (h !== x && next !== h) h.dispose();
      h = next;
    }
    return h;
  }

  #batchNorm(layer: Extract<PackedLayer, { kind: 'batch-norm' }>, h: T.Tensor): T.Tensor {
    const [k, b, c] = h.shape as [number, number, number];
    const normalize = (chunk: T.Tensor): T.Tensor => {
      let momentum = layer.momentum ?? 0;
      if (this.training) {
        layer.batchesTracked += 1;
        if (layer.momentum === null) momentum = 1 / layer.batchesTracked;
      }
      const rows = chunk.shape[1]!;
      // [K, B, C] → [B, K·C]: the K·C (member, feature) pairs are the channels of one batch norm, so each
      // member is normalized with its own batch's statistics and updates its own slice of the running
      // statistics (views of the [K, C] buffers, updated in place by libtorch).
      const wide = chunk.transpose(0, 1).reshape([rows, k * c]);
      const out = T.batchNorm(wide, {
        weight: layer.weight.reshape([k * c]), bias: layer.bias.reshape([k * c]),
        runningMean: layer.runningMean.view([k * c]), runningVar: layer.runningVar.view([k * c]),
        training: this.training, momentum, eps: layer.eps,
      });
      return out.view([rows, k, c]).transpose(0, 1);
    };
    const ghost = layer.ghostBatchSize;
    if (!this.training || ghost === undefined || b <= ghost) return normalize(h);
    // Ghost batch norm, as BatchNorm.forward: each consecutive chunk of a member's batch on its own.
    return T.cat(h.split(ghost, 1).map(normalize), 1);
  }

  /**
   * Member k's parameters and buffers under its model's state-dict names ('1.weight', '2.running_mean',
   * '2.num_batches_tracked', …), as new tensors the caller owns.
   */
  memberStateDict(k: number): Map<string, T.Tensor> {
    this.#checkMember(k);
    const out = new Map<string, T.Tensor>();
    T.tidy(() => T.noGrad(() => {
      for (const l of this.#layers) {
        const take = (t: T.Tensor) => T.keep(t.select(0, k).clone());
        if (l.kind === 'linear') {
          out.set(`${l.name}.weight`, T.keep(this.toMemberLayout(l.weight, l.weight.select(0, k)).contiguous()));
          if (l.bias) out.set(`${l.name}.bias`, take(l.bias));
        } else if (l.kind === 'batch-norm') {
          out.set(`${l.name}.weight`, take(l.weight));
          out.set(`${l.name}.bias`, take(l.bias));
          out.set(`${l.name}.running_mean`, take(l.runningMean));
          out.set(`${l.name}.running_var`, take(l.runningVar));
          out.set(`${l.name}.num_batches_tracked`, T.keep(T.tensor(l.batchesTracked, { dtype: 'int64' })));
        }
      }
    }));
    return out;
  }

  /**
   * A member's slice of a stacked parameter (or of optimizer state shaped like it) in the layout of the
   * member's own model: a linear weight's slice [in, out] is transposed back to [out, in]; others as they are.
   */
  toMemberLayout(stackedParameter: T.Tensor, slice: T.Tensor): T.Tensor {
    const linear = this.#layers.some((l) => l.kind === 'linear' && l.weight === stackedParameter);
    return linear ? slice.t() : slice;
  }

  /** Copies member k's current weights and statistics into its model (members[k]). */
  writeMember(k: number): Module {
    const state = this.memberStateDict(k);
    try {
      this.#members[k]!.loadStateDict(state);
    } finally {
      T.dispose([...state.values()]);
    }
    return this.#members[k]!;
  }

  /**
   * Keeps only the members in `slots` (increasing), in that order: every stacked parameter and buffer
   * becomes its rows `slots` (index_select along the member dimension, a copy: the kept members' values
   * exactly), so a member that left the pack (pruned, diverged) costs no more arithmetic. The stacked
   * parameters are new tensors afterwards: an optimizer over them must keep the same slots
   * (PackedOptimizer.keepMembers with the new parameters()).
   */
  keepMembers(slots: readonly number[]): void {
    if (slots.length === 0) throw new Error('PackedMlp.keepMembers: a pack keeps at least one member');
    slots.forEach((k, i) => {
      this.#checkMember(k);
      if (i > 0 && k <= slots[i - 1]!) throw new Error(`PackedMlp.keepMembers: slots must increase; got ${slots.join(', ')}`);
    });
    const rows = (t: T.Tensor, parameter: boolean): T.Tensor => {
      const kept = T.tidy(() => T.keep(T.noGrad(() => t.detach().indexSelect(0, T.tensor([...slots], { dtype: 'int64', device: T.deviceOf(t) })))));
      t.dispose();
      return parameter ? kept.requiresGrad_() : kept;
    };
    for (const l of this.#layers) {
      if (l.kind === 'linear') {
        l.weight = rows(l.weight, true);
        if (l.bias) l.bias = rows(l.bias, true);
      } else if (l.kind === 'batch-norm') {
        l.weight = rows(l.weight, true);
        l.bias = rows(l.bias, true);
        l.runningMean = rows(l.runningMean, false);
        l.runningVar = rows(l.runningVar, false);
      }
    }
    this.#members = slots.map((k) => this.#members[k]!);
  }

  #checkMember(k: number): void {
    if (!(Number.isInteger(k) && k >= 0 && k < this.size)) throw new Error(`PackedMlp: member ${k} does not exist; members are 0…${this.size - 1}`);
  }

  /** Frees the pack's tensors (the member models stay their owner's). */
  dispose(): void {
    for (const l of this.#layers) {
      if (l.kind === 'linear') T.dispose([l.weight, ...(l.bias ? [l.bias] : [])]);
      else if (l.kind === 'batch-norm') T.dispose([l.weight, l.bias, l.runningMean, l.runningVar]);
    }
  }
}
