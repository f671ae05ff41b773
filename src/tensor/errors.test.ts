/**
 * Errors: libtorch's failures arrive as TensorOpError naming the op and the inputs' dtypes and
 * shapes; wrong argument types are rejected in TypeScript; and no input at all can crash the
 * process — every native entry point is called with garbage arguments.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from './index.js';
import { native, type NativeBinding } from '../native/index.js';

const fails = (fn: () => unknown, pattern: RegExp) => T.tidy(() => assert.throws(fn, pattern) as undefined);

test('a shape mismatch names the op, the shapes and libtorch\'s reason', () => {
  fails(() => T.matmul(T.zeros([2, 3]), T.zeros([4, 5])), /^TensorOpError: matmul\(float32\[2, 3\], float32\[4, 5\]\): mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)$/);
  fails(() => T.ones([2, 3]).add(T.ones([4])), /add\(float32\[2, 3\], float32\[4\]\): The size of tensor a \(3\) must match/);
  fails(() => T.zeros([6]).view([4]), /view\(float32\[6\], \[4\]\): shape '\[4\]' is invalid for input of size 6/);
});

test('a dtype mismatch is reported with the dtypes', () => {
  fails(() => T.matmul(T.zeros([2, 2]), T.zeros([2, 2], { dtype: 'float64' })), /matmul\(float32\[2, 2\], float64\[2, 2\]\): expected .*(Double|Float)/);
  fails(() => T.crossEntropy(T.zeros([2, 3]), T.zeros([2])), /crossEntropy\(float32\[2, 3\], float32\[2\]\)/);
});

test('an index out of range is an error, not a crash', () => {
  fails(() => T.zeros([3]).select(0, 5), /select\(float32\[3\], 0, 5\): .*out of range/);
  fails(() => T.zeros([3]).indexSelect(0, T.tensor([7], { dtype: 'int64' })), /indexSelect.*out of range/i);
  fails(() => T.zeros([2, 2]).transpose(0, 4), /Dimension out of range/);
});

test('CUDA on a CPU-only libtorch gives libtorch\'s message', { skip: T.cudaAvailable() }, () => {
  fails(() => T.zeros([2], { device: 'cuda' }), /zeros.*(CUDA|cuda)/);
  fails(() => T.ones([2]).to({ device: 'cuda' }), /to\(.*(CUDA|cuda)/);
  fails(() => T.ones([2]).to({ device: 'tpu' as T.Device }), /to\(.*(device|Device)/);
});

test('wrong argument types are rejected before they reach libtorch', () => {
  fails(() => T.ones([2]).add('1' as unknown as number), /^TypeError: add: 'other' must be a Tensor or a number, got 1$/);
  fails(() => T.matmul(T.ones([2]), [1, 2] as unknown as T.Tensor), /TypeError: matmul: 'b' must be a Tensor, got \[1, 2\]/);
  fails(() => T.zeros([2.5]), /TypeError: zeros: 'shape' must be an array of integers/);
  fails(() => T.ones([2]).sum(0.5), /TypeError: sum: 'dim' must be an integer/);
  fails(() => T.tensor([[1, 2], [3]]), /ragged: \[1\] has length 1 where length 2 was expected/);
  fails(() => T.tensor([1, 'a' as unknown as number]), /element \[1\] is "a"/);
  fails(() => T.crossEntropy(T.zeros([1, 2]), T.zeros([1], { dtype: 'int64' }), { reduction: 'avg' as 'mean' }), /reduction must be 'none', 'mean' or 'sum', got 'avg'/);
  fails(() => T.zeros([2], { dtype: 'float16' as T.DType }), /unknown dtype 'float16'; expected one of float32, float64, int64, int32, uint8, bool/);
  fails(() => new T.Generator(-1), /non-negative/);
  fails(() => T.tensor(new Float32Array(6), { shape: [4] }), /the buffer holds 24 bytes but shape \[4\] of Float needs 16/);
});

test('a disposed generator is refused by name wherever a generator is taken, not a crash', () => {
  const g = new T.Generator(4);
  const live = new T.Generator(5);
  g.dispose();
  g.dispose(); // a second dispose is harmless
  fails(() => T.randn([3], { generator: g }), /randn.*argument \d+ is a generator that was disposed/);
  fails(() => T.zeros([3]).uniform_(0, 1, g), /uniform_.*generator that was disposed/);
  fails(() => T.randintRows([live, g], 0, 10, 2), /randintRows.*argument 0: element 1 is a generator that was disposed/);
  fails(() => g.getState(), /generator that was disposed/);
  // The live one is untouched: its first draw is torch.randn(3, generator=torch.Generator().manual_seed(5)).
  assert.deepEqual((T.tidy(() => T.randn([3], { generator: live }).toArray()) as number[]).map((v) => Math.round(v * 1e4) / 1e4), [-0.4868, -0.6038, -0.5581]);
});

test('in-place updates of a leaf that requires grad must run in noGrad (as in PyTorch)', () => {
  fails(() => T.ones([2]).requiresGrad_().add_(1), /add_.*leaf Variable that requires grad/);
});

/** A tiny deterministic PRNG for the fuzzer (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('no combination of garbage arguments crashes any native entry point', () => {
  const N = native() as unknown as Record<keyof NativeBinding, (...args: unknown[]) => unknown>;
  const skip = new Set(['setNumThreads', 'setGradEnabled', 'manualSeed']);
  const random = prng(42);
  let calls = 0;
  let threw = 0;
  for (const name of Object.keys(N) as (keyof NativeBinding)[]) {
    if (skip.has(name)) continue;
    for (let trial = 0; trial < 150; trial++) {
      T.tidy(() => {
        const a = T.ones([2, 3]);
        const pool: unknown[] = [
          undefined, null, 0, 1, -1, 2, 2.5, NaN, 'x', 'cpu', true, {}, [], [2], [2, 3], [-1], [1.5],
          a.handle, T.zeros([3], { dtype: 'int64' }).handle, T.ones([2, 2, 2, 2]).handle, [a.handle, a.handle],
          new Float32Array(6), new T.Generator(1).handle, Symbol('s'), () => 1,
        ];
        const args = Array.from({ length: Math.floor(random() * 8) }, () => pool[Math.floor(random() * pool.length)]);
        calls++;
        try {
          N[name](...args);
        } catch (error) {
          threw++;
          assert.ok(error instanceof Error, `${name} threw a non-Error: ${String(error)}`);
        }
      });
    }
  }
  native().setGradEnabled(true);
  assert.ok(calls > 10000 && threw > calls / 2, `${calls} calls, ${threw} rejected`);
});
