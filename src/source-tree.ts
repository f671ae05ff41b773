/**
 * The project's source files, for the tests that read the tree as text (architecture.test.ts: no import
 * circles; functions.test.ts: no function over 80 lines). Needs nothing but node:fs.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's root (from dist/src/ after compilation). */
export const repoRoot = new URL('../../', import.meta.url).pathname;
export const srcDir = join(repoRoot, 'src');

/** Every .ts/.tsx file under `dir` that is not a test. */
export function sourceFiles(dir: string = srcDir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.test.ts') ? [path] : [];
  });
}
