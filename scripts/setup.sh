#!/usr/bin/env bash
# Prepares a Debian/Ubuntu machine to run sgdlab, unattended and idempotently:
#   1. system packages (libtorch, OpenBLAS, build tools, PyTorch for reference values and benchmarks);
#   2. npm packages (npm ci, only when package-lock.json changed; their native code is rebuilt when
#      the Node ABI changed, e.g. another Node first on the PATH);
#   3. the native addon (node-gyp, only when its sources, binding.gyp or the libtorch in use changed);
#   4. the TypeScript (tsc, only when a source changed), then the examples against its declarations;
#   5. the dashboard's client (scripts/build-dashboard.mjs: esbuild, only when its sources changed).
# With everything in place it takes well under a second. LIBTORCH=/path builds against another
# libtorch (e.g. an official CUDA distribution) instead of Debian's libtorch-dev.
# Two setups of one checkout at once (`npm start` in one terminal, `npm test` in another) take turns:
# the whole script holds a lock (flock on .cache/setup.lock), so the second waits, then finds the work
# done. Each step's stamp is written only after that step succeeded, and a failure says which step.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf 'setup: %s\n' "$*" >&2; }
fail() { log "$@"; exit 1; }

# --- the lock ----------------------------------------------------------------------------------
# Held on fd 9 until this script exits (the kernel releases it even after SIGKILL). Commands that may
# leave a daemon behind (apt-get starting postgresql) run with 9>&- so that no daemon inherits it.
mkdir -p .cache
exec 9>>.cache/setup.lock
if command -v flock >/dev/null; then
  if ! flock -n 9; then
    log "another setup of this checkout is running (a second npm start/test?); waiting for it to finish"
    flock 9
  fi
else
  log "flock(1) (util-linux) is missing: not guarding against a second setup running at once"
fi

# --- 1. system packages ------------------------------------------------------------------------
# libopenblas0-pthread matters: without it libtorch falls back to reference BLAS, about 20x slower.
# postgresql (the server; it brings its client): the tests of the PostgreSQL store start their own throw-away
# cluster with its initdb/pg_ctl (as the package's unprivileged user `postgres` when run as root).
# chromium: the dashboard's browser tests drive Debian's build (playwright-core never downloads one).
# liblbfgsb-dev: L-BFGS-B 3.0, linked into the addon (sharpness); python3-scipy: its reference iterates.
packages=(libtorch-dev libopenblas0-pthread python3-torch g++ make python3 fonts-dejavu-core postgresql chromium liblbfgsb-dev python3-scipy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    log "missing system packages: ${missing[*]}; this is not a Debian/Ubuntu machine, install them (or an equivalent libtorch 1.13 with LIBTORCH=/path) by hand."
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else log "missing system packages: ${missing[*]}; run as root or install them: apt-get install ${missing[*]}"; exit 1; fi
  fi
  log "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq 9>&- || fail "apt-get update failed (above); the missing system packages are: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 9>&- \
    || fail "apt-get install ${missing[*]} failed (above)"
fi

# --- 2. npm packages ---------------------------------------------------------------------------
# Native code builds from source against the running Node's own C headers: never a prebuilt binary
# (prebuild-install) nor headers downloaded by node-gyp. scripts/node-versions.mjs finds that Node's
# header dir and names its ABI; better-sqlite3 (V8's C++ ABI) must be rebuilt when the ABI changes,
# the N-API addon (step 3) need not be.
node_env=$(node scripts/node-versions.mjs native-env) || exit 1  # it said why
{ read -r nodedir; read -r node_abi; read -r node_desc; } <<<"$node_env"
export npm_config_nodedir="$nodedir" npm_config_build_from_source=true
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
lock_stamp=node_modules/.sgdlab-lock-hash
abi_stamp=node_modules/.sgdlab-node-abi
repair="remove node_modules (rm -rf node_modules) and run the setup again (bash scripts/setup.sh)"
if [ ! -f "$lock_stamp" ] || [ "$(cat "$lock_stamp")" != "$lock_hash" ]; then
  log "installing npm packages (npm ci) for ${node_desc}"
  rm -f "$lock_stamp" "$abi_stamp"
  if ! npm ci --no-audit --no-fund --loglevel=error >&2; then
    fail "npm ci failed (its errors are above), so node_modules is incomplete; fix the cause, then $repair."
  fi
  printf '%s\n%s\n' "$node_abi" "$node_desc" > "$abi_stamp"
  echo "$lock_hash" > "$lock_stamp"
elif [ "$(head -n 1 "$abi_stamp" 2>/dev/null)" != "$node_abi" ]; then
  log "Node changed: the npm packages' native code was built for $(sed -n 2p "$abi_stamp" 2>/dev/null || echo 'an unrecorded Node'), this is ${node_desc}; rebuilding it from source (npm rebuild)"
  if ! npm rebuild --no-audit --no-fund --loglevel=error >&2; then
    fail "npm rebuild failed (its errors are above); fix the cause and run the setup again, or $repair."
  fi
  printf '%s\n%s\n' "$node_abi" "$node_desc" > "$abi_stamp"
fi
# The tools the next steps run must be there: a node_modules that an interrupted or concurrent npm ci left
# half-written can carry a valid stamp, and npx would then fail with nothing in build.log.
for tool in node-gyp tsc esbuild; do
  [ -x "node_modules/.bin/$tool" ] || fail "node_modules is incomplete: node_modules/.bin/$tool is missing (an interrupted npm ci?). To repair: $repair."
done

# --- 3. native addon ---------------------------------------------------------------------------
torch_id="$(node scripts/libtorch-config.mjs describe) LIBTORCH=${LIBTORCH:-}"
addon=build/Release/sgdlab_torch.node
stamp=build/.sgdlab-torch
rebuild=0
if [ ! -f "$addon" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$torch_id" ]; then rebuild=1
elif [ -n "$(find src/native binding.gyp scripts/libtorch-config.mjs -newer "$addon" \( -name '*.cc' -o -name '*.h' -o -name '*.gyp' -o -name '*.mjs' \) -print -quit)" ]; then rebuild=1
fi
if [ "$rebuild" = 1 ]; then
  log "building the native addon against ${torch_id}"
  rm -f "$stamp"
  if ! npx --no-install node-gyp rebuild -j 2 --nodedir="$nodedir" > build.log 2>&1; then
    # The compiler's and linker's own errors (with a line of context each), else the log's end.
    errors=$(grep -E -A 2 '(^|: )(fatal )?error( [A-Z][0-9]+)?:|undefined reference|cannot find -l|No such file or directory' build.log | grep -v -E '^gyp (ERR|info)' | head -40 || true)
    [ -n "$errors" ] || errors=$(tail -n 25 build.log)
    if [ -n "$errors" ]; then printf '%s\n' "$errors" >&2; fi
    if [ ! -s build.log ]; then
      fail "the native build failed before node-gyp wrote anything to build.log (is node-gyp runnable? npx --no-install node-gyp --version); if node_modules is incomplete, $repair."
    elif grep -q -E 'sgdlab: cannot build the libtorch binding|ATen/ATen.h|torch/.*: No such file|cannot find -l(torch|c10)' build.log; then
      fail "the native build failed: libtorch was not found or is not usable (above; full log: build.log). Install libtorch-dev (bash scripts/setup.sh does) or point LIBTORCH at a libtorch 1.13 distribution."
    else
      fail "the native build failed (the errors above; the full log is in build.log)."
    fi
  fi
  echo "$torch_id" > "$stamp"
fi

# --- 4. TypeScript -----------------------------------------------------------------------------
if [ ! -f dist/.stamp ] || [ -n "$(find src bench tsconfig.json package.json -newer dist/.stamp \( -name '*.ts' -o -name '*.json' \) -print -quit)" ]; then
  log "compiling TypeScript"
  rm -f dist/.stamp
  npx --no-install tsc -p tsconfig.json >&2 || fail "the TypeScript did not compile (tsc's errors are above)."
  touch dist/.stamp
fi

# --- 4b. examples ------------------------------------------------------------------------------
# examples/ imports sgdlab by its package name, as a user's code does, so it compiles against the
# declarations step 4 wrote (tsconfig.examples.json): again whenever they were rebuilt.
examples_stamp=dist/.examples-stamp
if [ ! -f "$examples_stamp" ] || [ dist/.stamp -nt "$examples_stamp" ] || [ -n "$(find examples tsconfig.examples.json -newer "$examples_stamp" \( -name '*.ts' -o -name '*.json' \) -print -quit)" ]; then
  log "compiling the examples"
  rm -f "$examples_stamp"
  npx --no-install tsc -p tsconfig.examples.json >&2 || fail "the examples did not compile against the library's declarations (tsc's errors are above; tsconfig.examples.json)."
  touch "$examples_stamp"
fi

# --- 5. dashboard client ----------------------------------------------------------------------
client_stamp=dist/dashboard/.stamp
if [ ! -f "$client_stamp" ] || [ -n "$(find src/dashboard/client src/dashboard/api.ts src/dashboard/curve-rows.ts scripts/build-dashboard.mjs package-lock.json -newer "$client_stamp" -print -quit)" ]; then
  log "building the dashboard's client"
  node scripts/build-dashboard.mjs || fail "the dashboard's client did not build (scripts/build-dashboard.mjs; its errors are above)."
fi
