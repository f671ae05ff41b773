/**
 * Reverse-mode automatic differentiation (libtorch's autograd).
 *
 *   const [g] = grad([loss], [w], { createGraph: true });   // g keeps its graph
 *   const [hv] = grad([listDot([g], [v])], [w]);            // Hessian-vector product H·v
 */
import { N, Tensor, handleOf, run, wrap } from './tensor.js';

export interface BackwardOptions {
  /** ∂(something)/∂this to start from; required when this is not a scalar. */
  gradient?: Tensor;
  /** Keep the graph for another backward pass (default: createGraph). */
  retainGraph?: boolean;
  /** Record the backward pass itself, for higher derivatives. */
  createGraph?: boolean;
}

export interface GradOptions {
  /** Vectors v in the vector-Jacobian products vᵀ·∂outputs/∂inputs; default: ones for scalar outputs. */
  gradOutputs?: readonly Tensor[];
  retainGraph?: boolean;
  createGraph?: boolean;
  /** Return undefined for inputs the outputs do not depend on, instead of failing. */
  allowUnused?: boolean;
}

declare module './tensor.js' {
  interface Tensor {
    /** Accumulates ∂this/∂leaf into every leaf's .grad. */
    backward(options?: BackwardOptions): void;
  }
}

Tensor.prototype.backward = function (options: BackwardOptions = {}) {
  run('backward', [this], () =>
    N.backward(this.handle, options.gradient ? handleOf('backward', 'gradient', options.gradient) : null, options.retainGraph ?? null, options.createGraph ?? false));
};

/** The gradients of outputs with respect to inputs, without touching any .grad. */
export function grad(outputs: readonly Tensor[], inputs: readonly Tensor[], options: GradOptions = {}): (Tensor | undefined)[] {
  return run('grad', [outputs, inputs], () =>
    N.grad(
      outputs.map((t, i) => handleOf('grad', `outputs[${i}]`, t)),
      inputs.map((t, i) => handleOf('grad', `inputs[${i}]`, t)),
      options.gradOutputs ? options.gradOutputs.map((t, i) => handleOf('grad', `gradOutputs[${i}]`, t)) : null,
      options.retainGraph ?? null,
      options.createGraph ?? false,
      options.allowUnused ?? false,
    ).map((h) => (h === undefined ? undefined : wrap(h))),
  );
}

/** Like grad() for inputs that must all receive a gradient. */
export function gradients(outputs: readonly Tensor[], inputs: readonly Tensor[], options: Omit<GradOptions, 'allowUnused'> = {}): Tensor[] {
  return grad(outputs, inputs, options) as Tensor[];
}

export function isGradEnabled(): boolean {
  return N.isGradEnabled();
}

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = N.isGradEnabled();
  N.setGradEnabled(enabled);
  try {
    return fn();
  } finally {
    N.setGradEnabled(previous);
  }
}

/** Runs fn without recording operations for autograd (torch.no_grad()). */
export const noGrad = <T>(fn: () => T): T => withGradMode(false, fn);
/** Runs fn with recording on, inside a noGrad() (torch.enable_grad()). */
export const enableGrad = <T>(fn: () => T): T => withGradMode(true, fn);
