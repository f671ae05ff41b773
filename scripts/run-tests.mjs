#!/usr/bin/env node
// Runs the compiled test files (dist/**/*.test.js), each in a Node test-runner process of its own,
// several at a time, and prints each file's report whole when it ends (never interleaved), the
// slowest files, and one closing tally in node --test's own words.
//
//   node scripts/run-tests.mjs [--jobs N] [--every-node] [--times FILE] [--list] [filter ...]
//     filter        substrings of test file paths (a file runs if it contains any of them)
//     --jobs N      files run at once (default: SGDLAB_TEST_JOBS, else the CPU count; at least 1)
//     --every-node  only the files marked `// test-runner: every-node` (those that touch native code or
//                   its ABI: the addon, better-sqlite3, PostgreSQL, child processes, streams, threads),
//                   which CI runs on every tested Node release; the rest run on two of them
//     --times FILE  write each file's wall time as JSON (.cache/test-times.json is always updated)
//     --list        print the files that would run, one a line, and run nothing
//
// Why files run concurrently: libtorch runs one thread per process here (src/native/addon.cc), so one
// test file keeps one core busy and a file per core roughly halves the suite on two cores.
// Longest files start first (times from the last run, in .cache/test-times.json), so that the suite
// does not end waiting for one long file started last.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawn } from 'node:child_process';

const TALLY_KEYS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'];
const TIMES_CACHE = join('.cache', 'test-times.json');

function usage(message) {
  console.error(`run-tests: ${message}\nusage: node scripts/run-tests.mjs [--jobs N] [--every-node] [--times FILE] [--list] [filter ...]`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { jobs: Number(process.env.SGDLAB_TEST_JOBS || availableParallelism()), everyNode: false, times: null, list: false, filters: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--jobs') options.jobs = Number(argv[++i]);
    else if (arg === '--every-node') options.everyNode = true;
    else if (arg === '--list') options.list = true;
    else if (arg === '--times') options.times = argv[++i] ?? usage('--times needs a file');
    else if (arg.startsWith('--')) usage(`unknown option '${arg}'`);
    else options.filters.push(arg);
  }
  if (!Number.isInteger(options.jobs) || options.jobs < 1) usage(`--jobs (or SGDLAB_TEST_JOBS) must be a whole number ≥ 1, got '${options.jobs}'`);
  return options;
}

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

/**
 * The markers at the head of a compiled test file (tsc keeps comments): a line
 * `// test-runner: every-node (why)` marks it `every-node`; the words in parentheses are for people.
 */
function markers(file) {
  const head = readFileSync(file, 'utf8').slice(0, 4000);
  return new Set([...head.matchAll(/^\/\/ test-runner: ([\w-]+(?:, [\w-]+)*)/gm)].flatMap((m) => m[1].split(', ')));
}

function readTimes() {
  try {
    return JSON.parse(readFileSync(TIMES_CACHE, 'utf8'));
  } catch {
    return {};
  }
}

/** node --test's closing lines ("ℹ pass 12") of one file's output, as numbers. */
function tallyOf(output) {
  const tally = {};
  for (const key of TALLY_KEYS) {
    const found = [...output.matchAll(new RegExp(`^ℹ ${key} (\\d+)$`, 'gm'))].pop();
    if (found) tally[key] = Number(found[1]);
  }
  return tally;
}

const DIGEST_LINES = 40;

/**
 * What a failed file's output says of its failures, shortened for a summary: node --test's own
 * "failing tests:" section (each test's name and error) without the stack frames inside Node, at most
 * DIGEST_LINES lines; for a file that died before it (a crash, a signal), its last lines. Each line
 * indented, none empty, so that a reader (.ci/run) takes the section up to its first empty line.
 */
function failureDigest({ file, code, signal, output }) {
  const lines = output.trimEnd().split('\n');
  const start = lines.findIndex((line) => /^✖ failing tests:/.test(line));
  const body = start >= 0
    ? lines.slice(start + 1).filter((line) => !/^\s+at .*\((node:|file:\/\/\/.*node_modules)/.test(line) && !/^\s+at (async )?node:/.test(line))
    : lines.slice(-DIGEST_LINES);
  const collapsed = body.filter((line, i) => line.trim() !== '' || (i > 0 && body[i - 1].trim() !== ''));
  const kept = collapsed.slice(0, DIGEST_LINES);
  const more = collapsed.length > kept.length ? [`… (${collapsed.length - kept.length} lines more in ${file}'s report above)`] : [];
  return [`  ${file} (${signal ? `signal ${signal}` : `exit ${code}`}):`, ...[...kept, ...more].map((line) => `    ${line}`.trimEnd() || '    ·')].join('\n');
}

/**
 * Runs one test file with a temporary directory of its own (TMPDIR), removed when the file passed and
 * kept, for a look, when it failed. Test files make scratch folders and leave them (a study's store and
 * report, a built-in's smoke run: up to 200 MB each), and a runner a test SIGKILLs leaves its workers'
 * folders: a CI run (three Node releases) left about 0.9 GB in /tmp, on a disk other machines share.
 * PostgreSQL test clusters stop and delete themselves on the file's exit (pg-testing.ts).
 */
function runFile(file) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const scratch = mkdtempSync(join(tmpdir(), 'sgdlab-test-'));
    // Traversable by others: PostgreSQL test clusters inside it run as the user postgres when tests run as root.
    chmodSync(scratch, 0o755);
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: scratch } });
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    child.on('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      try {
        if (code === 0) rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
      } catch (error) {
        // A file still written to while removed (a server shutting down): say so, never fail the run for it.
        process.stderr.write(`run-tests: could not remove ${scratch} (${error.code ?? error.message})\n`);
      }
      resolve({ file, code, signal, seconds, scratch, output: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

function report(result) {
  const { file, code, signal, seconds, scratch, output } = result;
  const status = code === 0 ? 'ok' : `FAILED (${signal ? `signal ${signal}` : `exit ${code}`}; its temporary files are kept in ${scratch})`;
  // Indented, so that only the closing tally below starts a line with node --test's "ℹ".
  const body = output.trimEnd().split('\n').map((line) => `  ${line}`).join('\n');
  process.stdout.write(`\n▶ ${file}: ${status}, ${seconds.toFixed(1)} s\n${body}\n`);
}

/** Runs the files, at most `jobs` at once, in the order given. */
async function runAll(files, jobs) {
  const results = [];
  const queue = [...files];
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const result = await runFile(file);
      report(result);
      results.push(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));
  return results;
}

const options = parseArgs(process.argv.slice(2));
const all = find('dist').sort();
const files = all
  .filter((f) => options.filters.length === 0 || options.filters.some((s) => f.includes(s)))
  .map((file) => ({ file, marks: markers(file) }))
  .filter(({ marks }) => !options.everyNode || marks.has('every-node'))
  .map(({ file }) => file);
if (files.length === 0) {
  console.error(`run-tests: no test files found${options.filters.length ? ` matching ${options.filters.map((f) => `'${f}'`).join(', ')}` : ''}${options.everyNode ? ' marked every-node' : ''} under dist/`);
  process.exit(1);
}
if (options.list) {
  process.stdout.write(files.map((f) => `${f}\n`).join(''));
  process.exit(0);
}
const previous = readTimes();
// A file with no recorded time (new, or a fresh clone) starts first: it may be a long one.
const recorded = (file) => previous[file] ?? Infinity;
files.sort((a, b) => (recorded(a) === recorded(b) ? 0 : recorded(a) < recorded(b) ? 1 : -1));

const started = Date.now();
console.log(`run-tests: ${files.length} files, ${options.jobs} at once${options.everyNode ? ' (the every-node files)' : ''}, on Node ${process.version}`);
const results = await runAll(files, options.jobs);
const wall = (Date.now() - started) / 1000;

const times = Object.fromEntries(results.map((r) => [r.file, Number(r.seconds.toFixed(1))]));
mkdirSync(dirname(TIMES_CACHE), { recursive: true });
writeFileSync(TIMES_CACHE, JSON.stringify({ ...previous, ...times }, null, 1) + '\n');
if (options.times) writeFileSync(options.times, JSON.stringify(times, null, 1) + '\n');

const total = Object.fromEntries(TALLY_KEYS.map((k) => [k, 0]));
const broken = [];
for (const r of results) {
  const tally = tallyOf(r.output);
  for (const k of TALLY_KEYS) total[k] += tally[k] ?? 0;
  // A file that crashed before its tally (or failed outside a test) fails as one test.
  if (r.code !== 0 && !(tally.fail > 0 || tally.cancelled > 0)) {
    total.tests += 1;
    total.fail += 1;
  }
  if (r.code !== 0) broken.push(r);
}
const slowest = [...results].sort((a, b) => b.seconds - a.seconds).slice(0, 15);
const cpu = results.reduce((s, r) => s + r.seconds, 0);
console.log(`\nslowest test files (wall seconds; ${results.length} files, ${cpu.toFixed(0)} s in all, ${wall.toFixed(0)} s with ${options.jobs} at once):`);
for (const r of slowest) console.log(`  ${r.seconds.toFixed(1).padStart(7)}  ${r.file}`);
if (broken.length > 0) {
  // Last before the tally, so that a log shown only by its tail (CI's) still names what failed and why.
  const sorted = [...broken].sort((a, b) => (a.file < b.file ? -1 : 1));
  console.log(`\nfailed files (${broken.length}):\n${sorted.map((r) => `  ${r.file}`).join('\n')}`);
  console.log(`\nfailures:\n${sorted.map(failureDigest).join('\n')}`);
}
console.log('');
for (const k of TALLY_KEYS) console.log(`ℹ ${k} ${total[k]}`);
console.log(`ℹ duration_ms ${Math.round(wall * 1000)}`);
console.log(`${total.pass} passed, ${total.fail + total.cancelled} failed, ${total.skipped} skipped`);
process.exit(broken.length > 0 ? 1 : 0);
