/**
 * The source tree has no import circles (docs/ARCHITECTURE.md: each layer imports only from the layers
 * before it, and within a folder one module leans on another, never both ways). Type-only imports count:
 * a circle of types is still two modules that cannot be read or changed one without the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { repoRoot, sourceFiles, srcDir } from './source-tree.js';


/**
 * The project modules a source imports or re-exports from, statically or by dynamic import() (a backend
 * loaded on demand is still a dependency), as relative specifiers resolved to .ts files.
 */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?\bfrom\s+'(\.[^']+)'/g),
    ...text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g),
  ];
  return specifiers
    .map((m) => normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts'))
    .filter((f) => existsSync(f));
}

/** Strongly connected components with more than one module, or a module importing itself (Tarjan). */
function circles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        onStack.delete(w);
        component.push(w);
        if (w === v) break;
      }
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('no import circles in src/ (type-only imports included)', () => {
  const files = sourceFiles(srcDir);
  assert.ok(files.length > 100, `${files.length} source files`);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  assert.ok([...graph.values()].reduce((n, d) => n + d.length, 0) > 300, 'the imports were read');
  assert.deepEqual(circles(graph).map((c) => c.map((f) => relative(repoRoot, f))), []);
});

test('the circle finder finds a circle (a check that it can fail)', () => {
  const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']], ['e', ['e']]]);
  assert.deepEqual(circles(graph).map((c) => c.join()).sort(), ['a,b,c', 'e']);
});
