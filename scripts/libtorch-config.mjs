#!/usr/bin/env node
// Locates libtorch for the native build and prints what binding.gyp (or scripts/build-addon.sh) asks for.
//   node scripts/libtorch-config.mjs include|cflags|ldflags|libdir|version|abi|std|describe
// LIBTORCH=/path selects another libtorch than Debian's libtorch-dev under /usr:
//   - an unpacked official distribution (the folder holding include/ and lib/), e.g. a CUDA build;
//   - a PyTorch installation: the torch package folder of a pip wheel (…/site-packages/torch, printed by
//     python3 -c "import torch, os; print(os.path.dirname(torch.__file__))"), which holds the same
//     include/, lib/ and share/cmake/Torch/TorchConfig.cmake; its site-packages folder is accepted too.
// Versions built and tested: 1.13 (Debian 12's libtorch-dev). 2.x is written for (the C++ API
// differences are guarded, see docs/ARCHITECTURE.md) but has not been compiled yet: its first build
// is scripts/device-check.sh's on the GPU machine (PyTorch 2.11, CUDA 13), not yet run. Other majors
// stop here unless SGDLAB_ALLOW_TORCH_VERSION=1 (as tch-rs's LIBTORCH_BYPASS_VERSION_CHECK does) for
// those who accept API drift.
// The C++ standard: C++17, or C++20 from 2.12 on (2.14's headers reject anything older, pytorch#178150;
// 2.12 and 2.13 accept both); SGDLAB_CXX_STD=c++NN overrides.
// The libstdc++ ABI (-D_GLIBCXX_USE_CXX11_ABI) is the torch build's: TorchConfig.cmake's TORCH_CXX_FLAGS
// line, else, for a PyTorch installation, torch._C._GLIBCXX_USE_CXX11_ABI (asked of python3 or $SGDLAB_PYTHON).
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

const SUPPORTED = [{ major: 1, minor: 13 }, { major: 2 }];
const TESTED = '1.13; 2.x written for, not yet built';

function fail(lines) {
  process.stderr.write(`\nsgdlab: cannot build the libtorch binding.\n${lines.map((l) => `  ${l}`).join('\n')}\n\n`);
  process.exit(1);
}

/** A libtorch at ROOT (include/ATen/ATen.h inside), or null. */
function layoutAt(root) {
  const include = join(root, 'include');
  if (!existsSync(join(include, 'ATen', 'ATen.h'))) return null;
  // A pip wheel's torch package: Python files beside include/ and lib/.
  const python = existsSync(join(root, '__init__.py')) && existsSync(join(root, 'version.py'));
  return {
    root, python, kind: python ? 'PyTorch installation' : 'libtorch distribution',
    includes: [include, join(include, 'torch', 'csrc', 'api', 'include')],
    libdir: join(root, 'lib'), cmake: join(root, 'share', 'cmake', 'Torch', 'TorchConfig.cmake'),
  };
}

function locate() {
  const given = process.env.LIBTORCH;
  if (given) {
    const root = existsSync(given) ? realpathSync(given) : given;
    const found = layoutAt(root) ?? layoutAt(join(root, 'torch'));  // …/torch, or the site-packages holding it
    if (!found) {
      fail([`LIBTORCH=${given} has no include/ATen/ATen.h (nor torch/include/ATen/ATen.h).`,
        'Point LIBTORCH at an unpacked libtorch distribution (the folder holding include/ and lib/) or at a PyTorch',
        'installation (python3 -c "import torch, os; print(os.path.dirname(torch.__file__))"), or unset it to use Debian\'s libtorch-dev.']);
    }
    return found;
  }
  const debianLib = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'].find((d) => existsSync(join(d, 'libtorch_cpu.so')));
  if (!existsSync('/usr/include/ATen/ATen.h') || !debianLib) {
    fail([
      'libtorch was not found: no LIBTORCH is set and Debian\'s libtorch-dev is not installed.',
      'Possible solutions:',
      '  - run the setup: bash scripts/setup.sh (installs libtorch-dev, libopenblas0-pthread and the build tools);',
      '  - or: sudo apt-get install libtorch-dev libopenblas0-pthread;',
      '  - or: LIBTORCH=/path/to/libtorch npm run build:native, for an official (e.g. CUDA) distribution;',
      '  - or: LIBTORCH=$(python3 -c "import torch, os; print(os.path.dirname(torch.__file__))") for a PyTorch installation.',
    ]);
  }
  return { root: '/usr', python: false, kind: 'Debian libtorch-dev', includes: ['/usr/include', '/usr/include/torch/csrc/api/include'], libdir: debianLib, cmake: join(debianLib, 'cmake', 'Torch', 'TorchConfig.cmake') };
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
const vText = v ? `${v.major}.${v.minor}.${v.patch}` : 'unknown';
const supported = v && SUPPORTED.some((s) => s.major === v.major && (s.minor === undefined || s.minor === v.minor));
if (!supported && process.env.SGDLAB_ALLOW_TORCH_VERSION !== '1') {
  fail([
    `libtorch at ${where.root} is version ${vText}; sgdlab's binding builds against 1.13.x and 2.x (tested: ${TESTED}).`,
    'Set SGDLAB_ALLOW_TORCH_VERSION=1 to build anyway (the C++ API may have changed).',
  ]);
}

/** The torch build's libstdc++ ABI (0 or 1) and where that was read. */
function abi() {
  const cmakeText = existsSync(where.cmake) ? readFileSync(where.cmake, 'utf8') : '';
  const line = cmakeText.match(/set\(TORCH_CXX_FLAGS\s+"[^"]*-D_GLIBCXX_USE_CXX11_ABI=([01])/);
  if (line) return { value: Number(line[1]), from: 'TorchConfig.cmake' };
  if (where.python) {
    const python = process.env.SGDLAB_PYTHON || 'python3';
    const r = spawnSync(python, ['-c', 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))'], { encoding: 'utf8', cwd: dirname(where.root) });
    const value = r.status === 0 ? Number(r.stdout.trim()) : NaN;
    if (value === 0 || value === 1) return { value, from: `${python}: torch._C._GLIBCXX_USE_CXX11_ABI` };
  }
  // Debian's and every 2.x wheel since 2.7 use the new ABI; an old pre-cxx11 zip says so in its cmake file.
  return { value: /_GLIBCXX_USE_CXX11_ABI=0/.test(cmakeText) ? 0 : 1, from: 'default' };
}

function cxxStd() {
  if (process.env.SGDLAB_CXX_STD) return process.env.SGDLAB_CXX_STD;
  return v && (v.major > 2 || (v.major === 2 && v.minor >= 12)) ? 'c++20' : 'c++17';
}

const what = process.argv[2];
const libs = ['torch', 'torch_cpu', 'c10'];
const present = existsSync(where.libdir) ? readdirSync(where.libdir) : [];
for (const extra of ['torch_cuda', 'c10_cuda']) if (present.includes(`lib${extra}.so`)) libs.push(extra);
const queries = {
  include: () => where.includes,
  cflags: () => [`-std=${cxxStd()}`, `-D_GLIBCXX_USE_CXX11_ABI=${abi().value}`],
  // --no-as-needed: libtorch_cuda registers its kernels from static initializers and no symbol of it is referenced.
  ldflags: () => [`-L${where.libdir}`, `-Wl,-rpath,${where.libdir}`, '-Wl,--no-as-needed', ...libs.map((l) => `-l${l}`), '-Wl,--as-needed'],
  libdir: () => [where.libdir],
  version: () => [vText],
  abi: () => [String(abi().value)],
  std: () => [cxxStd()],
  describe: () => {
    const a = abi();
    return [`libtorch ${vText} (${where.kind}) at ${where.root} (libs: ${libs.join(', ')}; cxx11 abi ${a.value} from ${a.from}; -std=${cxxStd()})`];
  },
};
if (!queries[what]) fail([`unknown query '${what}'; expected ${Object.keys(queries).join('|')}`]);
process.stdout.write(queries[what]().join(' ') + '\n');
