/**
 * Adversarial examples on inputs, for robust training min_θ E max_{‖Δ‖ ≤ ε} ℓ(θ; x + Δ, y) (Keskar et al.
 * 2017 §4 list it among the remedies) and for measuring robustness:
 *   FGSM (Goodfellow et al. 2015):  x' = Π(x + ε·sign(∇ₓℓ))            (L∞), x + ε·∇ₓℓ/‖∇ₓℓ‖₂ (L2);
 *   PGD  (Madry et al. 2018):       x_{t+1} = Π(x_t + α·sign(∇ₓℓ(x_t))) for k steps, from a random
 *                                   start in the ball (L2: α·∇/‖∇‖₂), Π the projection onto the ball
 *                                   around x, then onto the valid range.
 * ε, the ball and the valid range are in the units of the raw data (image pixels in [0, 1]): the attack
 * runs on x_raw = x·std + mean and feeds (x_raw − mean)/std to the model, so the result stays in the
 * normalized image of [0, 1] whatever the normalization. For L2, projecting onto the ball and then
 * clamping to the range keeps both constraints (clamping only moves coordinates toward x, which is in
 * range, so ‖Δ‖₂ can only shrink); for L∞ it is the exact projection onto the intersection.
 *
 * The model's mode during the attack is a stated choice (`mode`):
 *   'eval' (default) — batch norm uses its running statistics and dropout is off, so each example's
 *     perturbation depends on that example alone and the attack's forward passes change nothing in the
 *     model (the usual choice of PyTorch robustness code, and what `measure robustness` uses);
 *   'train' — batch statistics of the attacked batch (and dropout, drawn from the model's generator);
 *     the running statistics are restored afterwards, so only the training step itself moves them.
 */
import * as T from '../tensor/index.js';
import { inMode, type LossName, type Module } from '../nn/index.js';
import { lossValue } from './loss.js';

export type AttackNorm = 'linf' | 'l2';

export interface AttackSpec {
  attack: 'fgsm' | 'pgd';
  norm: AttackNorm;
  /** Radius of the ball, in raw input units (pixels in [0, 1]). */
  epsilon: number;
  /** PGD iterations (default 10); FGSM takes one. */
  steps?: number;
  /** Step size α (default: ε for FGSM, 2.5·ε/steps for PGD as in Madry et al.). */
  stepSize?: number;
  /** Start from a uniform point of the ball (default: true for PGD, false for FGSM). */
  randomStart?: boolean;
  /** Model mode during the attack (default 'eval'; see above). */
  mode?: 'eval' | 'train';
}

/** Where the inputs live: the normalization applied to them and the range of the raw values. */
export interface InputSpace {
  normalization?: { mean: number[]; std: number[] };
  range?: { low: number; high: number };
}

export const attackSteps = (spec: AttackSpec): number => (spec.attack === 'fgsm' ? 1 : spec.steps ?? 10);
export const attackStepSize = (spec: AttackSpec): number => spec.stepSize ?? (spec.attack === 'fgsm' ? spec.epsilon : (2.5 * spec.epsilon) / attackSteps(spec));

/** Per-channel statistics shaped to broadcast against x ([1, C, 1, 1] for images, [1, D] for vectors). */
function channelTensors(x: T.Tensor, space: InputSpace): { mean: T.Tensor; std: T.Tensor } | undefined {
  const n = space.normalization;
  if (!n) return undefined;
  const shape = [1, n.mean.length, ...new Array<number>(Math.max(0, x.rank - 2)).fill(1)];
  const to = { dtype: x.dtype, device: T.deviceOf(x) };
  return { mean: T.tensor(n.mean, { shape }).to(to), std: T.tensor(n.std, { shape }).to(to) };
}

/** Per-example L2 norms over every dimension but the first, shaped [B, 1, …] to broadcast. */
function exampleNorms(t: T.Tensor): T.Tensor {
  return t.flatten(1).norm(2, [1]).maximum(1e-12).reshape([t.shape[0]!, ...new Array<number>(t.rank - 1).fill(1)]);
}

/** A uniform point of the ε-ball around 0 for each example (L∞: a cube; L2: direction uniform, radius ε·u^{1/d}). */
function randomStartDelta(like: T.Tensor, norm: AttackNorm, epsilon: number, g: T.Generator): T.Tensor {
  if (norm === 'linf') return T.rand(like.shape, { generator: g, dtype: like.dtype, device: T.deviceOf(like) }).mul(2 * epsilon).sub(epsilon);
  const z = T.randn(like.shape, { generator: g, dtype: like.dtype, device: T.deviceOf(like) });
  const d = like.numel / like.shape[0]!;
  const radius = T.rand([like.shape[0]!], { generator: g, dtype: like.dtype, device: T.deviceOf(like) }).pow(1 / d).mul(epsilon).reshape([like.shape[0]!, ...new Array<number>(like.rank - 1).fill(1)]);
  return z.div(exampleNorms(z)).mul(radius);
}

/** Projects raw onto the ε-ball around raw0 (per example), then onto the valid range. */
function project(raw: T.Tensor, raw0: T.Tensor, norm: AttackNorm, epsilon: number, range: InputSpace['range']): T.Tensor {
  let out: T.Tensor;
  if (norm === 'linf') out = raw.maximum(raw0.sub(epsilon)).minimum(raw0.add(epsilon));
  else {
    const delta = raw.sub(raw0);
    out = raw0.add(delta.mul(exampleNorms(delta).reciprocal().mul(epsilon).minimum(1)));
  }
  return range ? out.clamp(range.low, range.high) : out;
}

/** Runs fn with the model in the attack's mode; in training mode the buffers (batch-norm running statistics) are restored. */
function inAttackMode<R>(model: Module, mode: 'eval' | 'train', fn: () => R): R {
  const saved = mode === 'train' ? model.namedBuffers().map(([, b]) => [b, T.keep(b.clone())] as const) : [];
  try {
    return inMode(model, mode === 'train', fn);
  } finally {
    T.noGrad(() => saved.forEach(([b, copy]) => b.copy_(copy)));
    T.dispose(saved.map(([, copy]) => copy));
  }
}

/**
 * Adversarial versions of the (normalized) inputs x for labels y: the attack's result, normalized as x
 * is, without gradient history. `g` draws the random start (required when the attack starts at random).
 */
export function adversarialExamples(model: Module, loss: LossName, x: T.Tensor, y: T.Tensor, spec: AttackSpec, space: InputSpace, g?: T.Generator): T.Tensor {
  const steps = attackSteps(spec);
  const alpha = attackStepSize(spec);
  const randomStart = spec.randomStart ?? spec.attack === 'pgd';
  if (randomStart && !g) throw new Error('adversarialExamples: a random start needs a generator');
  return inAttackMode(model, spec.mode ?? 'eval', () => T.tidy(() => {
    const stats = channelTensors(x, space);
    const toRaw = (t: T.Tensor) => (stats ? t.mul(stats.std).add(stats.mean) : t);
    const toModel = (t: T.Tensor) => (stats ? t.sub(stats.mean).div(stats.std) : t);
    const raw0 = T.noGrad(() => toRaw(x.detach()));
    let raw = randomStart ? T.noGrad(() => project(raw0.add(randomStartDelta(raw0, spec.norm, spec.epsilon, g!)), raw0, spec.norm, spec.epsilon, space.range)) : raw0;
    for (let k = 0; k < steps; k++) {
      const next = T.tidy(() => {
        const leaf = raw.detach().requiresGrad_();
        const value = T.enableGrad(() => lossValue(loss, model.forward(toModel(leaf)), y));
        const [grad] = T.gradients([value], [leaf]);
        return T.noGrad(() => {
          const direction = spec.norm === 'linf' ? grad!.sign() : grad!.div(exampleNorms(grad!));
          return project(raw.add(direction, alpha), raw0, spec.norm, spec.epsilon, space.range);
        });
      });
      if (raw !== raw0) raw.dispose();
      raw = next;
    }
    return T.noGrad(() => toModel(raw));
  }));
}

/**
 * A training minibatch with its first round(fraction·B) examples replaced by adversarial ones (Kurakin et
 * al. 2017's mix; fraction 1: Madry et al.'s all-adversarial batch; 0.5 is Goodfellow et al.'s equal
 * weighting of clean and adversarial loss). The batch order is already random, so the first k are a
 * random k.
 */
export function adversarialBatch(model: Module, loss: LossName, x: T.Tensor, y: T.Tensor, spec: AttackSpec & { fraction?: number }, space: InputSpace, g: T.Generator): T.Tensor {
  const b = x.shape[0]!;
  const k = Math.round((spec.fraction ?? 1) * b);
  if (k === 0) return x;
  if (k === b) return adversarialExamples(model, loss, x, y, spec, space, g);
  return T.tidy(() => T.cat([adversarialExamples(model, loss, x.narrow(0, 0, k), y.narrow(0, 0, k), spec, space, g), x.narrow(0, k, b - k)], 0));
}
