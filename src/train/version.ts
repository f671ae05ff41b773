/** sgdlab's version from package.json, without loading the tensor layer. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let version: string | undefined;
export function sgdlabVersion(): string {
  if (version !== undefined) return version;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'sgdlab') return (version = pkg.version);
    } catch {
      /* not here */
    }
    if (dirname(dir) === dir) return (version = 'unknown');
  }
}
