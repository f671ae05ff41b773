/**
 * Seeded random number generators. Every random op takes an optional generator; without one it
 * draws from libtorch's default CPU generator (seeded by manualSeed). Both are the same
 * Philox/MT engines as PyTorch's, so `randn([5], { generator: new Generator(0) })` equals
 * `torch.randn(5, generator=torch.Generator().manual_seed(0))`.
 */
import type { GeneratorHandle } from '../native/index.js';
import { N, Tensor, run } from './tensor.js';

export class Generator {
  readonly handle: GeneratorHandle;
  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`Generator: the seed must be a non-negative safe integer, got ${seed}`);
    this.handle = N.generator(seed);
  }
  /** The engine state as a uint8 tensor, for checkpoints. */
  getState(): Tensor {
    return new Tensor(N.generatorState(this.handle));
  }
  setState(state: Tensor): void {
    run('Generator.setState', [state], () => N.setGeneratorState(this.handle, state.handle));
  }
  /**
   * Frees the engine (about 5 kB of state that V8's heap accounting does not see) now rather than at
   * garbage collection. Code that makes generators by the hundred thousand (a Monte Carlo over batch
   * sequences) disposes of them, or the process's memory grows by gigabytes before V8 collects.
   */
  dispose(): void {
    N.disposeGenerator(this.handle);
  }
}

/** Seeds libtorch's default generator (used by random ops given no generator). */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`manualSeed: the seed must be a non-negative safe integer, got ${seed}`);
  N.manualSeed(seed);
}
