/**
 * `sgdlab measure robustness --checkpoint PATH [--attack fgsm|pgd] [--norm linf|l2] [--epsilon 0.05,0.1,0.2] …`:
 * clean against adversarial accuracy of a saved model, on its test split by default, ε in raw pixel
 * units (images in [0, 1]). The model is evaluated in evaluation mode; the attack runs in --mode
 * (evaluation by default: running batch-norm statistics, no dropout).
 *
 *   sgdlab measure robustness --checkpoint runs/f1 --attack pgd --epsilon 0.1,0.2 --json
 *     → { "clean": { "accuracy": … }, "points": [{ "epsilon": 0.1, "adversarial": { "accuracy": … } }, …], … }
 */
import { Command } from 'commander';
import { appliedNormalization } from '../data/index.js';
import { robustness } from '../measure/index.js';
import { attackStepSize, attackSteps } from '../train/index.js';
import { UsageError } from './errors.js';
import { positiveFlag as positive, seedFlag } from './flags.js';
import { common, output, withCheckpoint, type CommonFlags } from './measure-checkpoint.js';

interface RobustnessFlags extends CommonFlags {
  attack?: string;
  norm?: string;
  epsilon?: string;
  steps?: string;
  stepSize?: string;
  randomStart?: boolean;
  mode?: string;
  batchSize?: string;
  seed?: string;
}

function oneOf<V extends string>(flag: string, value: string | undefined, allowed: readonly V[], fallback: V): V {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as V)) throw new UsageError(`--${flag}: '${value}' must be ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`);
  return value as V;
}

export function robustnessCommand(): Command {
  return common(new Command('robustness'))
    .description('clean vs adversarial accuracy under FGSM or PGD (Goodfellow et al. 2015; Madry et al. 2018), for each ε; on the test split by default')
    .option('--attack <name>', 'fgsm (default) or pgd')
    .option('--norm <name>', 'linf (default) or l2')
    .option('--epsilon <list>', 'radii of the ball in raw pixel units, comma-separated (default 0.1)')
    .option('--steps <k>', 'PGD iterations (default 10)')
    .option('--step-size <alpha>', 'step size (default ε for FGSM, 2.5·ε/steps for PGD)')
    .option('--random-start', 'start PGD at a random point of the ball (the default for PGD)')
    .option('--no-random-start', 'start at the clean input')
    .option('--mode <mode>', "the model's mode during the attack: eval (default) or train")
    .option('--batch-size <n>', 'examples attacked at once (default 1000)')
    .option('--seed <n>', 'seed of the random starts (default 0)')
    .action((flags: RobustnessFlags) => {
      const attack = oneOf('attack', flags.attack, ['fgsm', 'pgd'] as const, 'fgsm');
      const norm = oneOf('norm', flags.norm, ['linf', 'l2'] as const, 'linf');
      const mode = oneOf('mode', flags.mode, ['eval', 'train'] as const, 'eval');
      const epsilons = (flags.epsilon ?? '0.1').split(',').map((e) => positive('epsilon', e.trim(), 0, false));
      if (attack === 'fgsm' && flags.steps !== undefined && flags.steps !== '1') throw new UsageError(`--steps: fgsm takes one step (got '${flags.steps}'); use --attack pgd for several`);
      const spec = {
        attack, norm, mode,
        ...(flags.steps !== undefined ? { steps: positive('steps', flags.steps, 10) } : {}),
        ...(flags.stepSize !== undefined ? { stepSize: positive('step-size', flags.stepSize, 0, false) } : {}),
        ...(flags.randomStart !== undefined ? { randomStart: flags.randomStart } : {}),
      };
      const seed = seedFlag(flags.seed);
      withCheckpoint({ ...flags, split: flags.split ?? 'test' }, (s) => {
        if (s.data.inputRange === undefined) process.stderr.write(`note: ${s.data.description} has no bounded input range; adversarial inputs are not clamped\n`);
        const r = robustness(s.model, s.split, s.loss, spec, epsilons, { normalization: appliedNormalization(s.data), range: s.data.inputRange }, { limit: s.n, seed, batchSize: positive('batch-size', flags.batchSize, 1000) });
        const steps = attackSteps({ ...spec, epsilon: 1 });
        const describe = (eps: number) => `${attack.toUpperCase()}${attack === 'pgd' ? `-${steps}` : ''}, ${norm === 'linf' ? 'L∞' : 'L2'}, ε = ${eps}, step ${attackStepSize({ ...spec, epsilon: eps }).toPrecision(3)}, attack in ${mode} mode`;
        const pct = (a: number | null) => (a === null ? '–' : `${(100 * a).toFixed(2)}%`);
        output(flags, { ...r, attack: { ...spec, steps, randomStart: spec.randomStart ?? attack === 'pgd' }, split: flags.split ?? 'test' },
          `clean: accuracy ${pct(r.clean.accuracy)}, loss ${r.clean.loss.toPrecision(4)} on ${r.examples} ${flags.split ?? 'test'} examples\n` +
          r.points.map((p) => `${describe(p.epsilon)}: accuracy ${pct(p.adversarial.accuracy)}, loss ${p.adversarial.loss.toPrecision(4)}`).join('\n') +
          `\n(${r.seconds.toFixed(1)} s)`);
      });
    });
}
