/** sgdlab's version from package.json, without loading the tensor layer. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let version: string | undefined;

/**
 * The version of the sgdlab package this module belongs to. Trial keys include it, so a missing or
 * unreadable package.json must stop the program rather than re-key every stored trial under a
 * made-up version: it throws, naming where it looked.
 */
export function sgdlabVersion(): string {
  if (version !== undefined) return version;
  const looked: string[] = [];
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      looked.push(file);
    }
    if (text !== undefined) {
      let pkg: { name?: unknown; version?: unknown };
      try {
        pkg = JSON.parse(text) as typeof pkg;
      } catch (error) {
        throw new Error(`sgdlab's version: ${file} is not valid JSON (${(error as Error).message})`);
      }
      if (pkg.name === 'sgdlab') {
        if (typeof pkg.version !== 'string' || pkg.version === '') throw new Error(`sgdlab's version: ${file} has no "version" string`);
        return (version = pkg.version);
      }
      looked.push(`${file} (package ${JSON.stringify(pkg.name)})`);
    }
    if (dirname(dir) === dir) throw new Error(`sgdlab's version: no package.json of the sgdlab package above ${fileURLToPath(import.meta.url)}; looked at ${looked.join(', ')}. The install is incomplete: trial keys include the version, so nothing can be run or resumed without it.`);
  }
}
