/**
 * `node dist/bench/napi-calls.js`: the cost of one call into the libtorch addon, to compare Node
 * releases (the addon is one N-API build for all of them, so only Node's side of a call can
 * differ). From a call that does nothing in libtorch to a small op through the tensor layer:
 *   getNumThreads    N-API in and out, an int back;
 *   isDisposed       plus reading a handle argument (slot-table lookup);
 *   shape            plus building a JavaScript array;
 *   native add       the addon's add of two 4-element tensors and its dispose: ATen's dispatch, an
 *                    allocation, a new handle;
 *   T.add            the same through the tensor layer (a Tensor object, its FinalizationRegistry
 *                    entry and scope tracking): what a training step pays per op on tiny tensors.
 * Median time per call over blocks (bench/timing.ts), in nanoseconds; one libtorch thread.
 */
import { native } from '../src/native/index.js';
import * as T from '../src/tensor/index.js';
import { medianStepMs } from './timing.js';

T.setNumThreads(1);
const binding = native();
const a = T.ones([4]);
const b = T.ones([4]);
const handle = a.handle;
const calls: [string, () => void, number][] = [
  ['getNumThreads', () => binding.getNumThreads(), 10000],
  ['isDisposed', () => binding.isDisposed(handle), 10000],
  ['shape', () => binding.shape(handle), 10000],
  ['native add', () => binding.dispose(binding.add(handle, b.handle, null, false)), 1000],
  ['T.add', () => T.add(a, b).dispose(), 1000],
];
const results = calls.map(([name, call, blockSteps]) => `${name} ${(medianStepMs(call, { warmup: blockSteps, blockSteps, budgetMs: 2000, minBlocks: 20 }) * 1e6).toFixed(0)} ns`);
console.log(`Node ${process.version} (N-API ${process.versions.napi}): ${results.join(', ')}`);
