/** The progress bar of the long `sgdlab measure` subcommands (hessian, sharpness). */
import cliProgress from 'cli-progress';
import type { MeasurementCost, Objective } from '../measure/index.js';

/** A progress bar on stderr (shown on terminals only) counting passes over the data. */
export function progress(objective: Objective, task: string, expectedPasses: number): { stop(): void } {
  const bar = new cliProgress.SingleBar({ format: `${task} |{bar}| {value}/{total} passes over {examples} examples | {duration_formatted}`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(expectedPasses, 0, { examples: objective.n });
  const passes = (c: MeasurementCost) => c.lossEvaluations + c.gradients + c.hessianVectorProducts;
  objective.onWork = (c) => {
    const done = passes(c);
    if (done > expectedPasses) bar.setTotal(done);
    bar.update(done);
  };
  return { stop: () => bar.stop() };
}
