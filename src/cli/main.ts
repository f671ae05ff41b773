/**
 * The `sgdlab` command. `npm start` runs the built-in keskar study at its quick size into
 * runs/sgdlab.db and writes its report to runs/keskar/.
 */
import { Command, CommanderError } from 'commander';
import { dropWritesToClosedPipes, reportAndExit } from './errors.js';
import { sgdlabVersion } from '../train/version.js';
import { studyCommands } from './study-command.js';
import { storeCommands } from './store-commands.js';
import { serveCommand } from './serve-command.js';

/** Commands that read or schedule studies: they never load libtorch in this process. */
const LIGHT = new Set(['run', 'status', 'results', 'export', 'retry', 'rm', 'report', 'builtin', 'worker', 'copy', 'checkpoint', 'serve']);

/** Commander's exitOverride is not inherited by commands added with addCommand. */
function withExitOverride(c: Command): Command {
  c.exitOverride().showHelpAfterError(`(run sgdlab ${c.name()} --help for the options)`);
  for (const sub of c.commands) withExitOverride(sub);
  return c;
}

export async function program(argv: readonly string[] = process.argv): Promise<Command> {
  const p = new Command('sgdlab')
    .description('a laboratory for minibatch SGD: train at any batch size and learning rate, measure, compare with theory')
    .version(sgdlabVersion())
    .showHelpAfterError('(run with --help for the options)')
    .exitOverride();
  const sub = argv[2];
  if (sub === undefined || !LIGHT.has(sub)) {
    // The training and measuring commands load the tensor layer (and libtorch) when imported.
    const { trainCommand } = await import('./train-command.js');
    const { measureCommand } = await import('./measure-command.js');
    p.addCommand(withExitOverride(trainCommand())).addCommand(withExitOverride(measureCommand()));
  }
  for (const c of [...studyCommands(), ...storeCommands()]) p.addCommand(withExitOverride(c));
  p.addCommand(withExitOverride(serveCommand()));
  return p;
}

dropWritesToClosedPipes(process.stdout, process.stderr);
try {
  await (await program()).parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  reportAndExit(error);
}
