#!/usr/bin/env bash
# Runs on the GPU machine (issue 24), in the repository root, with no network: Python 3 with PyTorch
# (a CUDA wheel: libtorch's shared libraries, C++ headers and CMake config), a C++ compiler, and the
# folder .device/ packed here by scripts/device-pack.sh (Node, node_modules, dist/). Phases:
#   1 unpack   .device/*.tar.xz: Node into .device/node, node_modules/, dist/
#   2 torch    PyTorch's installation (python3 -c "import torch"), its version, CUDA and C++ ABI; the GPU
#   3 build    the addon against that libtorch with plain g++ (scripts/build-addon.sh); on a compile
#              error it prints the errors and the script stops here
#   4 load     the addon loads; libtorch's version and the CUDA devices it sees
#   5 tests    node --test on every dist/**/*.cuda.test.js and on the native layer's CPU tests (tensor ops
#              against PyTorch's values, autograd, memory, errors): the 2.x build is right on the CPU too
#   6 bench    bench/gpu.ts (sgdlab on CUDA) against bench/gpu_torch.py (PyTorch's own CUDA loop):
#              a Keskar F1 epoch, an F1 λ_max, a slice of Smith's grid; a table
# Every phase prints its elapsed time; a failing phase (other than the build) does not stop the later
# ones; a summary ends the output. Full logs go to $OUT (the run tool brings that folder back) or .device/logs.
# Environment: SGDLAB_PYTHON (default python3), TEST_TIMEOUT / BENCH_TIMEOUT seconds (150 / 200).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${SGDLAB_PYTHON:-python3}
LOGS=${OUT:-.device/logs}
mkdir -p "$LOGS"
started=$(date +%s.%N)
declare -a summary=()
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
phase_start() { phase_name=$1; phase_t0=$(now); printf '\n=== %s ===\n' "$phase_name"; }
phase_end() {  # phase_end STATUS [NOTE]
  local line
  line=$(printf '%-7s %-5s %9s  %s' "$phase_name" "$1" "$(elapsed "$phase_t0")" "${2:-}")
  summary+=("$line")
  printf -- '--- %s: %s in %s %s\n' "$phase_name" "$1" "$(elapsed "$phase_t0")" "${2:-}"
}
finish() {
  printf '\n=== summary (total %s; logs in %s) ===\n' "$(elapsed "$started")" "$LOGS"
  printf '%s\n' "${summary[@]}"
  exit "$1"
}

# --- 1. unpack --------------------------------------------------------------------------------------
phase_start unpack
ok=1
for f in node modules dist; do [ -f ".device/$f.tar.xz" ] || { echo "missing .device/$f.tar.xz: run scripts/device-pack.sh on a machine with the network and carry .device"; ok=0; }; done
if [ "$ok" = 1 ]; then
  [ -f .device/MANIFEST ] && grep -v "^packages:" .device/MANIFEST   # the package list is long: see the file
  rm -rf .device/node && mkdir -p .device/node && tar -xJf .device/node.tar.xz -C .device/node || ok=0
  tar -xJf .device/modules.tar.xz || ok=0   # node_modules/
  rm -rf dist && tar -xJf .device/dist.tar.xz || ok=0
  if [ -f .device/lbfgsb.tar.xz ]; then rm -rf .device/lib && tar -xJf .device/lbfgsb.tar.xz -C .device || ok=0; fi
fi
export PATH="$PWD/.device/node/bin:$PATH"
if [ "$ok" = 1 ] && node --version >/dev/null 2>&1; then phase_end ok "node $(node --version) at $(command -v node)"; else phase_end FAIL; finish 1; fi

# --- 2. torch ---------------------------------------------------------------------------------------
phase_start torch
torch_info=$("$PY" - 2>"$LOGS/torch-stderr.txt" <<'PYEOF'
import os, torch
print(os.path.dirname(torch.__file__))
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuda available {torch.cuda.is_available()}, "
      f"{torch.cuda.device_count()} device(s){': ' + torch.cuda.get_device_name(0) if torch.cuda.is_available() else ''}, "
      f"cxx11 abi {int(torch._C._GLIBCXX_USE_CXX11_ABI)}")
import torch.utils
print(f"cmake prefix {torch.utils.cmake_prefix_path}")
PYEOF
)
rc=$?
echo "$torch_info"
[ -s "$LOGS/torch-stderr.txt" ] && head -n 20 "$LOGS/torch-stderr.txt"
command -v nvidia-smi >/dev/null && nvidia-smi -L
"${CXX:-g++}" --version | head -n 1
torch_dir=$(head -n 1 <<<"$torch_info")
if [ $rc -ne 0 ] || [ ! -f "$torch_dir/include/ATen/ATen.h" ]; then phase_end FAIL "no PyTorch installation with C++ headers via $PY"; finish 1; fi
export LIBTORCH=$torch_dir
node scripts/libtorch-config.mjs describe && phase_end ok || { phase_end FAIL "scripts/libtorch-config.mjs rejected it"; finish 1; }

# --- 3. build ---------------------------------------------------------------------------------------
phase_start build
rm -rf build/plain
[ -d .device/lib ] && export SGDLAB_LBFGSB_LIBDIR="$PWD/.device/lib"
JOBS=$(nproc) bash scripts/build-addon.sh build/Release/sgdlab_torch.node 2>&1 | tee "$LOGS/build.txt"
rc=${PIPESTATUS[0]}
# The carried L-BFGS-B libraries may link but not load (another glibc): then build without them.
if [ "$rc" -eq 0 ] && ! node -e "require('./build/Release/sgdlab_torch.node')" 2>"$LOGS/load-probe.txt"; then
  echo "the addon does not load:"; head -n 5 "$LOGS/load-probe.txt"
  if grep -q 'L-BFGS-B: linked' "$LOGS/build.txt"; then
    echo "rebuilding without L-BFGS-B (SGDLAB_LBFGSB=0)"
    SGDLAB_LBFGSB=0 JOBS=$(nproc) bash scripts/build-addon.sh build/Release/sgdlab_torch.node 2>&1 | tee -a "$LOGS/build.txt"
    rc=${PIPESTATUS[0]}
  fi
fi
mkdir -p "$LOGS/compile" && cp build/plain/*.log "$LOGS/compile/" 2>/dev/null
if [ "$rc" -eq 0 ]; then
  phase_end ok "$(grep -o 'L-BFGS-B: [a-z]*' "$LOGS/build.txt" | tail -n 1)"
else
  echo "the build failed: the compiler's errors are above; each file's full compiler output is in $LOGS/compile/"
  phase_end FAIL
  finish 1
fi

# --- 4. load ----------------------------------------------------------------------------------------
phase_start load
if node -e "import('./dist/src/tensor/index.js').then((T) => { console.log('libtorch', T.libtorchVersion(), '| CUDA devices:', T.cudaDeviceCount()); const x = T.randn([256, 256], { device: T.cudaDeviceCount() > 0 ? 'cuda' : 'cpu' }); console.log('matmul on', x.device, '->', T.matmul(x, x).sum().item().toFixed(3)); })"; then
  phase_end ok
else
  phase_end FAIL
fi

# --- 5. tests ---------------------------------------------------------------------------------------
phase_start tests
mapfile -t cuda_tests < <(find dist -name '*.cuda.test.js' | sort)
cpu_tests=()
for f in dist/src/tensor/ops.test.js dist/src/tensor/tensor.test.js dist/src/tensor/autograd.test.js dist/src/tensor/memory.test.js dist/src/tensor/errors.test.js; do [ -f "$f" ] && cpu_tests+=("$f"); done
echo "CUDA test files (${#cuda_tests[@]}): ${cuda_tests[*]:-none}"
echo "CPU test files of the native layer: ${cpu_tests[*]}"
timeout "${TEST_TIMEOUT:-150}" node --test --test-concurrency=4 \
  --test-reporter=dot --test-reporter-destination=stdout \
  --test-reporter=spec --test-reporter-destination="$LOGS/tests.txt" \
  "${cuda_tests[@]}" "${cpu_tests[@]}"
rc=$?
grep -E '# SKIP|﹣|skipped' "$LOGS/tests.txt" | grep -v '^ℹ' | head -n 20
grep -E '^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms)' "$LOGS/tests.txt"
if [ $rc -eq 0 ]; then phase_end ok; elif [ $rc -eq 124 ]; then phase_end FAIL "timed out after ${TEST_TIMEOUT:-150} s"; else phase_end FAIL "exit $rc; failures in $LOGS/tests.txt"; fi

# --- 6. bench ---------------------------------------------------------------------------------------
phase_start bench
bench_device=cuda
node -e "import('./dist/src/tensor/index.js').then((T) => process.exit(T.cudaDeviceCount() > 0 ? 0 : 1))" || { bench_device=cpu; echo "no CUDA device seen by the addon: the benchmark runs on the CPU (--quick)"; }
timeout "${BENCH_TIMEOUT:-200}" node dist/bench/gpu.js --device "$bench_device" --torch "$PY" $([ "$bench_device" = cpu ] && echo --quick) 2>&1 | tee "$LOGS/bench.txt" | grep -v '^{'
rc=${PIPESTATUS[0]}
if [ "$rc" -eq 0 ]; then phase_end ok "device $bench_device"; elif [ "$rc" -eq 124 ]; then phase_end FAIL "timed out after ${BENCH_TIMEOUT:-200} s"; else phase_end FAIL "exit $rc"; fi

failed=0
for line in "${summary[@]}"; do [[ "$line" == *FAIL* ]] && failed=1; done
finish $failed
