/**
 * `sgdlab train`: one training run from flags and/or a YAML (or JSON) file. Precedence: built-in
 * defaults < --config file < flags. Prints a progress bar on stderr and a summary, or with --json
 * one JSON object on stdout.
 *
 *   sgdlab train --model keskar-f1 --dataset mnist --optimizer adam --lr 0.001 --batch-size 256 \
 *                --epochs 1 --seed 0 --save runs/f1 --json
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import cliProgress from 'cli-progress';
import { checkedDevice, parseTrainConfig, train, type TrainConfigInput, type TrainResult } from '../train/index.js';
import { UsageError } from './errors.js';

/** The embedded default run of `sgdlab train` with no configuration. */
export const DEFAULT_RUN: TrainConfigInput = {
  model: { name: 'keskar-f1' },
  data: { name: 'mnist' },
  optimizer: { name: 'adam', lr: 0.001 },
  batchSize: 256,
  budget: { epochs: 1 },
  seed: 0,
};

interface TrainFlags {
  config?: string;
  model?: string;
  widths?: string;
  activation?: string;
  batchNorm?: boolean;
  ghostBatchSize?: string;
  dataset?: string;
  dataDir?: string;
  subset?: string;
  validation?: string;
  optimizer?: string;
  lr?: string;
  momentum?: string;
  nesterov?: boolean;
  weightDecay?: string;
  batchSize?: string;
  microBatchSize?: string;
  sampling?: string;
  epochs?: string;
  steps?: string;
  schedule?: string;
  warmup?: string;
  scaling?: string;
  evalEvery?: string;
  seed?: string;
  device?: string;
  save?: string;
  json?: boolean;
  history?: boolean;
  resume?: boolean;
}

function number(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag}: '${value}' is not a number`);
  return n;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--config: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    throw new UsageError(`--config: ${path} is not valid YAML: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`--config: ${path} must hold a mapping of configuration fields`);
  return parsed as Record<string, unknown>;
}

/** Parses --schedule: constant | cosine | cosine:MIN | step:M1,M2[:GAMMA]. */
function schedule(value: string): unknown {
  const [kind, a, b] = value.split(':');
  if (kind === 'constant') return { kind };
  if (kind === 'cosine') return a === undefined ? { kind } : { kind, minFactor: number('schedule', a) };
  if (kind === 'step' && a) return { kind, milestones: a.split(',').map((m) => number('schedule', m)), ...(b ? { gamma: number('schedule', b) } : {}) };
  throw new UsageError(`--schedule: '${value}' is not a schedule; expected constant, cosine[:MIN_FACTOR] or step:FRACTION[,FRACTION…][:GAMMA]`);
}

/** Merges flags over the file over the defaults into one configuration input. */
export function configFromFlags(flags: TrainFlags): TrainConfigInput {
  const file = flags.config ? readConfigFile(flags.config) : {};
  const base = { ...DEFAULT_RUN, ...file } as Record<string, unknown>;
  const merge = (key: string, patch: Record<string, unknown>, resetOnNewName: boolean) => {
    const clean = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    if (Object.keys(clean).length === 0) return;
    const current = (base[key] ?? {}) as Record<string, unknown>;
    // A different model or dataset starts from its own defaults; a different optimizer keeps lr etc.
    base[key] = resetOnNewName && clean.name !== undefined && clean.name !== current.name ? clean : { ...current, ...clean };
  };
  merge('model', {
    name: flags.model,
    widths: flags.widths?.split(',').map((w) => number('widths', w)),
    activation: flags.activation,
    batchNorm: flags.batchNorm,
    ghostBatchSize: flags.ghostBatchSize === undefined ? undefined : number('ghost-batch-size', flags.ghostBatchSize),
  }, true);
  merge('data', {
    name: flags.dataset,
    dir: flags.dataDir,
    subset: flags.subset === undefined ? undefined : number('subset', flags.subset),
    validation: flags.validation === undefined ? undefined : number('validation', flags.validation),
  }, true);
  merge('optimizer', {
    name: flags.optimizer,
    lr: flags.lr === undefined ? undefined : number('lr', flags.lr),
    momentum: flags.momentum === undefined ? undefined : number('momentum', flags.momentum),
    nesterov: flags.nesterov,
    weightDecay: flags.weightDecay === undefined ? undefined : number('weight-decay', flags.weightDecay),
  }, false);
  if (flags.batchSize !== undefined) base.batchSize = flags.batchSize === 'full' ? 'full' : number('batch-size', flags.batchSize);
  if (flags.microBatchSize !== undefined) base.microBatchSize = number('micro-batch-size', flags.microBatchSize);
  if (flags.sampling !== undefined) base.sampling = flags.sampling;
  if (flags.epochs !== undefined && flags.steps !== undefined) throw new UsageError('--epochs and --steps: give one budget, not both');
  if (flags.epochs !== undefined) base.budget = { epochs: number('epochs', flags.epochs) };
  if (flags.steps !== undefined) base.budget = { steps: number('steps', flags.steps) };
  if (flags.schedule !== undefined) base.schedule = schedule(flags.schedule);
  if (flags.warmup !== undefined) base.warmup = { fraction: number('warmup', flags.warmup) };
  if (flags.scaling !== undefined) {
    const [rule, size] = flags.scaling.split(':');
    if (!size) throw new UsageError(`--scaling: '${flags.scaling}' should be RULE:BASE_BATCH_SIZE, e.g. linear:256 or sqrt:128`);
    base.scaling = { rule, baseBatchSize: number('scaling', size) };
  }
  if (flags.evalEvery !== undefined) base.eval = { ...((base.eval as object) ?? {}), every: number('eval-every', flags.evalEvery) };
  if (flags.seed !== undefined) base.seed = number('seed', flags.seed);
  if (flags.device !== undefined) base.device = flags.device;
  if (flags.save !== undefined) base.save = flags.save;
  return base as TrainConfigInput;
}

const pct = (a: number | null) => (a === null ? '—' : `${(100 * a).toFixed(2)}%`);

function summary(r: TrainResult): string {
  const lines = [
    `${r.status === 'completed' ? 'completed' : `DIVERGED: ${r.reason}`} — ${r.steps} steps (${r.epochs.toFixed(2)} epochs) of batch ${r.batchSize} in ${r.seconds.toFixed(1)} s, ${r.samplesPerSecond.toFixed(0)} samples/s`,
    `  train  loss ${r.train.loss.toPrecision(5)}  accuracy ${pct(r.train.accuracy)}`,
    ...(r.validation ? [`  valid  loss ${r.validation.loss.toPrecision(5)}  accuracy ${pct(r.validation.accuracy)}`] : []),
    `  test   loss ${r.test.loss.toPrecision(5)}  accuracy ${pct(r.test.accuracy)}`,
  ];
  if (r.checkpoint) lines.push(`  checkpoint ${r.checkpoint}`);
  return lines.join('\n');
}

export function trainCommand(): Command {
  return new Command('train')
    .description('train one configuration (defaults: keskar-f1 on MNIST, Adam 1e-3, batch 256, 1 epoch, seed 0)')
    .option('--config <file>', 'YAML or JSON file of configuration fields (flags override it)')
    .option('--model <name>', 'model from the zoo: mlp, keskar-f1, keskar-c1, lenet5, linear-regression, logistic-regression, deep-linear, wrn')
    .option('--widths <list>', 'hidden widths, comma-separated (mlp, deep-linear)')
    .option('--activation <name>', 'relu, tanh, sigmoid, gelu, softplus, identity (mlp)')
    .option('--batch-norm', 'batch norm after each hidden layer (mlp)')
    .option('--ghost-batch-size <n>', 'ghost batch norm: normalize chunks of n examples')
    .option('--dataset <name>', 'mnist, fashion-mnist, cifar10, cifar100, linear-regression, gaussian-classification')
    .option('--data-dir <dir>', 'directory of the dataset files')
    .option('--subset <n>', 'train on a seeded random subset of n examples')
    .option('--validation <n>', 'carve n examples (or a fraction < 1) out of the training set for validation')
    .option('--optimizer <name>', 'sgd, adam, adamw')
    .option('--lr <rate>', 'learning rate')
    .option('--momentum <m>', 'SGD momentum')
    .option('--nesterov', 'Nesterov momentum')
    .option('--weight-decay <wd>', 'L2 penalty (decoupled for adamw)')
    .option('--batch-size <n>', "examples per step, or 'full' for full-batch gradient descent")
    .option('--micro-batch-size <n>', 'largest chunk pushed through the model at once (default 2048)')
    .option('--sampling <kind>', 'reshuffle (default), replacement, fresh (synthetic data)')
    .addOption(new Option('--epochs <n>', 'budget in epochs (may be fractional)'))
    .addOption(new Option('--steps <n>', 'budget in optimizer steps'))
    .option('--schedule <spec>', 'constant, cosine[:MIN_FACTOR], step:F1,F2[:GAMMA]')
    .option('--warmup <fraction>', 'linear warm-up over this fraction of the budget')
    .option('--scaling <rule:base>', 'scale the learning rate with the batch size: linear:256, sqrt:256')
    .option('--eval-every <steps>', 'evaluate every this many steps (default once per epoch)')
    .option('--seed <n>', 'random seed (default 0)')
    .option('--device <name>', 'where to train: cpu (default), cuda or cuda:K')
    .option('--save <dir>', 'save the final checkpoint (model.safetensors + model.json) in this directory')
    .option('--resume', 'continue from the snapshot in the save directory (written every snapshotEvery steps)')
    .option('--json', 'print one JSON object with the result on stdout')
    .option('--history', 'with --json, include the per-step and per-evaluation history')
    .action((flags: TrainFlags) => {
      const config = parseTrainConfig(configFromFlags(flags), 'training configuration');
      // Before any work (train() checks too, but only once the progress bar is set up).
      checkedDevice(config, 'device', 'training configuration');
      const bar = new cliProgress.SingleBar(
        { format: 'train |{bar}| {value}/{total} steps | loss {loss} | {speed} samples/s | ETA {eta_formatted}', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      let started = false;
      const { result, model } = train(config, {
        resume: flags.resume ?? false,
        hooks: {
          onProgress: (p) => {
            if (!started) {
              bar.start(p.totalSteps, 0, { loss: '-', speed: '-' });
              started = true;
            }
            if (p.totalSteps !== bar.getTotal()) bar.setTotal(p.totalSteps); // a growing batch shortens the run
            bar.update(p.step, { loss: p.loss.toPrecision(4), speed: p.samplesPerSecond.toFixed(0) });
          },
        },
      });
      if (started) bar.stop();
      model.dispose();
      if (flags.json) {
        const out = flags.history ? result : { ...result, history: { evals: result.history.evals } };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else process.stdout.write(`${summary(result)}\n`);
    });
}
