#!/usr/bin/env node
// Locates libtorch for the native build and prints what binding.gyp asks for.
//   node scripts/libtorch-config.mjs include|libdirs|libs|cflags|ldflags|describe
// LIBTORCH=/path selects an unpacked official distribution (e.g. a CUDA build);
// otherwise Debian's libtorch-dev under /usr is used. The version must be 1.13.x, the
// one the binding is written against; SGDLAB_ALLOW_TORCH_VERSION=1 overrides the check
// (as tch-rs's LIBTORCH_BYPASS_VERSION_CHECK does) for those who accept API drift.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const SUPPORTED = { major: 1, minor: 13 };

function fail(lines) {
  process.stderr.write(`\nsgdlab: cannot build the libtorch binding.\n${lines.map((l) => `  ${l}`).join('\n')}\n\n`);
  process.exit(1);
}

function locate() {
  const root = process.env.LIBTORCH;
  if (root) {
    const include = join(root, 'include');
    const lib = join(root, 'lib');
    if (!existsSync(join(include, 'ATen', 'ATen.h'))) {
      fail([`LIBTORCH=${root} has no include/ATen/ATen.h.`, 'Point LIBTORCH at an unpacked libtorch distribution (the folder holding include/ and lib/), or unset it to use Debian\'s libtorch-dev.']);
    }
    return { root, includes: [include, join(include, 'torch', 'csrc', 'api', 'include')], libdir: lib, cmake: join(root, 'share', 'cmake', 'Torch', 'TorchConfig.cmake') };
  }
  const debianLib = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'].find((d) => existsSync(join(d, 'libtorch_cpu.so')));
  if (!existsSync('/usr/include/ATen/ATen.h') || !debianLib) {
    fail([
      'libtorch was not found: no LIBTORCH is set and Debian\'s libtorch-dev is not installed.',
      'Possible solutions:',
      '  - run the setup: bash scripts/setup.sh (installs libtorch-dev, libopenblas0-pthread and the build tools);',
      '  - or: sudo apt-get install libtorch-dev libopenblas0-pthread;',
      '  - or: LIBTORCH=/path/to/libtorch npm run build:native, for an official (e.g. CUDA) distribution.',
    ]);
  }
  return { root: '/usr', includes: ['/usr/include', '/usr/include/torch/csrc/api/include'], libdir: debianLib, cmake: join(debianLib, 'cmake', 'Torch', 'TorchConfig.cmake') };
}

function version(includes) {
  const header = includes.map((d) => join(d, 'torch', 'version.h')).find(existsSync);
  if (!header) return null;
  const text = readFileSync(header, 'utf8');
  const get = (name) => Number((text.match(new RegExp(`#define TORCH_VERSION_${name} (\\d+)`)) ?? [])[1]);
  return { major: get('MAJOR'), minor: get('MINOR'), patch: get('PATCH') };
}

const where = locate();
const v = version(where.includes);
if (!v || v.major !== SUPPORTED.major || v.minor !== SUPPORTED.minor) {
  if (process.env.SGDLAB_ALLOW_TORCH_VERSION !== '1') {
    fail([
      `libtorch at ${where.root} is version ${v ? `${v.major}.${v.minor}.${v.patch}` : 'unknown'}; sgdlab's binding is written against ${SUPPORTED.major}.${SUPPORTED.minor}.x.`,
      'Set SGDLAB_ALLOW_TORCH_VERSION=1 to build anyway (the C++ API may have changed).',
    ]);
  }
}

// Official pre-cxx11 distributions need the old std::string ABI; TorchConfig.cmake says which.
const cmakeText = existsSync(where.cmake) ? readFileSync(where.cmake, 'utf8') : '';
const abi = /_GLIBCXX_USE_CXX11_ABI=0/.test(cmakeText) ? 0 : 1;
const libs = ['torch', 'torch_cpu', 'c10'];
const present = existsSync(where.libdir) ? readdirSync(where.libdir) : [];
for (const extra of ['torch_cuda', 'c10_cuda']) if (present.includes(`lib${extra}.so`)) libs.push(extra);

const what = process.argv[2];
const out = {
  include: where.includes,
  cflags: [`-D_GLIBCXX_USE_CXX11_ABI=${abi}`],
  // --no-as-needed: libtorch_cuda registers its kernels from static initializers and no symbol of it is referenced.
  ldflags: [`-L${where.libdir}`, `-Wl,-rpath,${where.libdir}`, '-Wl,--no-as-needed', ...libs.map((l) => `-l${l}`), '-Wl,--as-needed'],
  describe: [`libtorch ${v ? `${v.major}.${v.minor}.${v.patch}` : '?'} at ${where.root} (libs: ${libs.join(', ')}; cxx11 abi ${abi})`],
}[what];
if (!out) fail([`unknown query '${what}'; expected include|cflags|ldflags|describe`]);
process.stdout.write(out.join(' ') + '\n');
