#!/usr/bin/env bash
# build.sh - configure and build the libFuzzer targets in their own build dir (default
# build-fuzz/ at the repository root; TF_FUZZ_BUILD overrides): clang, the tinyflow sources
# instrumented for coverage with ASan + UBSan, TINYFLOW_FUZZ=ON, default GEMM provider.
# Usage: fuzz/build.sh [extra cmake -D options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TF_FUZZ_BUILD:-$root/build-fuzz}
cc=${CC:-clang}
if ! "$cc" --version 2>/dev/null | grep -qi clang; then
  echo "fuzz/build.sh: libFuzzer needs clang; set CC (got '$cc')" >&2
  exit 2
fi
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# The top-level CMakeLists.txt adds fuzz/ itself once it has the TINYFLOW_FUZZ lines;
# until then inject.cmake adds it (and is a no-op after).
CC=$cc cmake -S "$root" -B "$build" -DTINYFLOW_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTINYFLOW_CUDA=OFF -DTINYFLOW_NATIVE=OFF "-DCMAKE_C_FLAGS=$flags" \
  "-DCMAKE_PROJECT_INCLUDE=$root/fuzz/inject.cmake" "$@" >/dev/null
cmake --build "$build" --target fuzz_all -j "${TF_FUZZ_JOBS:-2}"
echo "fuzz/build.sh: targets in $build/fuzz/"
