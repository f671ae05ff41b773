#!/usr/bin/env bash
# Prepares a Debian/Ubuntu machine to run sgdlab, unattended and idempotently:
#   1. system packages (libtorch, OpenBLAS, build tools, PyTorch for reference values and benchmarks);
#   2. npm packages (npm ci, only when package-lock.json changed);
#   3. the native addon (node-gyp, only when its sources, binding.gyp or the libtorch in use changed);
#   4. the TypeScript (tsc, only when a source changed).
# With everything in place it takes well under a second. LIBTORCH=/path builds against another
# libtorch (e.g. an official CUDA distribution) instead of Debian's libtorch-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf 'setup: %s\n' "$*" >&2; }

# --- 1. system packages ------------------------------------------------------------------------
# libopenblas0-pthread matters: without it libtorch falls back to reference BLAS, about 20x slower.
# liblbfgsb-dev: L-BFGS-B 3.0, linked into the addon (sharpness); python3-scipy: its reference iterates.
packages=(libtorch-dev libopenblas0-pthread python3-torch g++ make python3 fonts-dejavu-core liblbfgsb-dev python3-scipy)
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
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- 2. npm packages ---------------------------------------------------------------------------
# node-gyp would download Node's headers; use the ones installed with Node instead (no network).
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
nodedir_flag=()
if [ -f "$node_prefix/include/node/node_api.h" ]; then
  nodedir_flag=(--nodedir="$node_prefix")
elif [ -f /usr/include/node/node_api.h ]; then
  nodedir_flag=(--nodedir=/usr)
else
  log "Node's C headers (node_api.h) were not found next to $(command -v node) nor in /usr/include/node;"
  log "install them (Debian: apt-get install libnode-dev) so that the addon builds without a download."
  exit 1
fi
# Native dependencies (better-sqlite3) build from source with those headers: never download a
# prebuilt binary (prebuild-install) or headers at install time.
export npm_config_nodedir="${nodedir_flag[0]#--nodedir=}" npm_config_build_from_source=true
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.sgdlab-lock-hash ] || [ "$(cat node_modules/.sgdlab-lock-hash)" != "$lock_hash" ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_hash" > node_modules/.sgdlab-lock-hash
fi

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
  if ! npx --no-install node-gyp rebuild -j 2 "${nodedir_flag[@]}" > build.log 2>&1; then
    grep -E "error|Error" build.log | head -20 >&2 || true
    log "the native build failed; the full log is in build.log. Check that libtorch-dev and g++ are installed (bash scripts/setup.sh installs them) or that LIBTORCH points at a libtorch 1.13 distribution."
    exit 1
  fi
  echo "$torch_id" > "$stamp"
fi

# --- 4. TypeScript -----------------------------------------------------------------------------
if [ ! -f dist/.stamp ] || [ -n "$(find src bench tsconfig.json package.json -newer dist/.stamp \( -name '*.ts' -o -name '*.json' \) -print -quit)" ]; then
  log "compiling TypeScript"
  npx --no-install tsc -p tsconfig.json
  touch dist/.stamp
fi
