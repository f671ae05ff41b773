#!/usr/bin/env bash
# Builds the native addon with plain compiler command lines: no node-gyp, no Python gyp, no network.
# The sources and defines are binding.gyp's, the libtorch flags scripts/libtorch-config.mjs's (so
# LIBTORCH=… selects the libtorch, a PyTorch installation included), the Node headers those of the
# running Node (scripts/node-versions.mjs native-env), node-addon-api's from node_modules. Used where
# node-gyp is not at hand, e.g. on the GPU machine by scripts/device-check.sh; scripts/setup.sh keeps node-gyp.
#   [LIBTORCH=…] [CXX=g++] [JOBS=n] bash scripts/build-addon.sh [OUT]     (OUT: build/Release/sgdlab_torch.node)
# L-BFGS-B: linked with -llbfgsb when the linker finds it; otherwise the addon is built without it
# (-DSGDLAB_NO_LBFGSB: its solver functions throw), and the script says so. SGDLAB_LBFGSB=0|1 forces either;
# SGDLAB_LBFGSB_LIBDIR=DIR looks for liblbfgsb (and the libraries it needs) in DIR too, and sets the rpath.
# On a compile error it prints the compiler's errors of each failed file (the full logs stay in the
# object folder) and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/Release/sgdlab_torch.node}
cxx=${CXX:-g++}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
objdir=${SGDLAB_OBJ_DIR:-build/plain}
log() { printf 'build-addon: %s\n' "$*" >&2; }

command -v "$cxx" >/dev/null || { log "no C++ compiler '$cxx' (set CXX)"; exit 1; }
node_env=$(node scripts/node-versions.mjs native-env)
nodedir=$(head -n 1 <<<"$node_env")
napi=$(node -p "require('path').resolve(require('node-addon-api').include_dir)")
mapfile -t sources < <(node -e "const g = JSON.parse(require('fs').readFileSync('binding.gyp', 'utf8')).targets[0]; for (const s of g.sources) console.log(s)")
read -r -a defines <<<"$(node -e "const g = JSON.parse(require('fs').readFileSync('binding.gyp', 'utf8')).targets[0]; console.log(g.defines.map((d) => '-D' + d).join(' '))")"
torch_desc=$(node scripts/libtorch-config.mjs describe)
read -r -a torch_includes <<<"$(node scripts/libtorch-config.mjs include)"
read -r -a torch_cflags <<<"$(node scripts/libtorch-config.mjs cflags)"
read -r -a torch_ldflags <<<"$(node scripts/libtorch-config.mjs ldflags)"

lbfgsb=${SGDLAB_LBFGSB:-auto}
lbfgsb_dir=()  # SGDLAB_LBFGSB_LIBDIR: a folder holding liblbfgsb.so and its libraries (device-pack.sh carries Debian's)
if [ -n "${SGDLAB_LBFGSB_LIBDIR:-}" ]; then lbfgsb_dir=(-L"$SGDLAB_LBFGSB_LIBDIR" -Wl,-rpath,"$SGDLAB_LBFGSB_LIBDIR" -Wl,-rpath-link,"$SGDLAB_LBFGSB_LIBDIR"); fi
if [ "$lbfgsb" = auto ]; then
  if echo 'int main() { return 0; }' | "$cxx" -x c++ - -o /dev/null "${lbfgsb_dir[@]}" -Wl,--no-as-needed -llbfgsb >"${TMPDIR:-/tmp}/sgdlab-lbfgsb-probe.log" 2>&1; then lbfgsb=1; else
    lbfgsb=0; [ ${#lbfgsb_dir[@]} -gt 0 ] && { log "linking -llbfgsb from $SGDLAB_LBFGSB_LIBDIR failed:"; head -n 5 "${TMPDIR:-/tmp}/sgdlab-lbfgsb-probe.log" >&2; }
  fi
fi
extra_link=()
extra_define=()
if [ "$lbfgsb" = 1 ]; then
  extra_link=("${lbfgsb_dir[@]}" -Wl,--no-as-needed -llbfgsb)
  # The rpath reaches the addon's own dependencies only (DT_RUNPATH is not inherited): the libraries
  # liblbfgsb loads from that folder become the addon's too, so they are found there and shared by soname.
  if [ -n "${SGDLAB_LBFGSB_LIBDIR:-}" ]; then
    for f in "$SGDLAB_LBFGSB_LIBDIR"/*.so.*; do
      [ "$(basename "$f")" = liblbfgsb.so.0 ] || extra_link+=(-l:"$(basename "$f")")
    done
  fi
  extra_link+=(-Wl,--as-needed)
else extra_define=(-DSGDLAB_NO_LBFGSB); log "building without L-BFGS-B ($([ "${SGDLAB_LBFGSB:-auto}" = 0 ] && echo 'SGDLAB_LBFGSB=0' || echo 'the linker finds no -llbfgsb'); its solver functions will throw)"; fi

log "compiling ${#sources[@]} files with $("$cxx" --version | head -n 1), $jobs at a time, against $torch_desc"
mkdir -p "$objdir" "$(dirname "$out")"
flags=(-fPIC -pthread -O2 -fexceptions -frtti -Wall -Wno-unused-parameter -Wno-unused-function
  -DBUILDING_NODE_EXTENSION -DNODE_GYP_MODULE_NAME=sgdlab_torch "${defines[@]}" "${extra_define[@]}" "${torch_cflags[@]}"
  -I"$nodedir/include/node" -I"$napi")
for d in "${torch_includes[@]}"; do flags+=(-I"$d"); done
objects=()
pids=()
names=()
failed=0
collect() {  # waits for the oldest job
  local pid=${pids[0]} name=${names[0]}
  pids=("${pids[@]:1}"); names=("${names[@]:1}")
  if ! wait "$pid"; then failed=1; log "FAILED: $name"; grep -E -A 4 'error|Error' "$objdir/$(basename "$name").log" | head -n 80 >&2 || cat "$objdir/$(basename "$name").log" >&2; fi
}
for src in "${sources[@]}"; do
  obj="$objdir/$(basename "$src" .cc).o"
  objects+=("$obj")
  "$cxx" "${flags[@]}" -c "$src" -o "$obj" >"$objdir/$(basename "$src").log" 2>&1 &
  pids+=($!); names+=("$src")
  if [ ${#pids[@]} -ge "$jobs" ]; then collect; fi
done
while [ ${#pids[@]} -gt 0 ]; do collect; done
if [ "$failed" = 1 ]; then log "the native build failed (full logs: $objdir/*.log)"; exit 1; fi
"$cxx" -shared -pthread -o "$out" "${objects[@]}" "${torch_ldflags[@]}" "${extra_link[@]}"
log "built $out ($(du -h "$out" | cut -f1); L-BFGS-B: $([ "$lbfgsb" = 1 ] && echo linked || echo absent))"
