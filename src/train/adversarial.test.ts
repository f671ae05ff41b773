/**
 * Adversarial examples against PyTorch (fixtures/adversarial.json, tools/reference/make_remedies_fixtures.py):
 * the FGSM perturbation is ε·sign(∇ₓℓ) in raw pixel units; FGSM and PGD (L∞, L2) equal PyTorch's, with
 * batch norm in evaluation and training mode; PGD never leaves the ball nor the valid range; the attack
 * leaves the model as it was; adversarial training runs and says what is wrong with a bad configuration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../tensor/index.js';
import { assertClose, decode, readFixture, type EncodedTensor } from '../tensor/testing.js';
import { buildModel } from '../nn/index.js';
import { makeDataset, type DataSplits } from '../data/index.js';
import { adversarialBatch, adversarialExamples, parseTrainConfig, train, type AttackSpec, type InputSpace } from './index.js';

interface AdversarialCase { name: string; batchNorm: boolean; mode: 'eval' | 'train'; norm: 'linf' | 'l2'; epsilon: number; steps: number; stepSize: number; adversarial: EncodedTensor; delta: EncodedTensor }
interface Fixture {
  mean: number;
  std: number;
  x: EncodedTensor;
  y: number[];
  plain: Record<string, EncodedTensor>;
  withBatchNorm: Record<string, EncodedTensor>;
  gradRaw: EncodedTensor;
  cases: AdversarialCase[];
}
const fx = readFixture<Fixture>(import.meta.url, 'fixtures/adversarial.json');
const space: InputSpace = { normalization: { mean: [fx.mean], std: [fx.std] }, range: { low: 0, high: 1 } };

function fixtureModel(batchNorm: boolean) {
  const model = buildModel({ name: 'mlp', widths: [8], batchNorm }, { inputShape: [1, 4, 4], outputs: 3 }, new T.Generator(0));
  const state = batchNorm ? fx.withBatchNorm : fx.plain;
  T.tidy(() => model.loadStateDict(new Map(Object.entries(state).map(([k, v]) => [k, decode(v)])), { strict: false }));
  return model;
}

test('the FGSM perturbation is ε·sign(∇ₓℓ) (∇ from PyTorch), except where the valid range clips it', () => {
  T.tidy(() => {
    const model = fixtureModel(false);
    const x = decode(fx.x);
    const y = T.tensor(fx.y, { dtype: 'int64' });
    const eps = 0.1;
    const adv = adversarialExamples(model, 'cross-entropy', x, y, { attack: 'fgsm', norm: 'linf', epsilon: eps }, space);
    const raw0 = x.mul(fx.std).add(fx.mean);
    const delta = adv.mul(fx.std).add(fx.mean).sub(raw0);
    const expected = decode(fx.gradRaw).sign().mul(eps);
    // Clipped: raw0 + ε·sign outside [0, 1]; the fixture puts pixels at 0 and 1 to make some.
    const inside = raw0.add(expected).ge(0).mul(raw0.add(expected).le(1));
    const d = delta.data() as Float32Array;
    const e = expected.data() as Float32Array;
    const keep = inside.data() as Uint8Array;
    let checked = 0;
    for (let i = 0; i < d.length; i++) {
      if (!keep[i]) continue;
      assert.ok(Math.abs(d[i]! - e[i]!) < 1e-6, `element ${i}: Δ ${d[i]} vs ε·sign(∇) ${e[i]}`);
      checked++;
    }
    assert.ok(checked > 0.8 * d.length && checked < d.length, `${checked} of ${d.length} unclipped`);
    model.dispose();
  });
});

test('FGSM and PGD, L∞ and L2, with batch norm in eval and train mode, equal PyTorch', () => {
  assert.equal(fx.cases.length, 7);
  for (const c of fx.cases) {
    T.tidy(() => {
      const model = fixtureModel(c.batchNorm);
      const buffers = model.namedBuffers().map(([k, b]) => [k, b.clone()] as const);
      model.train();
      const spec: AttackSpec = { attack: c.steps === 1 ? 'fgsm' : 'pgd', norm: c.norm, epsilon: c.epsilon, steps: c.steps, stepSize: c.stepSize, randomStart: false, mode: c.mode };
      const adv = adversarialExamples(model, 'cross-entropy', decode(fx.x), T.tensor(fx.y, { dtype: 'int64' }), spec, space);
      assertClose(adv, decode(c.adversarial), { rtol: 1e-5, atol: 2e-5 }, c.name);
      assertClose(adv.mul(fx.std).add(fx.mean).sub(decode(fx.x).mul(fx.std).add(fx.mean)), decode(c.delta), { rtol: 1e-4, atol: 5e-6 }, `${c.name} Δ`);
      // The attack leaves the model as it found it: its mode, and (in train mode) the running statistics.
      assert.equal(model.training, true);
      for (const [k, b] of buffers) assertClose(model.stateDict().get(k)!, b, { rtol: 0, atol: 0 }, `${c.name}: buffer ${k}`);
      model.dispose();
    });
  }
});

test('PGD with a random start never leaves the ε-ball (L∞ and L2) nor the valid range', () => {
  T.tidy(() => {
    const g = new T.Generator(11);
    const model = buildModel({ name: 'mlp', widths: [32], batchNorm: true }, { inputShape: [1, 6, 6], outputs: 4 }, new T.Generator(2));
    const mean = [0.2];
    const std = [0.3];
    // Raw images with many pixels at 0 and 1, where the range binds.
    const raw = T.rand([64, 1, 6, 6], { generator: g }).mul(1.6).sub(0.3).clamp(0, 1);
    const x = raw.sub(mean[0]!).div(std[0]!);
    const y = T.randint(0, 4, [64], { generator: g });
    for (const norm of ['linf', 'l2'] as const) {
      for (const epsilon of norm === 'linf' ? [0.05, 0.3] : [0.5, 2]) {
        // Large steps push against the ball every iteration.
        const adv = adversarialExamples(model, 'cross-entropy', x, y, { attack: 'pgd', norm, epsilon, steps: 20, stepSize: epsilon, randomStart: true }, { normalization: { mean, std }, range: { low: 0, high: 1 } }, g);
        const advRaw = adv.mul(std[0]!).add(mean[0]!);
        const delta = advRaw.sub(raw).flatten(1);
        const size = norm === 'linf' ? delta.abs().max(1).values : delta.norm(2, [1]);
        const sizes = size.data() as Float32Array;
        assert.ok(sizes.every((s) => s <= epsilon * (1 + 1e-5) + 1e-6), `${norm} ε=${epsilon}: largest ‖Δ‖ ${Math.max(...sizes)}`);
        assert.ok(Math.max(...sizes) > 0.5 * epsilon, `${norm} ε=${epsilon}: the attack used the ball (largest ‖Δ‖ ${Math.max(...sizes)})`);
        assert.ok(advRaw.min().item() >= -1e-6 && advRaw.max().item() <= 1 + 1e-6, `${norm} ε=${epsilon}: range [${advRaw.min().item()}, ${advRaw.max().item()}]`);
      }
    }
    model.dispose();
  });
});

test('a fraction of the batch is attacked, the rest left as it was; the random start needs a generator', () => {
  T.tidy(() => {
    const model = buildModel({ name: 'mlp', widths: [16] }, { inputShape: [1, 4, 4], outputs: 3 }, new T.Generator(1));
    const x = decode(fx.x);
    const y = T.tensor(fx.y, { dtype: 'int64' });
    const out = adversarialBatch(model, 'cross-entropy', x, y, { attack: 'fgsm', norm: 'linf', epsilon: 0.1, fraction: 0.5 }, space, new T.Generator(0));
    const changed = out.sub(x).abs().flatten(1).max(1).values.gt(1e-6).data() as Uint8Array;
    assert.deepEqual([...changed], [1, 1, 1, 0, 0, 0]);
    assert.throws(() => adversarialExamples(model, 'cross-entropy', x, y, { attack: 'pgd', norm: 'linf', epsilon: 0.1 }, space), /a random start needs a generator/);
    model.dispose();
  });
});

test('adversarial training runs on MNIST, and bad settings name the field, the value and what is allowed', () => {
  const before = T.memory().numTensors;
  const base = {
    model: { name: 'mlp', widths: [32], batchNorm: true }, data: { name: 'mnist', subset: 500 }, optimizer: { name: 'sgd', lr: 0.05 },
    batchSize: 50, budget: { steps: 6 },
  } as const;
  // Against the same run without the attack (same initial weights and batches: the attack has its own random stream):
  // the first step's loss, taken on the attacked batch, is higher.
  const plain = train(parseTrainConfig(base));
  plain.model.dispose();
  for (const adversarial of [{ attack: 'fgsm', epsilon: 0.1, fraction: 0.5 }, { attack: 'pgd', norm: 'l2', epsilon: 1, steps: 3, mode: 'train' }] as const) {
    const { result, model } = train(parseTrainConfig({ ...base, adversarial }));
    assert.equal(result.status, 'completed');
    assert.equal(result.steps, 6);
    assert.ok(result.history.steps[0]!.loss > plain.result.history.steps[0]!.loss + 1e-3, `${adversarial.attack}: first loss ${result.history.steps[0]!.loss} on the attacked batch vs ${plain.result.history.steps[0]!.loss} clean`);
    model.dispose();
  }
  assert.equal(T.memory().numTensors, before);
  const bad: [unknown, RegExp][] = [
    [{ attack: 'fgsm', epsilon: 0 }, /adversarial\.epsilon: .* \(got 0\)/],
    [{ attack: 'fgsm', epsilon: 0.1, steps: 5 }, /adversarial\.steps: fgsm takes one step; use attack: pgd for several \(got 5\)/],
    [{ attack: 'bim', epsilon: 0.1 }, /adversarial\.attack: .*"fgsm"\|"pgd".* \(got "bim"\)/],
    [{ attack: 'pgd', epsilon: 0.1, norm: 'l1' }, /adversarial\.norm: .*"linf"\|"l2".* \(got "l1"\)/],
    [{ attack: 'pgd', epsilon: 0.1, fraction: 1.5 }, /adversarial\.fraction: .* \(got 1\.5\)/],
    [{ attack: 'pgd', epsilon: 0.1, mode: 'test' }, /adversarial\.mode: .*"eval"\|"train".* \(got "test"\)/],
  ];
  for (const [adversarial, pattern] of bad) assert.throws(() => parseTrainConfig({ ...base, adversarial }), pattern);
});

/**
 * The trainer's step on the attacked batch, by hand (float64) on linear regression: ŷ = wᵀx, w₀ = 0 (the
 * model's zero initialization), ½-squared loss, so ∇ₓℓᵢ = rᵢ·w with rᵢ = wᵀxᵢ − yᵢ. The data is normalized
 * (x = (raw − μ)/σ per feature) and ε is in raw units: ∇_raw ℓᵢ = rᵢ·w/σ. Full-batch SGD with rate η:
 *   step 0: w = 0, so ∇ₓℓ = 0 and the attack moves nothing: w₁ = η·Σᵢ yᵢxᵢ/N;
 *   step 1: FGSM (L∞) xᵢ' = xᵢ + (ε/σ)·sign(rᵢ)·sign(w₁); L2: xᵢ' = xᵢ + ε·gᵢ/(‖gᵢ‖σ) with gᵢ = rᵢ·w₁/σ;
 *           the step's loss is ½·mean rᵢ'² and w₂ = w₁ − η·Σᵢ rᵢ'xᵢ'/N (rᵢ' = w₁ᵀxᵢ' − yᵢ).
 * Without the attack, step 1 uses xᵢ itself; the two w₂ differ by far more than the tolerance.
 */
test('adversarial training steps on the attacked batch: FGSM (L∞ and L2) on linear regression, by hand, and not on the clean batch', () => {
  const X = [[1, 0.5, -1], [0.2, -1, 0.4], [-0.6, 0.3, 0.8], [0.9, 0.7, 0.1]];
  const Y = [1, -0.5, 0.3, 0.8];
  const mu = [0.3, -0.1, 0];
  const sigma = [2, 0.5, 1];
  const eta = 0.2;
  const eps = 0.1;
  const N = X.length;
  const data: DataSplits = {
    description: 'four hand-made examples', normalization: { mean: mu, std: sigma },
    train: makeDataset(T.tensor(X), T.tensor(Y.map((v) => [v])), undefined), test: makeDataset(T.tensor(X), T.tensor(Y.map((v) => [v])), undefined),
  };
  const dot = (a: number[], b: number[]) => a.reduce((s, v, j) => s + v * b[j]!, 0);
  const w1 = X[0]!.map((_, j) => (eta * X.reduce((s, x, i) => s + Y[i]! * x[j]!, 0)) / N);
  const stepFrom = (inputs: number[][]) => {
    const r = inputs.map((x, i) => dot(w1, x) - Y[i]!);
    return { loss: r.reduce((s, v) => s + 0.5 * v * v, 0) / N, w2: w1.map((w, j) => w - (eta * inputs.reduce((s, x, i) => s + r[i]! * x[j]!, 0)) / N) };
  };
  const clean = stepFrom(X);
  const attacked = {
    linf: stepFrom(X.map((x, i) => x.map((v, j) => v + (eps / sigma[j]!) * Math.sign(dot(w1, x) - Y[i]!) * Math.sign(w1[j]!)))),
    l2: stepFrom(X.map((x, i) => {
      const g = w1.map((w, j) => ((dot(w1, x) - Y[i]!) * w) / sigma[j]!);
      const norm = Math.hypot(...g);
      return x.map((v, j) => v + (eps * g[j]!) / (norm * sigma[j]!));
    })),
  };
  const run = (adversarial?: { attack: 'fgsm'; norm: 'linf' | 'l2'; epsilon: number }) => {
    const { result, model } = train(parseTrainConfig({
      model: { name: 'linear-regression' }, data: { name: 'linear-regression' }, loss: 'half-mse', optimizer: { name: 'sgd', lr: eta },
      batchSize: 'full', budget: { steps: 2 }, eval: { every: 1000 }, ...(adversarial ? { adversarial } : {}),
    }), { data });
    const w = T.tidy(() => (model.parameters()[0]!.double().toArray() as number[][])[0]!);
    model.dispose();
    return { w, losses: result.history.steps.map((st) => st.loss) };
  };
  const close = (got: number[], want: number[], what: string) => want.forEach((v, j) => assert.ok(Math.abs(got[j]! - v) <= 1e-5 * (1 + Math.abs(v)), `${what} [${j}]: ${got[j]} vs ${v} (by hand)`));
  const step0 = Y.reduce((s, y) => s + 0.5 * y * y, 0) / N;
  try {
    for (const norm of ['linf', 'l2'] as const) {
      const want = attacked[norm];
      // The hand values tell the two apart: the attacked step is far from the clean one.
      assert.ok(Math.max(...want.w2.map((v, j) => Math.abs(v - clean.w2[j]!))) > 1e-3 && want.loss > clean.loss + 1e-3, `${norm}: the attack changes the step`);
      const got = run({ attack: 'fgsm', norm, epsilon: eps });
      close(got.losses, [step0, want.loss], `FGSM ${norm}: the step losses`);
      close(got.w, want.w2, `FGSM ${norm}: w₂`);
    }
    const got = run();
    close(got.losses, [step0, clean.loss], 'no attack: the step losses');
    close(got.w, clean.w2, 'no attack: w₂');
  } finally {
    T.dispose([data.train.x, data.train.y, data.test.x, data.test.y]);
  }
});
