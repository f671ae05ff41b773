#!/usr/bin/env node
// Runs one of the compiled examples (examples/*.ts → dist/examples/*.js) by name, passing the rest of the
// arguments on: `npm run example -- train-and-measure --quick` is `node dist/examples/train-and-measure.js --quick`.
// Without a name, or with an unknown one, it lists the examples.
import { existsSync, readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const dir = join('dist', 'examples');
const known = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.js') && !f.endsWith('.test.js')).map((f) => f.slice(0, -3)).sort() : [];
const [given, ...rest] = process.argv.slice(2);
const name = given?.replace(/^examples\//, '').replace(/\.(ts|js)$/, '');
if (name === undefined || !known.includes(name)) {
  const list = known.length > 0 ? known.join(', ') : 'none built (run bash scripts/setup.sh)';
  console.error(`${name === undefined ? 'which example?' : `example: no example '${name}'`} Known examples: ${list}\nusage: npm run example -- NAME [ARGS…]   (e.g. npm run example -- hessian-vector-product --quick)`);
  process.exit(2);
}
const child = spawn(process.execPath, [join(dir, `${name}.js`), ...rest], { stdio: 'inherit' });
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
