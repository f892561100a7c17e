#!/usr/bin/env bash
# ci.sh - the bounded fuzz run of CI: builds every libFuzzer target (fuzz/build.sh, clang,
# ASan + UBSan) in build-fuzz-ci/ (TF_FUZZ_BUILD overrides) and runs each for SECONDS
# (default 20) with fuzz/run_all.sh. Exit 1 when a target found a crash, leak, UB report,
# timeout or OOM; the log then names each input that triggered it (fuzz/artifacts/<target>/...)
# and the target's log. Exit 2 when the fuzzers cannot be built (no clang). The longer run:
# fuzz/run_all.sh 3600 (docs/fuzzing.md). Usage: fuzz/ci.sh [SECONDS] [TARGET...]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-20}
shift $(( $# > 0 ? 1 : 0 ))
export TF_FUZZ_BUILD=${TF_FUZZ_BUILD:-$root/build-fuzz-ci}
t0=$(date +%s)
mkdir -p "$TF_FUZZ_BUILD"
if ! "$root/fuzz/build.sh" >"$TF_FUZZ_BUILD/build.log" 2>&1; then
  tail -30 "$TF_FUZZ_BUILD/build.log"
  echo "fuzz/ci.sh: the fuzz targets did not build (log: $TF_FUZZ_BUILD/build.log)" >&2
  exit 2
fi
echo "fuzz/ci.sh: built in $(( $(date +%s) - t0 )) s; fuzzing ${secs} s per target"
stamp=$(mktemp)
"$root/fuzz/run_all.sh" "$secs" "$@"
rc=$?
if (( rc != 0 )); then
  echo "fuzz/ci.sh: FAILED; inputs that triggered a finding (reproduce: $TF_FUZZ_BUILD/fuzz/fuzz_<target> <input>):"
  find "$root/fuzz/artifacts" -type f -newer "$stamp" -printf '  %p\n'
  for log in "$TF_FUZZ_BUILD"/fuzz-logs/*.log; do
    if grep -q "Test unit written to" "$log"; then
      echo "---- $log (last 30 lines)"
      tail -30 "$log"
    fi
  done
fi
rm -f "$stamp"
exit $rc
