// scripts/setup.sh, run by `npm start` and `npm test` alike: two setups of one checkout at once take turns
// (a lock), a step's stamp is written only once that step succeeded, and a failure names what failed.
// Each test runs the real setup.sh in a scratch checkout under the OS temp dir, with shims on the PATH for
// dpkg-query, npm and npx and fake tools in its node_modules/.bin (node-gyp, tsc, esbuild) and fake
// helper scripts, so nothing is installed or compiled and the real checkout (its node_modules, build/,
// dist/) is never touched. flock(1) and bash are the system's.
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const root = new URL('../../../', import.meta.url).pathname;

function write(path: string, text: string, executable = false): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  if (executable) chmodSync(path, 0o755);
}

// npm ci's shim: records each run in ../npm.log, refuses to run beside another npm ci in the same checkout
// (what the real one does then: ENOTEMPTY), holds (up to 60 s) until ../release exists when FAKE_NPM_CI=hold (so a
// test can start a second setup meanwhile), and with FAKE_NPM_CI=fail dies half-way like an interrupted one.
const npmShim = `#!/usr/bin/env bash
set -u
[ "$1" = ci ] || { echo "npm shim: unexpected npm $*" >&2; exit 2; }
echo "ci $$" >> ../npm.log
if ! mkdir .npm-ci-running 2>/dev/null; then
  echo "npm error code ENOTEMPTY" >&2
  echo "npm error ENOTEMPTY: directory not empty, rename '$PWD/node_modules/core-js/internals'" >&2
  exit 1
fi
trap 'rmdir .npm-ci-running' EXIT
rm -rf node_modules
mkdir -p node_modules/core-js/internals
if [ "\${FAKE_NPM_CI:-}" = fail ]; then
  echo "npm error code ENOTEMPTY" >&2
  exit 1
fi
if [ "\${FAKE_NPM_CI:-}" = hold ]; then
  touch ../ci-started
  for _ in $(seq 1 1200); do [ -e ../release ] && break; sleep 0.05; done
fi
mkdir -p node_modules/.bin
cp ../tools/* node_modules/.bin/
chmod +x node_modules/.bin/*
`;

// The fake tools npm ci puts in node_modules/.bin. node-gyp with FAKE_GYP=fail fails as a compile error does.
const nodeGyp = `#!/usr/bin/env bash
[ "$1" = rebuild ] || exit 2
if [ "\${FAKE_GYP:-}" = fail ]; then
  cat <<'LOG'
gyp info it worked if it ends with ok
  CXX(target) Release/obj.target/sgdlab_torch/src/native/addon.o
../src/native/addon.cc:12:3: error: 'frobnicate' was not declared in this scope
   12 |   frobnicate(x);
      |   ^~~~~~~~~~
make: *** [sgdlab_torch.target.mk:120: Release/obj.target/sgdlab_torch/src/native/addon.o] Error 1
gyp ERR! build error
gyp ERR! stack Error: \`make\` failed with exit code: 2
gyp ERR! not ok
LOG
  exit 1
fi
if [ "\${FAKE_GYP:-}" = notorch ]; then
  cat <<'LOG'

sgdlab: cannot build the libtorch binding.
  libtorch was not found: no LIBTORCH is set and Debian's libtorch-dev is not installed.

LOG
  echo "gyp: Call to 'node scripts/libtorch-config.mjs include' returned exit status 1 while in binding.gyp. while trying to load binding.gyp"
  exit 1
fi
mkdir -p build/Release && echo addon > build/Release/sgdlab_torch.node
`;
const tsc = '#!/usr/bin/env bash\nmkdir -p dist/src && echo compiled > dist/src/index.js\n';
const esbuild = '#!/usr/bin/env bash\nexit 0\n';

// npx --no-install runs node_modules/.bin/NAME, and fails as npm 10's does when it is not there.
const npxShim = `#!/usr/bin/env bash
[ "$1" = --no-install ] && shift
tool=$1; shift
if [ ! -x "node_modules/.bin/$tool" ]; then
  echo "npm error npx canceled due to missing packages and no YES option: [\\"$tool\\"]" >&2
  exit 1
fi
exec "node_modules/.bin/$tool" "$@"
`;

/** A scratch checkout holding the real scripts/setup.sh and fakes of everything it calls; returns its paths. */
function scratch(): { dir: string; checkout: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'sgdlab-setup-'));
  const checkout = join(dir, 'checkout');
  write(join(checkout, 'scripts', 'setup.sh'), readFileSync(join(root, 'scripts', 'setup.sh'), 'utf8'), true);
  write(join(checkout, 'scripts', 'node-versions.mjs'), "console.log('/fake/nodedir\\nabi 1 fake\\nNode vFake (ABI 1, N-API 8)');\n");
  write(join(checkout, 'scripts', 'libtorch-config.mjs'), "console.log('libtorch 1.13.0 at /fake');\n");
  write(join(checkout, 'scripts', 'build-dashboard.mjs'), "import { mkdirSync, writeFileSync } from 'node:fs';\nmkdirSync('dist/dashboard', { recursive: true });\nwriteFileSync('dist/dashboard/.stamp', 'built\\n');\n");
  write(join(checkout, 'package-lock.json'), '{"lockfileVersion": 3}\n');
  write(join(checkout, 'package.json'), '{}\n');
  write(join(checkout, 'tsconfig.json'), '{}\n');
  write(join(checkout, 'tsconfig.examples.json'), '{}\n');
  write(join(checkout, 'examples', 'example.ts'), 'export {};\n');
  write(join(checkout, 'binding.gyp'), '{}\n');
  write(join(checkout, 'src', 'native', 'addon.cc'), '// addon\n');
  write(join(checkout, 'src', 'index.ts'), 'export {};\n');
  write(join(checkout, 'src', 'dashboard', 'api.ts'), 'export {};\n');
  write(join(checkout, 'src', 'dashboard', 'curve-rows.ts'), 'export {};\n');
  write(join(checkout, 'src', 'dashboard', 'client', 'main.tsx'), 'export {};\n');
  mkdirSync(join(checkout, 'bench'));
  const shims = join(dir, 'shims');
  write(join(shims, 'dpkg-query'), "#!/bin/sh\nprintf 'install ok installed'\n", true);
  write(join(shims, 'npm'), npmShim, true);
  write(join(shims, 'npx'), npxShim, true);
  write(join(dir, 'tools', 'node-gyp'), nodeGyp, true);
  write(join(dir, 'tools', 'tsc'), tsc, true);
  write(join(dir, 'tools', 'esbuild'), esbuild, true);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${shims}:${process.env.PATH}` };
  for (const name of Object.keys(env)) if (name.startsWith('npm_') || name === 'LIBTORCH' || name.startsWith('FAKE_')) delete env[name];
  return { dir, checkout, env };
}

function setup(s: ReturnType<typeof scratch>, env: Record<string, string> = {}) {
  return spawnSync('bash', [join(s.checkout, 'scripts', 'setup.sh')], { encoding: 'utf8', env: { ...s.env, ...env }, timeout: 60_000 });
}

const npmCiRuns = (s: ReturnType<typeof scratch>) => (existsSync(join(s.dir, 'npm.log')) ? readFileSync(join(s.dir, 'npm.log'), 'utf8').trim().split('\n').length : 0);
/** The setup's own last word: its last `setup:` line (a failure's verdict). */
/** Runs body in a fresh scratch checkout, removed afterwards whatever happens. */
async function inScratch(body: (s: ReturnType<typeof scratch>) => void | Promise<void>): Promise<void> {
  const s = scratch();
  try {
    await body(s);
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
}

const verdict = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('setup: ')).pop() ?? '';
const lockStamp = (s: ReturnType<typeof scratch>) => join(s.checkout, 'node_modules', '.sgdlab-lock-hash');

test('setup: two setups of one checkout at once (npm start beside npm test) take turns: one npm ci, the second waits, says so once, then finds everything done', async () => {
  await inScratch(async (s) => {
    type Run = { stderr: string; code: number | null; done: Promise<void> };
    const start = (env: Record<string, string>): Run => {
      const child = spawn('bash', [join(s.checkout, 'scripts', 'setup.sh')], { env: { ...s.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      const run: Run = { stderr: '', code: null, done: Promise.resolve() };
      child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
      run.done = new Promise((resolve) => child.on('close', (code) => ((run.code = code), resolve())));
      return run;
    };
    const until = async (what: string, condition: () => boolean) => {
      for (let waited = 0; !condition(); waited += 20) {
        assert.ok(waited < 45_000, `timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    // The first setup is held inside its npm ci; the second starts meanwhile. With the lock it waits (and
    // says so); without it, it runs a second npm ci beside the first (which fails) and ends.
    const first = start({ FAKE_NPM_CI: 'hold' });
    await until('the first npm ci', () => existsSync(join(s.dir, 'ci-started')) || first.code !== null);
    const second = start({});
    await until('the second setup to wait or end', () => /waiting/.test(second.stderr) || second.code !== null);
    writeFileSync(join(s.dir, 'release'), '');
    await Promise.all([first.done, second.done]);
    assert.equal(first.code, 0, `first setup failed:\n${first.stderr}`);
    assert.equal(second.code, 0, `second setup failed:\n${second.stderr}`);
    assert.equal(npmCiRuns(s), 1, 'npm ci ran more than once');
    assert.equal(second.stderr.match(/waiting/g)?.length, 1, second.stderr);
    assert.doesNotMatch(second.stderr, /installing|building|compiling/, 'the second setup redid work the first had done');
    assert.equal(readFileSync(lockStamp(s), 'utf8').trim().length, 64);
    assert.ok(existsSync(join(s.checkout, 'build', 'Release', 'sgdlab_torch.node')));
    assert.ok(existsSync(join(s.checkout, 'dist', 'dashboard', '.stamp')));
    // Once both ended the lock is free: a third setup neither waits nor does anything.
    const third = setup(s);
    assert.equal(third.status, 0, third.stderr);
    assert.equal(third.stderr, '');
  });
});

test('setup: a failing npm ci stops the setup before the lock-hash stamp, says npm ci failed and how to repair; the next setup runs npm ci again', async () => {
  await inScratch(async (s) => {
    const failed = setup(s, { FAKE_NPM_CI: 'fail' });
    assert.equal(failed.status, 1, failed.stderr);
    assert.ok(!existsSync(lockStamp(s)), 'the lock-hash stamp was written after npm ci failed');
    assert.ok(!existsSync(join(s.checkout, 'node_modules', '.sgdlab-node-abi')), 'the ABI stamp was written after npm ci failed');
    assert.match(verdict(failed.stderr), /^setup: npm ci failed/, failed.stderr);
    assert.match(verdict(failed.stderr), /rm -rf node_modules/);
    assert.ok(!existsSync(join(s.checkout, 'build.log')), 'the setup went on to the native build');
    const again = setup(s);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(npmCiRuns(s), 2);
    assert.ok(existsSync(lockStamp(s)));
  });
});

test('setup: node_modules without node-gyp under a valid stamp (what a second, concurrent npm ci left) says node_modules is incomplete and how to repair, and does not blame libtorch', async () => {
  await inScratch(async (s) => {
    const first = setup(s);
    assert.equal(first.status, 0, first.stderr);
    rmSync(join(s.checkout, 'node_modules', '.bin', 'node-gyp'));
    rmSync(join(s.checkout, 'build'), { recursive: true });
    const broken = setup(s);
    assert.equal(broken.status, 1, broken.stderr);
    assert.match(verdict(broken.stderr), /node_modules is incomplete/, broken.stderr);
    assert.match(verdict(broken.stderr), /node-gyp/);
    assert.match(verdict(broken.stderr), /rm -rf node_modules/);
    assert.doesNotMatch(verdict(broken.stderr), /libtorch/);
    assert.ok(!existsSync(join(s.checkout, 'build', '.sgdlab-torch')));
  });
});

test('setup: a failed native build shows the compiler\'s own errors, writes no stamp, and blames libtorch only when libtorch is what is missing', async () => {
  await inScratch(async (s) => {
    const failed = setup(s, { FAKE_GYP: 'fail' });
    assert.equal(failed.status, 1, failed.stderr);
    assert.match(failed.stderr, /addon\.cc:12:3: error: 'frobnicate' was not declared in this scope/);
    assert.equal(verdict(failed.stderr), 'setup: the native build failed (the errors above; the full log is in build.log).', failed.stderr);
    assert.ok(!existsSync(join(s.checkout, 'build', '.sgdlab-torch')), 'the addon stamp was written after the build failed');
    const noTorch = setup(s, { FAKE_GYP: 'notorch' });
    assert.equal(noTorch.status, 1, noTorch.stderr);
    assert.match(noTorch.stderr, /libtorch was not found: no LIBTORCH is set/);
    assert.match(verdict(noTorch.stderr), /^setup: the native build failed: libtorch was not found or is not usable/, noTorch.stderr);
    const again = setup(s);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /building the native addon/);
  });
});
