/**
 * Step timing shared by the benchmark's JavaScript sides (bench/pytorch_bench.py mirrors it):
 * a few warm-up steps, then blocks of steps until a time budget is spent; the result is the
 * median per-step time over blocks, which shrugs off a stray slow block.
 */
export interface TimingOptions {
  warmup?: number;
  /** Stop once this much time was spent measuring (and at least minBlocks blocks ran). */
  budgetMs?: number;
  minBlocks?: number;
  /** Steps per block (more steps per block for fast steps). */
  blockSteps?: number;
}

export function medianStepMs(step: () => void, options: TimingOptions = {}): number {
  const warmup = options.warmup ?? 3;
  const budget = options.budgetMs ?? 1500;
  const minBlocks = options.minBlocks ?? 5;
  for (let i = 0; i < warmup; i++) step();
  // Size blocks to take about budget/10 each, from one timed step.
  const t0 = performance.now();
  step();
  const once = Math.max(performance.now() - t0, 1e-3);
  const blockSteps = options.blockSteps ?? Math.max(1, Math.round(budget / 10 / once));
  const perStep: number[] = [];
  const start = performance.now();
  while (perStep.length < minBlocks || performance.now() - start < budget) {
    const b0 = performance.now();
    for (let i = 0; i < blockSteps; i++) step();
    perStep.push((performance.now() - b0) / blockSteps);
  }
  perStep.sort((a, b) => a - b);
  return perStep[Math.floor(perStep.length / 2)]!;
}
