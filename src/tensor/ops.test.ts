/**
 * Every op against PyTorch: each case of fixtures/ops.json (written by
 * tools/reference/make_tensor_fixtures.py) is run through sgdlab under the same name. Checked:
 * output values, shapes and dtypes; the gradient of Σ out·R against PyTorch's; the gradient
 * against central finite differences in float64; and that no tensor outlives the case.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from './index.js';
import { assertClose, decode, gradcheck, readFixture, type EncodedTensor } from './testing.js';
import type { Tensor } from './index.js';

interface OpCase {
  name: string;
  inputs: EncodedTensor[];
  outputs: EncodedTensor[];
  cotangents?: (EncodedTensor | null)[];
  grads?: (EncodedTensor | null)[];
}
interface OpFixture {
  torch: string;
  cases: OpCase[];
  random: Record<string, EncodedTensor>;
  creation: Record<string, EncodedTensor>;
}

type Impl = (...xs: Tensor[]) => Tensor | Tensor[];
const unary = (f: (x: Tensor) => Tensor): Impl => (x) => f(x!);

/** sgdlab's version of each reference case, by name. */
const IMPL: Record<string, Impl> = {
  reshape: (x) => x!.reshape([2, 6]),
  view: (x) => x!.view([4, 3]),
  flatten: (x) => x!.flatten(1),
  transpose: (x) => x!.transpose(0, 2),
  permute: (x) => x!.permute([2, 0, 1]),
  squeeze: (x) => x!.squeeze(1),
  unsqueeze: (x) => x!.unsqueeze(-1),
  narrow: (x) => x!.narrow(1, 1, 2),
  slice_step: (x) => x!.slice(1, 0, 4, 2),
  select: (x) => x!.select(0, 1),
  index_select: (x, i) => x!.indexSelect(0, i!),
  gather: (x, i) => x!.gather(1, i!),
  scatter_add: (x, i, s) => x!.scatterAdd(0, i!, s!),
  cat: (x, y) => T.cat([x!, y!], 1),
  stack: (x, y) => T.stack([x!, y!], 0),
  chunk: (x) => x!.chunk(2, 1),
  split_sizes: (x) => x!.split([1, 3], 1),
  expand: (x) => x!.expand([3, 4]),
  repeat: (x) => x!.repeat([2, 1]),
  flip: (x) => x!.flip([1]),
  pad: (x) => T.pad(x!, [1, 2, 0, 1], 0.5),
  masked_select: (x) => x!.maskedSelect(x!.gt(0)),

  add_broadcast: (x, y) => x!.add(y!),
  add_alpha: (x, y) => x!.add(y!, -2.5),
  add_scalar: (x) => x!.add(1.5),
  sub: (x, y) => x!.sub(y!),
  rsub: (x) => x!.rsub(3),
  mul_broadcast: (x, y) => x!.mul(y!),
  div: (x, y) => x!.div(y!),
  pow_scalar: (x) => x!.pow(2.5),
  pow_tensor: (x, y) => x!.pow(y!),
  remainder: (x) => x!.remainder(0.7),
  maximum: (x, y) => x!.maximum(y!),
  minimum: (x, y) => x!.minimum(y!),
  maximum_scalar: (x) => x!.maximum(0.1),
  eq: (x, y) => x!.eq(y!),
  lt: (x, y) => x!.lt(y!),
  ge_scalar: (x) => x!.ge(0),
  int_times_float: (x) => x!.mul(0.5),
  int_times_int: (x) => x!.mul(2),
  neg: unary(T.neg), exp: unary(T.exp), sin: unary(T.sin), cos: unary(T.cos), abs: unary(T.abs), sign: unary(T.sign),
  square: unary(T.square), erf: unary(T.erf), floor: unary(T.floor), ceil: unary(T.ceil), round: unary(T.round),
  tanh: unary(T.tanh), sigmoid: unary(T.sigmoid), relu: unary(T.relu), log: unary(T.log), log1p: unary(T.log1p),
  sqrt: unary(T.sqrt), rsqrt: unary(T.rsqrt), reciprocal: unary(T.reciprocal), expm1: unary(T.expm1),
  isnan: unary(T.isnan), isfinite: unary(T.isfinite),
  clamp: (x) => x!.clamp(-0.5, 0.5),
  clamp_min_only: (x) => x!.clamp(-0.2),
  where: (x, y) => T.where(x!.gt(y!), x!, y!),
  where_scalar: (x) => T.where(x!.gt(0), x!, 0.0),

  sum_all: (x) => x!.sum(),
  sum_dims_keepdim: (x) => x!.sum([0, 2], { keepdim: true }),
  mean_dim: (x) => x!.mean(1),
  prod_dim: (x) => x!.prod(1),
  var_dim: (x) => x!.var(1),
  var_population: (x) => x!.var(0, { correction: 0 }),
  std_all: (x) => x!.std(),
  max_all: (x) => x!.max(),
  max_dim: (x) => Object.values(x!.max(1)),
  min_dim_keepdim: (x) => Object.values(x!.min(0, { keepdim: true })),
  argmax: (x) => x!.argmax(1),
  argmin_all: (x) => x!.argmin(),
  norm_2: (x) => x!.norm(),
  norm_1_dim: (x) => x!.norm(1, 1),
  norm_inf: (x) => x!.norm(Infinity),
  logsumexp: (x) => x!.logsumexp(1),
  cumsum: (x) => x!.cumsum(1),

  matmul_2d: (x, y) => T.matmul(x!, y!),
  matmul_batched: (x, y) => T.matmul(x!, y!),
  matmul_vector: (x, y) => T.matmul(x!, y!),
  mm: (x, y) => T.mm(x!, y!),
  bmm: (x, y) => T.bmm(x!, y!),
  dot: (x, y) => T.dot(x!, y!),
  outer: (x, y) => T.outer(x!, y!),
  eigh_values: (x) => T.eigh(x!).eigenvalues,
  pinv: (x) => T.pinv(x!),
  solve: (a, b) => T.solve(a!, b!),

  linear: (x, w, b) => T.linear(x!, w!, b),
  linear_no_bias: (x, w) => T.linear(x!, w!),
  conv2d: (x, w, b) => T.conv2d(x!, w!, b, { stride: 1, padding: 1 }),
  conv2d_stride_groups: (x, w) => T.conv2d(x!, w!, undefined, { stride: 2, padding: 0, groups: 2 }),
  conv2d_5x5_same: (x, w, b) => T.conv2d(x!, w!, b, { padding: 2 }),
  max_pool2d: (x) => T.maxPool2d(x!, 2),
  max_pool2d_3s2: (x) => T.maxPool2d(x!, 3, { stride: 2, padding: 1 }),
  avg_pool2d: (x) => T.avgPool2d(x!, 2),
  batch_norm_train: (x, w, b, m, v) => {
    const runningMean = m!.detach().clone();
    const runningVar = v!.detach().clone();
    const y = T.batchNorm(x!, { weight: w, bias: b, runningMean, runningVar, training: true, momentum: 0.1, eps: 1e-5 });
    return [y, runningMean, runningVar];
  },
  batch_norm_train_2d: (x, w, b) => T.batchNorm(x!, { weight: w, bias: b, training: true }),
  batch_norm_eval: (x, w, b, m, v) => T.batchNorm(x!, { weight: w, bias: b, runningMean: m!.detach(), runningVar: v!.detach(), training: false }),
  gelu: (x) => x!.gelu(),
  gelu_tanh: (x) => x!.gelu('tanh'),
  softplus: (x) => x!.softplus(2, 20),
  leaky_relu: (x) => x!.leakyRelu(0.1),
  softmax: (x) => x!.softmax(1),
  log_softmax: (x) => x!.logSoftmax(1),
  cross_entropy: (x, y) => T.crossEntropy(x!, y!),
  cross_entropy_sum: (x, y) => T.crossEntropy(x!, y!, { reduction: 'sum' }),
  cross_entropy_none: (x, y) => T.crossEntropy(x!, y!, { reduction: 'none' }),
  cross_entropy_smoothing: (x, y) => T.crossEntropy(x!, y!, { labelSmoothing: 0.1 }),
  cross_entropy_ignore: (x, y) => T.crossEntropy(x!, y!),
  nll_loss: (x, y) => T.nllLoss(x!, y!),
  mse_loss: (x, y) => T.mseLoss(x!, y!),
  mse_loss_sum: (x, y) => T.mseLoss(x!, y!, { reduction: 'sum' }),
  bce_with_logits: (x, y) => T.binaryCrossEntropyWithLogits(x!, y!),
  one_hot: (y) => T.oneHot(y!, 5),
  unfold: (x) => T.unfold(x!, 3, { padding: 1, stride: 2 }),

  list_dot: (x, y, u, v) => T.listDot([x!, y!], [u!, v!]),
  list_norm: (x, y) => T.listNorm([x!, y!]),
};

/** Inputs that a case uses as constants (batch norm's running statistics are buffers). */
const CONSTANT_INPUTS: Record<string, number[]> = { batch_norm_train: [3, 4], batch_norm_eval: [3, 4] };

const fixture = readFixture<OpFixture>(import.meta.url, 'fixtures/ops.json');
const asList = (r: Tensor | Tensor[]): Tensor[] => (Array.isArray(r) ? r : [r]);

test('every reference case has an implementation and every implementation a case', () => {
  const names = new Set(fixture.cases.map((c) => c.name));
  assert.deepEqual([...names].filter((n) => !(n in IMPL)), []);
  assert.deepEqual(Object.keys(IMPL).filter((n) => !names.has(n)), []);
});

describe(`ops against PyTorch ${fixture.torch}`, () => {
  for (const c of fixture.cases) {
    test(c.name, () => {
      const impl = IMPL[c.name]!;
      const before = T.memory().numTensors;
      T.tidy(() => {
        const inputs = c.inputs.map((e) => {
          const t = decode(e);
          return c.grads && T.isFloating(t.dtype) ? t.requiresGrad_() : t;
        });
        const outputs = asList(impl(...inputs));
        assert.equal(outputs.length, c.outputs.length, 'number of outputs');
        // float32 on both sides, inputs O(1): an output summing n terms carries rounding of about √n·u·‖terms‖₂
        // (u = 2⁻²⁴; the longest sums here: batch_norm_train_2d's 100-term statistics, conv2d's 27 products), ≤ 2e-6
        // absolute and ≤ 1e-6 relative to an output of order 1. atol 1e-5 keeps a result that cancels to near
        // zero from being held to a relative tolerance; rtol 1e-5 for large ones (pow, exp). Both pass 10× tighter
        // under every OpenBLAS core type and ATen capability tried.
        outputs.forEach((o, k) => assertClose(o, c.outputs[k]!, { rtol: 1e-5, atol: 1e-5 }, `output ${k}`));
        if (c.grads) {
          const pairs = outputs.map((o, k) => [o, c.cotangents![k]] as const).filter(([o, r]) => r !== null && o.requiresGrad);
          const total = T.listDot(pairs.map(([o]) => o), pairs.map(([, r]) => decode(r!)));
          const diffInputs = inputs.filter((x) => x.requiresGrad);
          const grads = T.grad([total], diffInputs, { allowUnused: true });
          grads.forEach((g, k) => {
            const expected = c.grads![k];
            if (expected === null || expected === undefined) assert.equal(g, undefined, `gradient ${k} should be undefined`);
            // The backward passes sum over every output an input reaches (conv2d's weight gradient: 128
            // positions × the cotangent's O(1) values), √n·u·‖terms‖₂ ≲ 1e-5; 10× of margin again.
            else assertClose(g!, expected, { rtol: 1e-4, atol: 1e-5 }, `gradient ${k}`);
          });
        }
      });
      assert.equal(T.memory().numTensors, before, 'tensors leaked by the case');
    });
  }
});

/**
 * Where an op is discontinuous, or not differentiable, in its input (a kink, a step, a tie), what it
 * returns there is decided by rounding, not by the mathematics: a comparison with PyTorch is determined
 * only if the fixture's inputs stay away from those points. Their distance must exceed what can move an
 * input across one: nothing for ops of the stored values themselves (exact in both), float32 rounding of
 * an O(1) value (≈ 1e-7) where arithmetic comes first (remainder's x/0.7), and the central difference's
 * step ε = 1e-6 in the float64 gradient check (a stencil straddling a kink measures the jump). MIN_GAP =
 * 1e-4 clears all three by 100×; the fixture's closest call is max_pool2d's, 8e-4.
 */
const MIN_GAP = 1e-4;
const flat = (e: EncodedTensor) => e.data.map(Number);
const distanceTo = (points: number[]) => (xs: number[]) => Math.min(...xs.map((v) => Math.min(...points.map((p) => Math.abs(v - p)))));
const distanceToLattice = (offset: number) => (xs: number[]) => Math.min(...xs.map((v) => Math.abs(v - offset - Math.round(v - offset))));
/** Smallest gap between the largest and the second largest of each group (ties of max/argmax). */
const topGap = (groups: number[][]) => Math.min(...groups.map((g) => { const s = [...g].sort((a, b) => b - a); return s[0]! - s[1]!; }));
const rowsOf = (e: EncodedTensor, width: number) => Array.from({ length: e.data.length / width }, (_, i) => flat(e).slice(i * width, (i + 1) * width));
const columnsOf = (e: EncodedTensor) => { const [r, c] = e.shape as [number, number]; return Array.from({ length: c }, (_, j) => Array.from({ length: r }, (_, i) => Number(e.data[i * c + j]))); };
/** The windows of max pooling (padding excluded, as −∞) over an N×C×H×W input. */
function poolWindows(e: EncodedTensor, k: number, stride: number, pad: number): number[][] {
  const [n, c, h, w] = e.shape as [number, number, number, number];
  const x = flat(e);
  const out: number[][] = [];
  for (let p = 0; p < n * c; p++) {
    for (let i = -pad; i + k <= h + pad; i += stride) {
      for (let j = -pad; j + k <= w + pad; j += stride) {
        const win: number[] = [];
        for (let a = i; a < i + k; a++) for (let b = j; b < j + k; b++) if (a >= 0 && a < h && b >= 0 && b < w) win.push(x[p * h * w + a * w + b]!);
        out.push(win);
      }
    }
  }
  return out;
}
const KINKS: Record<string, (inputs: EncodedTensor[]) => number> = {
  relu: ([x]) => distanceTo([0])(flat(x!)), abs: ([x]) => distanceTo([0])(flat(x!)), sign: ([x]) => distanceTo([0])(flat(x!)),
  ge_scalar: ([x]) => distanceTo([0])(flat(x!)), where_scalar: ([x]) => distanceTo([0])(flat(x!)), masked_select: ([x]) => distanceTo([0])(flat(x!)),
  clamp: ([x]) => distanceTo([-0.5, 0.5])(flat(x!)), clamp_min_only: ([x]) => distanceTo([-0.2])(flat(x!)), maximum_scalar: ([x]) => distanceTo([0.1])(flat(x!)),
  leaky_relu: ([x]) => distanceTo([0])(flat(x!)),
  floor: ([x]) => distanceToLattice(0)(flat(x!)), ceil: ([x]) => distanceToLattice(0)(flat(x!)), round: ([x]) => distanceToLattice(0.5)(flat(x!)),
  remainder: ([x]) => distanceToLattice(0)(flat(x!).map((v) => v / 0.7)),
  maximum: ([x, y]) => distanceTo([0])(flat(x!).map((v, i) => v - flat(y!)[i]!)), minimum: ([x, y]) => distanceTo([0])(flat(x!).map((v, i) => v - flat(y!)[i]!)),
  where: ([x, y]) => distanceTo([0])(flat(x!).map((v, i) => v - flat(y!)[i]!)), lt: ([x, y]) => distanceTo([0])(flat(x!).map((v, i) => v - flat(y!)[i]!)),
  max_all: ([x]) => topGap([flat(x!)]), argmin_all: ([x]) => topGap([flat(x!).map((v) => -v)]), norm_inf: ([x]) => topGap([flat(x!).map(Math.abs)]),
  max_dim: ([x]) => topGap(rowsOf(x!, x!.shape[1]!)), argmax: ([x]) => topGap(rowsOf(x!, x!.shape[1]!)),
  min_dim_keepdim: ([x]) => topGap(columnsOf(x!).map((c) => c.map((v) => -v))),
  max_pool2d: ([x]) => topGap(poolWindows(x!, 2, 2, 0)), max_pool2d_3s2: ([x]) => topGap(poolWindows(x!, 3, 2, 1)),
};

test('the fixture\'s inputs are away from every kink, step and tie of the ops compared there', (t) => {
  const gaps: string[] = [];
  for (const [name, gap] of Object.entries(KINKS)) {
    const c = fixture.cases.find((k) => k.name === name);
    assert.ok(c, `no case ${name}`);
    const d = gap(c.inputs);
    assert.ok(d >= MIN_GAP, `${name}: an input is ${d} from a point where the op is discontinuous or not differentiable (or a tie); PyTorch's value there is rounding's choice`);
    gaps.push(`${name} ${d.toPrecision(2)}`);
  }
  t.diagnostic(`distances: ${gaps.join(', ')}`);
});

describe('gradients against finite differences (float64)', () => {
  for (const c of fixture.cases.filter((k) => k.grads)) {
    test(c.name, () => {
      const before = T.memory().numTensors;
      T.tidy(() => {
        const inputs = c.inputs.map((e) => {
          const t = decode(e);
          return T.isFloating(t.dtype) ? t.double() : t;
        });
        const result = gradcheck((xs) => asList(IMPL[c.name]!(...xs)), inputs, { constant: CONSTANT_INPUTS[c.name] ?? [] });
        assert.ok(result.checked > 0, 'no element was checked');
        // Central differences with ε = 1e-6 in float64: truncation ε²·|f'''|/6 ≈ 1e-13, rounding u₆₄·|s|/ε ≈ 1e-10
        // for the O(1)–O(10) sums s; 1e-6 leaves room for larger third derivatives (exp, pow) and is still 1e6×
        // below any real error in a gradient. No stencil straddles a kink (checked above).
        assert.ok(result.maxRelError < 1e-6, `max relative error ${result.maxRelError}`);
      });
      assert.equal(T.memory().numTensors, before, 'tensors leaked by the gradient check');
    });
  }
});

describe('seeded random draws equal PyTorch with the same seed', () => {
  const draws: Record<string, () => Tensor> = {
    randn_seed0: () => T.randn([2, 5], { generator: new T.Generator(0) }),
    randn_float64_seed7: () => T.randn([6], { dtype: 'float64', generator: new T.Generator(7) }),
    rand_seed1: () => T.rand([7], { generator: new T.Generator(1) }),
    randint_seed2: () => T.randint(0, 10, [12], { generator: new T.Generator(2) }),
    randperm_seed3: () => T.randperm(10, { generator: new T.Generator(3) }),
    normal_seed4: () => T.empty([5]).normal_(1, 2, new T.Generator(4)),
    uniform_seed5: () => T.empty([5]).uniform_(-1, 1, new T.Generator(5)),
  };
  for (const [name, expected] of Object.entries(fixture.random)) {
    test(name, () => T.tidy(() => assertClose(draws[name]!(), expected, { rtol: 0, atol: 0 })));
  }
  test('a generator continues its stream, and its state can be saved and restored', () => {
    T.tidy(() => {
      const g = new T.Generator(11);
      const state = g.getState();
      const first = T.randn([4], { generator: g });
      const second = T.randn([4], { generator: g });
      assert.notDeepEqual(first.toArray(), second.toArray());
      g.setState(state);
      assertClose(T.randn([4], { generator: g }), first, { rtol: 0, atol: 0 });
    });
  });
});

describe('creation against PyTorch', () => {
  const made: Record<string, () => Tensor> = {
    arange_float: () => T.arange(0, 1, 0.25),
    arange_int: () => T.arange(2, 11, 3),
    linspace: () => T.linspace(-1, 1, 5),
    eye_3x4: () => T.eye(3, 4),
  };
  for (const [name, expected] of Object.entries(fixture.creation)) {
    test(name, () => T.tidy(() => assertClose(made[name]!(), expected, { rtol: 0, atol: 0 })));
  }
});
