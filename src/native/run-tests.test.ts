/**
 * scripts/run-tests.mjs, the runner behind `npm test`: `--every-node` selects exactly the test files
 * whose source marks them (read here from the TypeScript sources, not the runner's parse of the compiled
 * files), and its closing tally counts what the files' own test runners counted, a crashed file as a
 * failure, after a digest of each failure that CI's summary repeats. CI's Node 22 run depends on the
 * first: a marker the runner cannot read runs no test there.
 */
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { repoRoot } from '../study/testing.js';

const runner = join(repoRoot, 'scripts', 'run-tests.mjs');
/** The environment of a top-level `npm test`: without NODE_TEST_CONTEXT, with which node --test skips nested runs. */
const topLevel = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.test.ts') ? [path] : [];
  });
}

test('--every-node lists exactly the test files whose source carries the every-node marker', () => {
  const marked = sources(join(repoRoot, 'src'))
    .filter((f) => readFileSync(f, 'utf8').split('\n').some((line) => line.startsWith('// test-runner: every-node')))
    .map((f) => join('dist', relative(repoRoot, f)).replace(/\.ts$/, '.js'))
    .sort();
  assert.ok(marked.length >= 10, `${marked.length} marked sources`);
  const listed = spawnSync(process.execPath, [runner, '--every-node', '--list'], { cwd: repoRoot, encoding: 'utf8', env: topLevel });
  assert.equal(listed.status, 0, listed.stderr);
  assert.deepEqual(listed.stdout.trim().split('\n').sort(), marked);
});

test('the closing tally adds up the files: passes, failures, skips, and a file that crashed counts as a failure; each file has a temporary directory of its own', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'sgdlab-run-tests-'));
  mkdirSync(join(scratch, 'dist'));
  const file = (name: string, body: string) => writeFileSync(join(scratch, 'dist', name), `import { test } from 'node:test';\n${body}\n`);
  // Each file leaves a folder in its temporary directory and says where.
  const leave = (name: string) => `import { mkdtempSync } from 'node:fs'; import { tmpdir } from 'node:os'; import { join } from 'node:path';\nconsole.log('LEFT ' + mkdtempSync(join(tmpdir(), '${name}-')));`;
  file('a.test.js', `${leave('a')}\ntest('one', () => {}); test('two', () => {}); test('skipped', { skip: 'no GPU' }, () => {});`);
  file('b.test.js', `${leave('b')}\ntest('fails', () => { throw new Error('no'); }); test('passes', () => {});`);
  file('c.test.js', "process.exit(3);");
  const run = spawnSync(process.execPath, [runner, '--jobs', '2'], { cwd: scratch, encoding: 'utf8', env: topLevel });
  assert.equal(run.status, 1, run.stdout);
  assert.match(run.stdout, /^3 passed, 2 failed, 1 skipped$/m, run.stdout);
  assert.match(run.stdout, /^ℹ pass 3$/m);
  assert.match(run.stdout, /failed files \(2\):\n {2}dist\/b\.test\.js\n {2}dist\/c\.test\.js/);
  // The digest of the failures, last before the tally (CI's log is shown by its tail): each failed test
  // by name with its error, a crashed file by its exit; no empty line inside, since .ci/run takes the
  // section from "failures:" to the first empty line.
  const digest = run.stdout.slice(run.stdout.indexOf('\nfailures:\n') + 1).split('\n\n')[0];
  assert.match(digest, /^failures:\n {2}dist\/b\.test\.js \(exit 1\):\n(?: {4}.*\n)*? {4}✖ fails .*\n {6}Error: no\n/, digest);
  assert.match(digest, /\n {2}dist\/c\.test\.js \(exit 1\):\n/, digest);
  assert.doesNotMatch(digest, /✖ passes|node:internal/, digest);
  // Each file ran with a temporary directory of its own: a passed file's is gone, a failed file's is kept and named.
  const left = (name: string) => run.stdout.match(new RegExp(`LEFT (\\S+/${name}-\\w+)`))?.[1] ?? assert.fail(`no LEFT line for ${name}: ${run.stdout}`);
  const [a, b] = [left('a'), left('b')];
  for (const path of [a, b]) assert.match(relative(tmpdir(), path), /^sgdlab-test-\w+\/[ab]-\w+$/, `${path}: in a folder of its file's own`);
  assert.ok(!existsSync(a) && !existsSync(dirname(a)), `${a} is removed with its file's temporary directory`);
  assert.ok(existsSync(b), `${b} is kept`);
  assert.ok(run.stdout.includes(`▶ dist/b.test.js: FAILED (exit 1; its temporary files are kept in ${dirname(b)})`), run.stdout);
  for (const [, kept] of run.stdout.matchAll(/its temporary files are kept in (\S+)\)/g)) rmSync(kept!, { recursive: true, force: true });
  // Only the closing tally starts a line with node --test's "ℹ": CI's summary reads those lines.
  assert.equal(run.stdout.match(/^ℹ tests /gm)?.length, 1);
});
