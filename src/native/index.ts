/**
 * Loads the libtorch addon (build/Release/sgdlab_torch.node) and types its surface.
 *
 * This is the only module that touches the addon; everything above it goes through
 * `src/tensor`. The addon's functions take positional arguments and opaque handles;
 * the TypeScript tensor layer gives them names, defaults and error context.
 *
 * Conventions of the native surface:
 *   dtype codes are c10::ScalarType values (see src/tensor/dtype.ts);
 *   `dims: number[] | null` — null reduces over every dimension;
 *   reduction codes: 0 none, 1 mean, 2 sum;
 *   in-place functions (name ending in `_`) return nothing;
 *   a tensor-or-number operand is followed (after any alpha) by a flag saying it is a number,
 *   since tensor handles are numbers too.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const tensorBrand: unique symbol;
declare const generatorBrand: unique symbol;
declare const lbfgsbBrand: unique symbol;
/** A libtorch tensor owned by the addon: an id into its table of live tensors (generation·2^22 + slot). */
export type TensorHandle = number & { readonly [tensorBrand]: true };
/** An opaque reference to a libtorch CPU generator. */
export type GeneratorHandle = { readonly [generatorBrand]: true };
/** An L-BFGS-B solver's state held by the addon (src/native/lbfgsb.cc). */
export type LbfgsbHandle = { readonly [lbfgsbBrand]: true };
/** What setulb reports about its run so far (isave/dsave). */
export interface LbfgsbNativeInfo {
  task: string; f: number; iteration: number; evaluations: number; bfgsUpdates: number; skippedUpdates: number; cauchyIntervals: number;
  freeVariables: number; activeConstraints: number; projectedGradientNorm: number; previousF: number; theta: number; stepLength: number; workspaceDoubles: number;
}

type H = TensorHandle;
type Num = H | number;
type Dims = number[] | null;
type Dev = string | null;
type Gen = GeneratorHandle | null;

export interface NativeBinding {
  // runtime
  setNumThreads(n: number): void;
  getNumThreads(): number;
  cudaDeviceCount(): number;
  cudaSynchronize(): void;
  version(): string;
  config(): string;
  // creation
  fromBuffer(data: ArrayBufferView, shape: number[], dtype: number, device: Dev): H;
  empty(shape: number[], dtype: number, device: Dev): H;
  zeros(shape: number[], dtype: number, device: Dev): H;
  ones(shape: number[], dtype: number, device: Dev): H;
  full(shape: number[], value: number | boolean, dtype: number, device: Dev): H;
  arange(start: number, end: number, step: number, dtype: number, device: Dev): H;
  linspace(start: number, end: number, steps: number, dtype: number, device: Dev): H;
  eye(n: number, m: number, dtype: number, device: Dev): H;
  rand(shape: number[], gen: Gen, dtype: number, device: Dev): H;
  randn(shape: number[], gen: Gen, dtype: number, device: Dev): H;
  randint(low: number, high: number, shape: number[], gen: Gen, dtype: number, device: Dev): H;
  randperm(n: number, gen: Gen, dtype: number, device: Dev): H;
  randintRows(gens: GeneratorHandle[], low: number, high: number, count: number): H;
  randpermRows(gens: GeneratorHandle[], n: number, count: number): H;
  uniform_(t: H, low: number, high: number, gen: Gen): void;
  normal_(t: H, mean: number, std: number, gen: Gen): void;
  bernoulli_(t: H, p: number, gen: Gen): void;
  generator(seed: number): GeneratorHandle;
  /** Frees the generator's engine now; the handle is then refused by every op. */
  disposeGenerator(g: GeneratorHandle): void;
  generatorState(g: GeneratorHandle): H;
  setGeneratorState(g: GeneratorHandle, state: H): void;
  manualSeed(seed: number): void;
  // queries and memory
  shape(t: H): number[];
  dtype(t: H): number;
  device(t: H): string;
  requiresGrad(t: H): boolean;
  isLeaf(t: H): boolean;
  gradFnName(t: H): string | undefined;
  isContiguous(t: H): boolean;
  isDisposed(t: H): boolean;
  dispose(t: H): boolean;
  memory(): { numTensors: number; numBytes: number };
  item(t: H): number;
  data(t: H): Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
  dataView(t: H): Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
  // views and indexing
  reshape(t: H, shape: number[]): H;
  view(t: H, shape: number[]): H;
  flatten(t: H, start: number, end: number): H;
  transpose(t: H, a: number, b: number): H;
  permute(t: H, dims: number[]): H;
  squeeze(t: H, dim: number | null): H;
  unsqueeze(t: H, dim: number): H;
  narrow(t: H, dim: number, start: number, length: number): H;
  slice(t: H, dim: number, start: number | null, end: number | null, step: number): H;
  select(t: H, dim: number, index: number): H;
  indexSelect(t: H, dim: number, index: H): H;
  gather(t: H, dim: number, index: H): H;
  scatterAdd(t: H, dim: number, index: H, src: H): H;
  maskedSelect(t: H, mask: H): H;
  cat(ts: H[], dim: number): H;
  stack(ts: H[], dim: number): H;
  chunk(t: H, chunks: number, dim: number): H[];
  split(t: H, sizes: number | number[], dim: number): H[];
  expand(t: H, shape: number[]): H;
  repeat(t: H, repeats: number[]): H;
  flip(t: H, dims: number[]): H;
  pad(t: H, pads: number[], value: number): H;
  contiguous(t: H): H;
  clone(t: H): H;
  detach(t: H): H;
  to(t: H, dtype: number | null, device: Dev): H;
  // elementwise
  add(a: H, b: Num, alpha: number | null, bIsScalar: boolean): H;
  sub(a: H, b: Num, alpha: number | null, bIsScalar: boolean): H;
  rsub(a: H, s: number): H;
  mul(a: H, b: Num, bIsScalar: boolean): H;
  div(a: H, b: Num, bIsScalar: boolean): H;
  pow(a: H, b: Num, bIsScalar: boolean): H;
  remainder(a: H, b: Num, bIsScalar: boolean): H;
  maximum(a: H, b: Num, bIsScalar: boolean): H;
  minimum(a: H, b: Num, bIsScalar: boolean): H;
  eq(a: H, b: Num, bIsScalar: boolean): H;
  ne(a: H, b: Num, bIsScalar: boolean): H;
  lt(a: H, b: Num, bIsScalar: boolean): H;
  le(a: H, b: Num, bIsScalar: boolean): H;
  gt(a: H, b: Num, bIsScalar: boolean): H;
  ge(a: H, b: Num, bIsScalar: boolean): H;
  neg(t: H): H; exp(t: H): H; log(t: H): H; log1p(t: H): H; expm1(t: H): H;
  sqrt(t: H): H; rsqrt(t: H): H; abs(t: H): H; sign(t: H): H; square(t: H): H;
  reciprocal(t: H): H; sin(t: H): H; cos(t: H): H; floor(t: H): H; ceil(t: H): H;
  round(t: H): H; erf(t: H): H; isnan(t: H): H; isfinite(t: H): H; logicalNot(t: H): H;
  clamp(t: H, min: number | null, max: number | null): H;
  where(c: H, a: Num, b: Num, aIsScalar: boolean, bIsScalar: boolean): H;
  // reductions
  sum(t: H, dims: Dims, keepdim: boolean, dtype: number | null): H;
  mean(t: H, dims: Dims, keepdim: boolean): H;
  prod(t: H, dim: number | null, keepdim: boolean): H;
  var(t: H, dims: Dims, correction: number, keepdim: boolean): H;
  std(t: H, dims: Dims, correction: number, keepdim: boolean): H;
  maxAll(t: H): H;
  minAll(t: H): H;
  maxDim(t: H, dim: number, keepdim: boolean): [H, H];
  minDim(t: H, dim: number, keepdim: boolean): [H, H];
  argmax(t: H, dim: number | null, keepdim: boolean): H;
  argmin(t: H, dim: number | null, keepdim: boolean): H;
  norm(t: H, p: number, dims: Dims, keepdim: boolean): H;
  logsumexp(t: H, dims: number[], keepdim: boolean): H;
  cumsum(t: H, dim: number): H;
  // linear algebra
  matmul(a: H, b: H): H; mm(a: H, b: H): H; bmm(a: H, b: H): H; dot(a: H, b: H): H; outer(a: H, b: H): H;
  eigh(t: H): [H, H];
  pinv(t: H): H;
  solve(a: H, b: H): H;
  // in place
  add_(t: H, other: Num, alpha: number | null, otherIsScalar: boolean): void;
  sub_(t: H, other: Num, alpha: number | null, otherIsScalar: boolean): void;
  mul_(t: H, other: Num, otherIsScalar: boolean): void;
  div_(t: H, other: Num, otherIsScalar: boolean): void;
  addcmul_(t: H, a: H, b: H, value: number): void;
  addcdiv_(t: H, a: H, b: H, value: number): void;
  copy_(t: H, src: H): void;
  zero_(t: H): void;
  fill_(t: H, value: number | boolean): void;
  clamp_(t: H, min: number | null, max: number | null): void;
  sqrt_(t: H): void;
  // lists
  listDot(xs: H[], ys: H[]): H;
  listNorm(xs: H[], p: number): H;
  listAdd_(xs: H[], ys: H[], alpha: number): void;
  listMul_(xs: H[], s: number): void;
  listCopy_(xs: H[], ys: H[]): void;
  // nn
  linear(x: H, w: H, b: H | null): H;
  conv2d(x: H, w: H, b: H | null, stride: number[], padding: number[], dilation: number[], groups: number): H;
  maxPool2d(x: H, kernel: number[], stride: number[], padding: number[], dilation: number[], ceilMode: boolean): H;
  avgPool2d(x: H, kernel: number[], stride: number[], padding: number[], ceilMode: boolean, countIncludePad: boolean): H;
  batchNorm(x: H, w: H | null, b: H | null, runningMean: H | null, runningVar: H | null, training: boolean, momentum: number, eps: number): H;
  dropout(x: H, p: number, training: boolean, gen: Gen): H;
  relu(t: H): H; tanh(t: H): H; sigmoid(t: H): H;
  gelu(t: H, approximate: 'none' | 'tanh'): H;
  softplus(t: H, beta: number, threshold: number): H;
  leakyRelu(t: H, slope: number): H;
  softmax(t: H, dim: number): H;
  logSoftmax(t: H, dim: number): H;
  crossEntropy(logits: H, target: H, weight: H | null, reduction: number, ignoreIndex: number, labelSmoothing: number): H;
  nllLoss(logProbs: H, target: H, weight: H | null, reduction: number, ignoreIndex: number): H;
  mseLoss(input: H, target: H, reduction: number): H;
  binaryCrossEntropyWithLogits(logits: H, target: H, reduction: number): H;
  oneHot(t: H, numClasses: number): H;
  unfold(x: H, kernel: number[], dilation: number[], padding: number[], stride: number[]): H;
  affineGrid(theta: H, size: number[], alignCorners: boolean): H;
  gridSample(x: H, grid: H, mode: number, paddingMode: number, alignCorners: boolean): H;
  // autograd
  backward(t: H, gradient: H | null, retainGraph: boolean | null, createGraph: boolean): void;
  grad(outputs: H[], inputs: H[], gradOutputs: H[] | null, retainGraph: boolean | null, createGraph: boolean, allowUnused: boolean): (H | undefined)[];
  getGrad(t: H): H | undefined;
  setGrad(t: H, g: H | null): void;
  setRequiresGrad(t: H, flag: boolean): void;
  retainGrad(t: H): void;
  isGradEnabled(): boolean;
  setGradEnabled(flag: boolean): void;
  // L-BFGS-B 3.0 (Debian's liblbfgsb), reverse communication: create, then step with f and g when the task asks
  lbfgsbCreate(x0: Float64Array, lower: Float64Array, upper: Float64Array, m: number, factr: number, pgtol: number): LbfgsbHandle;
  lbfgsbStep(s: LbfgsbHandle, f: number | null, g: Float64Array | null): string;
  lbfgsbStop(s: LbfgsbHandle, reason: string): string;
  lbfgsbCopyX(s: LbfgsbHandle, out: Float64Array): void;
  lbfgsbInfo(s: LbfgsbHandle): LbfgsbNativeInfo;
  lbfgsbDispose(s: LbfgsbHandle): boolean;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The package root: this file is src/native/index.ts, compiled to dist/src/native/index.js. */
function packageRoot(): string {
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    if (dirname(dir) === dir) return resolve(here, '..', '..', '..');
  }
}

function load(): NativeBinding {
  const require = createRequire(import.meta.url);
  const root = packageRoot();
  const candidates = [
    process.env.SGDLAB_ADDON,
    join(root, 'build', 'Release', 'sgdlab_torch.node'),
    join(root, 'build', 'Debug', 'sgdlab_torch.node'),
  ].filter((p): p is string => typeof p === 'string' && p.length > 0);
  const reasons: string[] = [];
  for (const path of candidates) {
    if (!existsSync(path)) {
      reasons.push(`${path}: not built`);
      continue;
    }
    try {
      return require(path) as NativeBinding;
    } catch (error) {
      reasons.push(`${path}: ${(error as Error).message}`);
    }
  }
  throw new Error(
    [
      'sgdlab could not load its libtorch addon. Tried:',
      ...reasons.map((r) => `  - ${r}`),
      'Possible solutions:',
      '  - run the setup, which installs libtorch and builds the addon: bash scripts/setup.sh',
      '  - rebuild after changing libtorch: npm run build:native (LIBTORCH=/path for another libtorch)',
      '  - set SGDLAB_ADDON to the path of a built sgdlab_torch.node',
    ].join('\n'),
  );
}

let binding: NativeBinding | undefined;

/** The addon, loaded on first use so that modules that only read results never load libtorch. */
export function native(): NativeBinding {
  binding ??= load();
  return binding;
}
