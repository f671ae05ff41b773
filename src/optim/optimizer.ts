/**
 * Optimizers, with PyTorch's update rules (torch.optim, 1.13) so that runs can be compared with
 * PyTorch step for step. Gradients are passed in explicitly (the trainer computes them, possibly
 * accumulated over micro-batches), and an optimizer may ask for them more than once per step
 * (the proximal step does).
 */
import * as T from '../tensor/index.js';

/** Computes the gradients of the current minibatch loss at the current parameters. */
export type GradientOracle = () => T.Tensor[];

export interface Optimizer {
  readonly params: readonly T.Tensor[];
  /** Learning rate used by the next step (schedules set it). */
  lr: number;
  /** Updates the parameters in place. */
  step(gradients: GradientOracle): void;
  /** State tensors by name, for checkpoints. */
  state(): Map<string, T.Tensor>;
  loadState(state: ReadonlyMap<string, T.Tensor>): void;
  dispose(): void;
}

/** Where an optimizer's parameters live (the CPU for none): its state lives there too. */
const parameterDevice = (params: readonly T.Tensor[]): T.Device => (params[0] ? T.deviceOf(params[0]) : 'cpu');

/** Per-parameter state buffers, created lazily, owned by the optimizer. */
export class StateBuffers {
  readonly #buffers = new Map<string, T.Tensor>();
  get(name: string, like: T.Tensor): T.Tensor {
    let b = this.#buffers.get(name);
    if (b === undefined) {
      b = T.keep(T.zerosLike(like));
      this.#buffers.set(name, b);
    }
    return b;
  }
  has(name: string): boolean {
    return this.#buffers.has(name);
  }
  entries(): Map<string, T.Tensor> {
    return new Map(this.#buffers);
  }
  /** Copies of the state's entries under `prefix`, on `device` (the parameters'): a snapshot is read onto the CPU. */
  load(state: ReadonlyMap<string, T.Tensor>, prefix: string, device: T.Device): void {
    for (const [k, v] of state) {
      if (!k.startsWith(prefix)) continue;
      this.#buffers.get(k)?.dispose();
      this.#buffers.set(k, T.keep(T.isOnDevice(v, device) ? v.clone() : v.to({ device })));
    }
  }
  dispose(): void {
    for (const b of this.#buffers.values()) b.dispose();
    this.#buffers.clear();
  }
}

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** L2 penalty added to the gradient (coupled weight decay). */
  weightDecay?: number;
}

/**
 * SGD as torch.optim.SGD: g ← g + wd·p; with momentum μ, b ← g at the first step and
 * b ← μ·b + (1 − dampening)·g after; the step direction is g + μ·b (Nesterov) or b; p ← p − lr·direction.
 */
export class SGD implements Optimizer {
  lr: number;
  readonly #buffers = new StateBuffers();
  constructor(readonly params: readonly T.Tensor[], readonly options: SGDOptions) {
    this.lr = options.lr;
    if (options.nesterov && !((options.momentum ?? 0) > 0 && (options.dampening ?? 0) === 0)) {
      throw new Error('SGD: Nesterov momentum needs momentum > 0 and dampening 0');
    }
  }
  step(gradients: GradientOracle): void {
    const { momentum = 0, dampening = 0, nesterov = false, weightDecay = 0 } = this.options;
    T.tidy(() => {
      const grads = gradients();
      T.noGrad(() => {
        this.params.forEach((p, i) => {
          let d = grads[i]!;
          if (weightDecay !== 0) d = d.add(p, weightDecay);
          if (momentum !== 0) {
            const name = `momentum_buffer.${i}`;
            const first = !this.#buffers.has(name);
            const buf = this.#buffers.get(name, p);
            if (first) buf.copy_(d);
            else buf.mul_(momentum).add_(d, 1 - dampening);
            d = nesterov ? d.add(buf, momentum) : buf;
          }
          p.add_(d, -this.lr);
        });
      });
    });
  }
  state(): Map<string, T.Tensor> {
    return this.#buffers.entries();
  }
  loadState(state: ReadonlyMap<string, T.Tensor>): void {
    this.#buffers.load(state, 'momentum_buffer.', parameterDevice(this.params));
  }
  dispose(): void {
    this.#buffers.dispose();
  }
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** AdamW (Loshchilov & Hutter 2019): decoupled decay p ← p·(1 − lr·wd) instead of an L2 gradient term. */
  decoupled?: boolean;
}

/**
 * Adam (Kingma & Ba 2015) as torch.optim.Adam / AdamW: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
 * p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε).
 */
export class Adam implements Optimizer {
  lr: number;
  #t = 0;
  readonly #buffers = new StateBuffers();
  constructor(readonly params: readonly T.Tensor[], readonly options: AdamOptions) {
    this.lr = options.lr;
  }
  step(gradients: GradientOracle): void {
    const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, decoupled = false } = this.options;
    this.#t += 1;
    const bc1 = 1 - beta1 ** this.#t;
    const bc2 = 1 - beta2 ** this.#t;
    T.tidy(() => {
      const grads = gradients();
      T.noGrad(() => {
        this.params.forEach((p, i) => {
          let g = grads[i]!;
          if (weightDecay !== 0) {
            if (decoupled) p.mul_(1 - this.lr * weightDecay);
            else g = g.add(p, weightDecay);
          }
          const m = this.#buffers.get(`exp_avg.${i}`, p);
          const v = this.#buffers.get(`exp_avg_sq.${i}`, p);
          m.mul_(beta1).add_(g, 1 - beta1);
          v.mul_(beta2).addcmul_(g, g, 1 - beta2);
          const denom = v.sqrt().div_(Math.sqrt(bc2)).add_(eps);
          p.addcdiv_(m, denom, -this.lr / bc1);
        });
      });
    });
  }
  get steps(): number {
    return this.#t;
  }
  /** The moment buffers (the optimizer's own) and a new 'step' tensor (the caller's). */
  state(): Map<string, T.Tensor> {
    const s = this.#buffers.entries();
    s.set('step', T.tensor(this.#t, { dtype: 'int64' }));
    return s;
  }
  loadState(state: ReadonlyMap<string, T.Tensor>): void {
    this.#buffers.load(state, 'exp_avg', parameterDevice(this.params));
    const step = state.get('step');
    if (step) this.#t = step.item();
  }
  dispose(): void {
    this.#buffers.dispose();
  }
}

export interface ProximalOptions {
  /** Strength λ of the proximal term (λ/2)‖x − x_k‖² (Keskar et al. suggest about 1e-3). */
  lambda: number;
  /** Inner optimizer steps per outer step. */
  innerSteps: number;
}

/**
 * The "conservative training" of Keskar et al. 2017 (§4): x_{k+1} = argmin_x f_B(x) + (λ/2)‖x − x_k‖²,
 * solved approximately by a few steps of an inner optimizer on the same minibatch B.
 */
export class Proximal implements Optimizer {
  constructor(readonly inner: Optimizer, readonly options: ProximalOptions) {
    if (!(options.lambda >= 0)) throw new Error(`proximal: lambda must be ≥ 0, got ${options.lambda}`);
    if (!(Number.isInteger(options.innerSteps) && options.innerSteps >= 1)) throw new Error(`proximal: innerSteps must be a positive integer, got ${options.innerSteps}`);
  }
  get params(): readonly T.Tensor[] {
    return this.inner.params;
  }
  get lr(): number {
    return this.inner.lr;
  }
  set lr(value: number) {
    this.inner.lr = value;
  }
  step(gradients: GradientOracle): void {
    const anchor = this.params.map((p) => T.keep(p.detach().clone()));
    try {
      for (let k = 0; k < this.options.innerSteps; k++) {
        // ∇[f_B(x) + (λ/2)‖x − x_k‖²] = ∇f_B(x) + λ(x − x_k)
        this.inner.step(() => gradients().map((g, i) => T.noGrad(() => g.add(this.params[i]!.sub(anchor[i]!), this.options.lambda))));
      }
    } finally {
      T.dispose(anchor);
    }
  }
  state(): Map<string, T.Tensor> {
    return this.inner.state();
  }
  loadState(state: ReadonlyMap<string, T.Tensor>): void {
    this.inner.loadState(state);
  }
  dispose(): void {
    this.inner.dispose();
  }
}
