// scripts/node-versions.mjs: the header dir that native code is built against must be the running
// Node's (same NODE_MODULE_VERSION), whatever else is lying around; tested releases are only the pinned ones.
// test-runner: every-node (native code or its ABI: see scripts/run-tests.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../../../', import.meta.url).pathname;
const script = join(root, 'scripts', 'node-versions.mjs');

function run(node: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(node, [script, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

/** A prefix whose include/node claims to be Node VERSION with NODE_MODULE_VERSION ABI. */
function fakeHeaders(prefix: string, version: string, abi: number): void {
  const dir = join(prefix, 'include', 'node');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'node_api.h'), '');
  const [major, minor, patch] = version.split('.');
  writeFileSync(join(dir, 'node_version.h'), `#define NODE_MAJOR_VERSION ${major}\n#define NODE_MINOR_VERSION ${minor}\n#define NODE_PATCH_VERSION ${patch}\n#define NODE_MODULE_VERSION ${abi}\n`);
}

function moduleVersionOf(prefix: string): string | undefined {
  const header = readFileSync(join(prefix, 'include', 'node', 'node_version.h'), 'utf8');
  return [...header.matchAll(/#define NODE_MODULE_VERSION (\d+)/g)].map((m) => m[1]).pop();
}

test('native-env names the running Node: its own header dir (same ABI as process.versions.modules), not npm_config_nodedir of another Node', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sgdlab-node-versions-'));
  try {
    fakeHeaders(join(tmp, 'other'), '18.20.0', 108);
    const r = run(process.execPath, ['native-env'], { npm_config_nodedir: join(tmp, 'other') });
    assert.equal(r.status, 0, r.stderr);
    const [nodedir, key, description] = r.stdout.trimEnd().split('\n');
    assert.equal(nodedir, dirname(dirname(realpathSync(process.execPath))));
    assert.equal(moduleVersionOf(nodedir!), process.versions.modules);
    assert.equal(key, `abi ${process.versions.modules} ${process.platform}-${process.arch}`);
    assert.match(description!, new RegExp(`^Node ${process.version.replace(/\./g, '\\.')} \\(ABI ${process.versions.modules}, N-API ${process.versions.napi}\\)$`));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('native-env never hands node-gyp headers of another ABI: a Node whose own include/node is of another release falls back only to headers of its own ABI, else refuses', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'sgdlab-node-versions-'));
  try {
    // A copy of this Node in a prefix whose headers claim an ABI no Node has, and npm_config_nodedir at another such one.
    const prefix = join(tmp, 'prefix');
    mkdirSync(join(prefix, 'bin'), { recursive: true });
    const node = join(prefix, 'bin', 'node');
    try {
      linkSync(realpathSync(process.execPath), node);
    } catch {
      copyFileSync(realpathSync(process.execPath), node);
    }
    fakeHeaders(prefix, '99.0.0', 999);
    fakeHeaders(join(tmp, 'other'), '98.0.0', 998);
    const r = run(node, ['native-env'], { npm_config_nodedir: join(tmp, 'other') });
    if (r.status === 0) {
      // Only /usr is left, and only if its headers are of this Node's ABI (Debian's libnode-dev for Debian's node).
      assert.equal(r.stdout.split('\n')[0], '/usr');
      assert.equal(moduleVersionOf('/usr'), process.versions.modules);
    } else {
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`cannot build native code for Node ${process.version.replace(/\./g, '\\.')} \\(ABI ${process.versions.modules},`));
      assert.match(r.stderr, /prefix\/include\/node: headers of Node v99\.0\.0 \(ABI 999\)/);
      assert.match(r.stderr, /other\/include\/node: headers of Node v98\.0\.0 \(ABI 998\)/);
      assert.match(r.stderr, /npm_config_nodedir/);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('install takes only the pinned releases of scripts/node-versions.json, and says which they are', () => {
  const pinned = (JSON.parse(readFileSync(join(root, 'scripts', 'node-versions.json'), 'utf8')) as { tested: string[] }).tested;
  const r = run(process.execPath, ['install', '19']);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.includes(`no tested Node release '19' in scripts/node-versions.json; expected a major or a version of: ${pinned.join(', ')}.`), r.stderr);
  assert.equal(r.stdout, '');
});
