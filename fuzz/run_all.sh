#!/usr/bin/env bash
# run_all.sh - run every libFuzzer target for SECONDS each (default 60), one at a time, and
# print one summary line per target plus a final table; exit 1 if any target found a crash,
# leak, UB report, timeout or OOM (its input is saved under fuzz/artifacts/<target>/). Limits:
# -rss_limit_mb=2048, and one allocation over 1 GiB counts as an OOM (-malloc_limit_mb=1024):
# every input is under 16 KB, so that is a size read from a file and trusted too early.
# Usage: fuzz/run_all.sh [SECONDS] [TARGET...]   (targets: the fuzz_* names without "fuzz_")
# Env: TF_FUZZ_BUILD (default build-fuzz; built by fuzz/build.sh), TF_FUZZ_NICE (default 15),
#      TF_FUZZ_ARGS (extra libFuzzer flags, e.g. "-jobs=4 -workers=4" for a long run).
# Inputs: fuzz/corpus/<target>/ (seeds) and tests/fuzz_regressions/<target>/ (past crashes)
# are read only; new coverage goes to $TF_FUZZ_BUILD/fuzz-work/<target>/ and persists there.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
build=${TF_FUZZ_BUILD:-$root/build-fuzz}
bindir=$build/fuzz
[[ -d $bindir ]] || { echo "run_all.sh: no $bindir; run fuzz/build.sh first" >&2; exit 2; }

declare -A maxlen=([ckpt]=8192 [ckpt_framed]=8192 [ckpt_config_diff]=8192 [idx]=4096 [idx_pair]=4096
  [cifar]=12400 [yaml]=8192 [override]=1024 [config]=4096 [yaml_min]=2048 [png]=4096 [npy]=8192
  [npz]=4096 [stats]=2048)
if (( $# )); then targets=("$@"); else
  targets=()
  for b in "$bindir"/fuzz_*; do
    n=$(basename "$b"); n=${n#fuzz_}
    [[ -x $b && $n != make_corpus ]] && targets+=("$n")
  done
fi
export TINYFLOW_CONFIG_DIR=${TINYFLOW_CONFIG_DIR:-$root/configs}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
logdir=$build/fuzz-logs
mkdir -p "$logdir"
rows=()
failed=0
for t in "${targets[@]}"; do
  bin=$bindir/fuzz_$t
  [[ -x $bin ]] || { echo "run_all.sh: no target fuzz_$t in $bindir" >&2; failed=1; continue; }
  work=$build/fuzz-work/$t
  art=$root/fuzz/artifacts/$t
  mkdir -p "$work" "$art"
  dirs=("$work")
  [[ -d $root/fuzz/corpus/$t ]] && dirs+=("$root/fuzz/corpus/$t")
  [[ -d $root/tests/fuzz_regressions/$t ]] && dirs+=("$root/tests/fuzz_regressions/$t")
  log=$logdir/$t.log
  before=$(ls "$art" | wc -l)
  # shellcheck disable=SC2086
  nice -n "${TF_FUZZ_NICE:-15}" "$bin" -max_total_time="$secs" -max_len="${maxlen[$t]:-4096}" \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=30 -print_final_stats=1 -artifact_prefix="$art/" \
    ${TF_FUZZ_ARGS:-} "${dirs[@]}" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  newu=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
  cov0=$(grep -m1 -oE 'INITED cov: [0-9]+' "$log" | grep -oE '[0-9]+$')
  cov1=$(grep -oE '(#[0-9]+[[:space:]]+[A-Z]+[[:space:]]+cov: [0-9]+)' "$log" | tail -1 | grep -oE '[0-9]+$')
  corp=$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$')
  after=$(ls "$art" | wc -l)
  crashes=$((after - before))
  result=ok
  if (( rc != 0 || crashes > 0 )); then
    result="FAIL(rc=$rc)"
    failed=1
    what=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-z-]+|runtime error: .*|tf_die\(\) .*was reached' "$log")
    echo "fuzz_$t: ${what:-see $log}"
    grep -h -m3 -E 'Test unit written to' "$log"
  fi
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  line=$(printf '%-17s %5ss %11s execs %7s exec/s  cov %5s -> %-5s new units %-5s corpus %-5s crashes %-2s %s' "$t" \
    "$secs" "${execs:-?}" "${rate:-?}" "${cov0:-?}" "${cov1:-?}" "${newu:-?}" "${corp:-?}" "$crashes" "$result")
  echo "$line"
  rows+=("$line")
done
echo
echo "==== fuzz/run_all.sh: ${#targets[@]} targets x ${secs}s (logs: $logdir, crashes: fuzz/artifacts/) ===="
printf '%s\n' "${rows[@]}"
(( failed )) && echo "==== FAILED: turn each artifact into tests/fuzz_regressions/<target>/ and fix the parser ===="
exit $failed
