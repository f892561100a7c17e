#!/usr/bin/env bash
# device-check.sh - the prepared check of the CUDA backend, for a machine with a GPU (an H200
# here; any sm_80/sm_90 GPU). From the repository root:
#     bash tests/gpu/device-check.sh
# Needs CUDA (nvcc, cuBLAS), CMake and a C compiler on the machine. tinyflow's CPU-side
# dependencies (Open MPI, oneDNN, protobuf-c, libyaml, libpng, LAPACKE, pkg-config) are used
# from the system when it has them, else from .debs/ (made beforehand on the development
# machine by tests/gpu/fetch-debs.sh and carried along), unpacked into .deps/.
# Steps (each time-boxed; the whole run is planned for under 8 minutes on an H200):
#   1. what the machine has: GPU, driver, nvcc, CMake, compiler, PyTorch; NCCL located
#      (CUDA toolkit, else PyTorch's nvidia-nccl wheel, through NCCL_ROOT)
#   2. CPU dependencies: the system's, or .debs/ -> .deps/ + tests/gpu/deps-env.sh; if
#      neither, it says what is missing and skips the build (the PyTorch benchmark still runs)
#   3. configure build-gpu/ with TINYFLOW_CUDA=ON (architectures 80-real;90-real;90-virtual)
#   4. build tinyflow, the gpu tests and bench_step_cuda
#   5. `tinyflow info` (the visible GPUs)
#   6. ctest -L gpu: every op vs the CPU, whole training steps vs the CPU + determinism,
#      checkpoint round trips, NCCL allreduce (1 rank; the 2-rank case skips on one GPU),
#      `tinyflow train trainer.device=cuda` vs cpu (per-step losses, checkpoints across devices)
#   7. compute-sanitizer memcheck and racecheck on the small op cases, if the tool works here
#   8. benchmark: the cifar UNet training step at batch 128, tinyflow fp32 and TF32
#      (bench_step_cuda), a per-node-kind profile, and PyTorch eager on the same GPU, fp32 and
#      TF32 (bench/torch_step.py --device cuda)
#   9. a short summary, printed last (also in $OUT/summary.txt)
# Output: everything is logged to $OUT (or ./device-check-out): device-check.log, summary.txt,
# bench.jsonl, configure.log, build.log, ctest.log, sanitizer.log.
set -u -o pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
out="${OUT:-$root/device-check-out}"
mkdir -p "$out"
exec > >(tee "$out/device-check.log") 2>&1
start=$SECONDS
jobs=$(nproc 2>/dev/null || echo 4)
build="${TF_DC_BUILD:-$root/build-gpu}"   # TF_DC_BUILD: reuse another build folder
summary=()
note() { summary+=("$*"); echo ">>> $*"; }
step() { echo; echo "=== [$((SECONDS - start)) s] $*"; }
left() { local l=$((${1} - (SECONDS - start))); echo $((l < 30 ? 30 : l)); } # of a budget from the start, >= 30 s
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 PYTHONUNBUFFERED=1
orig_ld="${LD_LIBRARY_PATH:-}"   # PyTorch runs with the machine's own libraries, not .deps/ld

# ---- 1. the machine ----------------------------------------------------------------------------
step "1. machine"
[ -x /usr/local/cuda/bin/nvcc ] && export PATH="$PATH:/usr/local/cuda/bin"
gpu="none"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader || true
  gpu="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)"
  [ -n "$gpu" ] || gpu="none"
else
  echo "nvidia-smi: not found"
fi
[ "$gpu" = none ] && note "NO GPU VISIBLE: the gpu tests will report skipped and the benchmarks will not run"
have_build=1
for tool in nvcc cmake cc; do
  if command -v "$tool" >/dev/null; then
    if [ "$tool" = nvcc ]; then echo "nvcc: $(nvcc --version 2>&1 | grep -m1 release)"; else echo "$tool: $("$tool" --version 2>&1 | head -1)"; fi
  else note "MISSING: $tool (cannot build tinyflow here)"; have_build=0; fi
done
py="$(command -v python3 || true)"
torch_ok=0
if [ -n "$py" ] && "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  torch_ok=1
  "$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"
else
  echo "python3 with CUDA-enabled torch: not found (PyTorch comparison skipped)"
fi
cmake_args=(-DTINYFLOW_CUDA=ON -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CUDA_ARCHITECTURES=80-real;90-real;90-virtual")
command -v ninja >/dev/null && [ ! -e "$build/CMakeCache.txt" ] && cmake_args+=(-G Ninja)
if [ ! -e /usr/local/cuda/include/nccl.h ] && [ -z "${NCCL_ROOT:-}" ] && [ "$torch_ok" = 1 ]; then
  nr="$("$py" -c "import nvidia.nccl, os; print(os.path.dirname(nvidia.nccl.__file__) if nvidia.nccl.__file__ else list(nvidia.nccl.__path__)[0])" 2>/dev/null || true)"
  if [ -n "$nr" ] && [ -e "$nr/include/nccl.h" ]; then export NCCL_ROOT="$nr"; echo "NCCL: PyTorch's wheel at $nr"; fi
fi

# ---- 2. CPU dependencies -----------------------------------------------------------------------
step "2. CPU dependencies"
sys_ok=0
if command -v pkg-config >/dev/null && pkg-config --exists yaml-0.1 libpng zlib libprotobuf-c lapacke 2>/dev/null &&
   command -v protoc-c >/dev/null && command -v mpicc >/dev/null; then
  sys_ok=1
  echo "the system has them"
fi
[ "${TF_DC_USE_DEBS:-0}" = 1 ] && sys_ok=0 && echo "TF_DC_USE_DEBS=1: using .debs/ regardless"
if [ "$sys_ok" = 0 ] && [ "$have_build" = 1 ]; then
  if ls "$root"/.debs/*.deb >/dev/null 2>&1; then
    if bash tests/gpu/unpack-debs.sh "$root/.debs" "$root/.deps" && source tests/gpu/deps-env.sh "$root/.deps"; then
      cmake_args+=("${TF_DEPS_CMAKE_ARGS[@]}")
    else
      note "FAILED: unpacking .debs/ into .deps/"; have_build=0
    fi
  else
    miss=""
    for m in yaml-0.1 libpng zlib libprotobuf-c lapacke; do pkg-config --exists "$m" 2>/dev/null || miss="$miss $m"; done
    for t in pkg-config protoc-c mpicc; do command -v "$t" >/dev/null || miss="$miss $t"; done
    note "MISSING CPU dependencies:$miss (and maybe oneDNN). Run tests/gpu/fetch-debs.sh on the development machine and carry .debs/"
    have_build=0
  fi
fi

# ---- 3-4. configure and build ----------------------------------------------------------------------
built=0
if [ "$have_build" = 1 ]; then
  step "3. configure ($build)"
  if timeout 180 cmake -S "$root" -B "$build" "${cmake_args[@]}" >"$out/configure.log" 2>&1; then
    grep -E "tinyflow:|CUDA compiler identification" "$out/configure.log"
    step "4. build"
    targets=(tinyflow bench_step_cuda test_gpu_ops test_gpu_ops_misc test_gpu_step test_gpu_ckpt test_gpu_train)
    grep -q "^NCCL_LIBRARY:FILEPATH=.*nccl" "$build/CMakeCache.txt" && targets+=(test_gpu_nccl)
    if timeout 300 cmake --build "$build" -j "$jobs" --target "${targets[@]}" >"$out/build.log" 2>&1; then
      built=1
      note "build: OK ($(grep -m1 'CUDA backend ON' "$out/configure.log" | sed 's/.*(//; s/)//'))"
    else
      grep -E "error|Error" "$out/build.log" | head -30
      note "build: FAILED (see build.log)"
    fi
  else
    tail -30 "$out/configure.log"
    note "configure: FAILED (see configure.log)"
  fi
fi

if [ "$built" = 1 ]; then
  # ---- 5. tinyflow info -----------------------------------------------------------------------------
  step "5. tinyflow info"
  "$build/tinyflow" info || note "tinyflow info: FAILED"

  # ---- 6. the gpu tests ----------------------------------------------------------------------------
  step "6. ctest -L gpu"
  (cd "$build" && timeout "$(left 400)" ctest -L gpu --output-on-failure --timeout 300) >"$out/ctest.log" 2>&1
  cat "$out/ctest.log"
  res="$(grep -E "Test +#[0-9]+: test_gpu" "$out/ctest.log" | sed -E 's/.*: (test_gpu[a-z_0-9]*) \.*[ *]*([A-Za-z]+).*/\1 \2/' | tr '\n' ',' | sed 's/,$//; s/,/, /g')"
  note "gpu tests: $(grep -E 'tests passed|tests failed' "$out/ctest.log" | tail -1) [$res]"
  grep -E "rerun on the GPU|worst norm-wise" "$out/ctest.log" | sed 's/^[0-9]*: */    /' | head -6 | while read -r l; do note "  $l"; done

  # ---- 7. compute-sanitizer ------------------------------------------------------------------------
  step "7. compute-sanitizer"
  cs="$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)"
  if [ -n "$cs" ] && [ "$gpu" != none ]; then
    : >"$out/sanitizer.log"
    for tool in memcheck racecheck; do
      for t in "test_gpu_ops --quick" "test_gpu_ops_misc"; do
        if [ $((SECONDS - start)) -gt 270 ]; then note "compute-sanitizer $tool $t: skipped (time: the benchmark comes first)"; continue; fi
        set -- $t
        echo "--- $tool $t" | tee -a "$out/sanitizer.log"
        timeout 60 "$cs" --tool "$tool" --error-exitcode 9 "$build/tests/gpu/$1" ${2:-} >>"$out/sanitizer.log" 2>&1
        rc=$?
        tail -3 "$out/sanitizer.log"
        case $rc in
          0) note "compute-sanitizer $tool $t: clean" ;;
          9) note "compute-sanitizer $tool $t: ERRORS (see sanitizer.log)" ;;
          124) note "compute-sanitizer $tool $t: timed out (60 s)" ;;
          *) note "compute-sanitizer $tool $t: exit $rc (see sanitizer.log)" ;;
        esac
      done
    done
  else
    note "compute-sanitizer: skipped (${cs:-not found}${cs:+; no GPU})"
  fi
fi

# ---- 8. benchmarks ---------------------------------------------------------------------------------
step "8. benchmark: cifar UNet training step, batch 128"
: >"$out/bench.jsonl"
bench() { # label timeout command...
  local label="$1" to="$2"
  shift 2
  echo "--- $label"
  local line rc
  timeout "$to" "$@" >/tmp/tf_bench.out 2>/tmp/tf_bench.err
  rc=$?
  line="$(grep '^{' /tmp/tf_bench.out | tail -1)"
  if [ -n "$line" ]; then echo "$line" | tee -a "$out/bench.jsonl"
  elif [ "$rc" = 77 ]; then note "bench $label: skipped ($(tail -1 /tmp/tf_bench.err))"
  else tail -5 /tmp/tf_bench.err; note "bench $label: FAILED (exit $rc)"; fi
}
if [ "$built" = 1 ]; then
  bench tinyflow-fp32 120 "$build/bench/bench_step_cuda" --config cifar --mode train --batch 128 --iters 20 --warmup 3 --tf32 0
  bench tinyflow-tf32 120 "$build/bench/bench_step_cuda" --config cifar --mode train --batch 128 --iters 20 --warmup 3 --tf32 1
  if [ "$gpu" != none ] && [ "$(left 420)" -gt 40 ]; then
    echo "--- profile (fp32; synchronises after every node)"
    TF_PROFILE=1 timeout 60 "$build/bench/bench_step_cuda" --config cifar --mode train --batch 128 --iters 5 --warmup 2 \
      --tf32 0 2>&1 | tail -n +2 | head -40
  fi
fi
if [ "$torch_ok" = 1 ]; then
  bench pytorch-fp32 150 env LD_LIBRARY_PATH="$orig_ld" "$py" bench/torch_step.py --device cuda --config cifar --mode train --batch 128 --iters 20 --warmup 3
  bench pytorch-tf32 150 env LD_LIBRARY_PATH="$orig_ld" "$py" bench/torch_step.py --device cuda --tf32 --config cifar --mode train --batch 128 --iters 20 --warmup 3
fi

# ---- 9. summary ---------------------------------------------------------------------------------------
step "9. summary"
{
  echo "==== tinyflow device check: $((SECONDS - start)) s on ${gpu} ===="
  for s in "${summary[@]}"; do echo "$s"; done
  if [ -s "$out/bench.jsonl" ] && [ -n "$py" ]; then
    "$py" - "$out/bench.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def key(r):
    return ("tinyflow" if r["impl"].startswith("tinyflow") else "pytorch") + ("-tf32" if r.get("tf32") else "-fp32")
got = {key(r): r for r in rows}
print("cifar UNet train step, batch 128 (images/s, step ms):")
for k in ("tinyflow-fp32", "pytorch-fp32", "tinyflow-tf32", "pytorch-tf32"):
    if k in got:
        r = got[k]
        print("  %-14s %9.1f img/s  %8.2f ms  %7.0f GFLOP/s" % (k, r["images_per_s"], r["step_ms"], r["gflops_effective"]))
for m in ("fp32", "tf32"):
    a, b = got.get("tinyflow-" + m), got.get("pytorch-" + m)
    if a and b:
        print("  tinyflow / pytorch (%s): %.2f" % (m, a["images_per_s"] / b["images_per_s"]))
PY
  fi
} | tee "$out/summary.txt"
