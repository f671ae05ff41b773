#!/usr/bin/env node
// Builds the dashboard's client (src/dashboard/client) into dist/dashboard/: type-checks it (its own
// tsconfig: DOM, JSX for Preact), then bundles it with esbuild into app.js (Preact, vega, vega-lite,
// vega-embed and the pages, minified) and app.css, beside index.html. Nothing is fetched: everything
// comes from node_modules, and `sgdlab serve` serves these files only.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const client = join(root, 'src/dashboard/client');
const out = join(root, 'dist/dashboard');

const check = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(client, 'tsconfig.json')], { stdio: 'inherit' });
if (check.status !== 0) {
  console.error('build-dashboard: the client does not type-check');
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(client, 'main.tsx') },
  outdir: out,
  bundle: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: 'linked',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'eof',
  logLevel: 'warning',
});
copyFileSync(join(client, 'index.html'), join(out, 'index.html'));
writeFileSync(join(out, '.stamp'), `${new Date().toISOString()}\n`);
const kb = (f) => `${(statSync(join(out, f)).size / 1024).toFixed(0)} KiB`;
console.error(`build-dashboard: dist/dashboard/app.js ${kb('app.js')}, app.css ${kb('app.css')}`);
