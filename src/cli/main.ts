/**
 * The `sgdlab` command. `npm start` runs `sgdlab train` on its embedded default
 * (keskar-f1 on MNIST, Adam, batch 256, one epoch).
 */
import { Command, CommanderError } from 'commander';
import { reportAndExit } from './errors.js';
import { sgdlabVersion } from '../train/record.js';
import { trainCommand } from './train-command.js';
import { measureCommand } from './measure-command.js';

/** Commander's exitOverride is not inherited by commands added with addCommand. */
function withExitOverride(c: Command): Command {
  c.exitOverride().showHelpAfterError(`(run sgdlab ${c.name()} --help for the options)`);
  for (const sub of c.commands) withExitOverride(sub);
  return c;
}

export function program(): Command {
  return new Command('sgdlab')
    .description('a laboratory for minibatch SGD: train at any batch size and learning rate, measure, compare with theory')
    .version(sgdlabVersion())
    .showHelpAfterError('(run with --help for the options)')
    .exitOverride()
    .addCommand(trainCommand().exitOverride().showHelpAfterError('(run sgdlab train --help for the options)'))
    .addCommand(withExitOverride(measureCommand()));
}

try {
  await program().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  reportAndExit(error);
}
