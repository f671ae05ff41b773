/** `sgdlab builtin list` and `sgdlab builtin show NAME [--size S]`: the built-in studies (the papers sgdlab reproduces). */
import { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { BUILTIN_SIZES, BUILTIN_STUDIES, builtinStudy, expandTrials } from '../study/index.js';
import { sgdlabVersion } from '../train/version.js';

export function builtinCommand(): Command {
  const builtin = new Command('builtin').description('the built-in studies (the papers sgdlab reproduces)');
  builtin.addCommand(new Command('list')
    .description('the built-in studies, their sizes and trial counts')
    .action(() => {
      for (const b of BUILTIN_STUDIES) {
        const sizes = BUILTIN_SIZES.map((size) => `${size}: ${expandTrials(builtinStudy(b.name, size), sgdlabVersion()).length} trials`).join(', ');
        process.stdout.write(`${b.name} — ${b.description}\n  paper: ${b.paper}\n  sizes: ${sizes}\n  run: sgdlab run --builtin ${b.name} --size quick --db PATH --report DIR\n`);
      }
    }));
  builtin.addCommand(new Command('show')
    .description('print a built-in study as a study file (YAML), to copy and edit')
    .argument('<name>')
    .option('--size <size>', 'smoke, quick (default) or full')
    .action((name: string, flags: { size?: string }) => {
      process.stdout.write(toYaml(builtinStudy(name, flags.size ?? 'quick')));
    }));

  return builtin;
}
