/**
 * Modules: layers with named parameters and buffers, in PyTorch's naming scheme, so that a
 * state dict's keys ('0.weight', '3.running_mean', …) match the same nn.Sequential in PyTorch and
 * serve as checkpoint keys.
 *
 * Parameters and buffers are owned by their module (kept out of every tidy scope) and freed by
 * dispose(). forward() may be called inside tidy().
 */
import * as T from '../tensor/index.js';

export abstract class Module {
  /** Training mode (batch statistics, dropout) versus evaluation mode. */
  training = true;
  readonly #parameters = new Map<string, T.Tensor>();
  readonly #buffers = new Map<string, T.Tensor>();
  readonly #children = new Map<string, Module>();

  abstract forward(x: T.Tensor): T.Tensor;

  protected registerParameter(name: string, value: T.Tensor): T.Tensor {
    const p = T.keep(value.requiresGrad ? value : value.requiresGrad_());
    this.#parameters.set(name, p);
    return p;
  }
  protected registerBuffer(name: string, value: T.Tensor): T.Tensor {
    const b = T.keep(value);
    this.#buffers.set(name, b);
    return b;
  }
  /**
   * A registered parameter or buffer by name. Layers read their tensors through these on every use,
   * never from fields set once: to() replaces the tensors (libtorch cannot move one in place).
   */
  protected parameter(name: string): T.Tensor {
    const p = this.#parameters.get(name);
    if (!p) throw new Error(`${this.constructor.name}: no parameter '${name}'`);
    return p;
  }
  protected optionalParameter(name: string): T.Tensor | undefined {
    return this.#parameters.get(name);
  }
  protected buffer(name: string): T.Tensor {
    const b = this.#buffers.get(name);
    if (!b) throw new Error(`${this.constructor.name}: no buffer '${name}'`);
    return b;
  }
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.#children.set(name, module);
    return module;
  }

  /** Direct children, by name. */
  children(): [string, Module][] {
    return [...this.#children];
  }

  /** This module and all its descendants, depth first (as PyTorch's modules()). */
  modules(): Module[] {
    return [this, ...[...this.#children.values()].flatMap((c) => c.modules())];
  }

  /** Parameters in registration order, with dotted names ('0.weight'). */
  namedParameters(prefix = ''): [string, T.Tensor][] {
    const own = [...this.#parameters].map(([n, t]) => [prefix + n, t] as [string, T.Tensor]);
    return [...own, ...[...this.#children].flatMap(([n, m]) => m.namedParameters(`${prefix}${n}.`))];
  }
  parameters(): T.Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
  namedBuffers(prefix = ''): [string, T.Tensor][] {
    const own = [...this.#buffers].map(([n, t]) => [prefix + n, t] as [string, T.Tensor]);
    return [...own, ...[...this.#children].flatMap(([n, m]) => m.namedBuffers(`${prefix}${n}.`))];
  }
  /** Number of trainable scalars. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }

  /** Parameters and buffers by name, as PyTorch's state_dict(). The tensors are the module's own. */
  stateDict(): Map<string, T.Tensor> {
    const out = new Map<string, T.Tensor>();
    const walk = (m: Module, prefix: string) => {
      for (const [n, t] of m.#parameters) out.set(prefix + n, t);
      for (const [n, t] of m.#buffers) out.set(prefix + n, t);
      for (const [n, c] of m.#children) walk(c, `${prefix}${n}.`);
    };
    walk(this, '');
    return out;
  }

  /**
   * Copies values into the module's parameters and buffers. Every key must match in name, shape
   * and (after conversion) dtype; with strict (default), no key may be missing or extra.
   */
  loadStateDict(state: ReadonlyMap<string, T.Tensor>, options: { strict?: boolean } = {}): void {
    const own = this.stateDict();
    const strict = options.strict ?? true;
    if (strict) {
      const missing = [...own.keys()].filter((k) => !state.has(k));
      const unexpected = [...state.keys()].filter((k) => !own.has(k));
      if (missing.length > 0 || unexpected.length > 0) {
        throw new Error(`loadStateDict: the state does not match the model${missing.length ? `; missing: ${missing.join(', ')}` : ''}${unexpected.length ? `; unexpected: ${unexpected.join(', ')}` : ''}`);
      }
    }
    T.noGrad(() => {
      for (const [name, target] of own) {
        const source = state.get(name);
        if (source === undefined) continue;
        if (source.shape.join() !== target.shape.join()) {
          throw new Error(`loadStateDict: '${name}' has shape [${source.shape.join(', ')}] but the model expects [${target.shape.join(', ')}]`);
        }
        T.tidy(() => {
          target.copy_(source.dtype === target.dtype ? source : source.to(target.dtype));
        });
      }
    });
  }

  /**
   * Moves every parameter and buffer, of this module and its descendants, to `device` (PyTorch's
   * module.to): each tensor not there already is replaced by a copy on the device and the original is
   * freed. Tensors taken from the module before (parameters(), stateDict()) are then stale: take
   * them after. Parameters stay leaves that require gradients.
   */
  to(device: T.Device): this {
    for (const m of this.modules()) {
      for (const [name, t] of m.#parameters) m.#parameters.set(name, movedCopy(t, device, true));
      for (const [name, t] of m.#buffers) m.#buffers.set(name, movedCopy(t, device, false));
    }
    return this;
  }

  train(mode = true): this {
    this.training = mode;
    for (const c of this.#children.values()) c.train(mode);
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const t of this.#parameters.values()) t.dispose();
    for (const t of this.#buffers.values()) t.dispose();
    for (const c of this.#children.values()) c.dispose();
  }

  /** A one-line description, e.g. Linear(784 → 512). */
  describe(): string {
    return this.constructor.name;
  }
}

/** `t` itself when it is on `device` already; otherwise a kept copy there (a leaf parameter if asked), and `t` is freed. */
function movedCopy(t: T.Tensor, device: T.Device, parameter: boolean): T.Tensor {
  if (T.isOnDevice(t, device)) return t;
  const moved = T.keep(T.noGrad(() => t.detach().to({ device })));
  if (parameter) moved.requiresGrad_(true);
  t.dispose();
  return moved;
}

/** Modules applied in order; children are named '0', '1', … as in torch.nn.Sequential. */
export class Sequential extends Module {
  readonly layers: readonly Module[];
  constructor(layers: readonly Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }
  forward(x: T.Tensor): T.Tensor {
    let h = x;
    for (const layer of this.layers) {
      const next = layer.forward(h);
      // Free each intermediate activation as soon as the next layer has consumed it, as Python's
      // reference counting does (autograd holds its own references to what backward needs): the
      // allocator then reuses memory that is still in cache. Measured: a CNN step at batch 256.
      if (h !== x && next !== h) h.dispose();
      h = next;
    }
    return h;
  }
  override describe(): string {
    return `Sequential(\n${this.layers.map((l, i) => `  (${i}) ${l.describe()}`).join('\n')}\n)`;
  }
}

/**
 * Runs fn with every module of the model in training (`true`) or evaluation mode and puts each back
 * in the mode it was in, whatever fn does.
 */
export function inMode<R>(model: Module, training: boolean, fn: () => R): R {
  const modules = model.modules();
  const modes = modules.map((m) => m.training);
  model.train(training);
  try {
    return fn();
  } finally {
    modules.forEach((m, i) => (m.training = modes[i]!));
  }
}

/**
 * Runs fn with the model in evaluation mode (batch norm with its running statistics, no dropout): what
 * every measurement of a point does, without flipping a caller's model behind its back (PyHessian does).
 */
export const inEvaluationMode = <R>(model: Module, fn: () => R): R => inMode(model, false, fn);
