# lib.sh - helpers shared by the fault-injection cases of tests/reliability/faults.sh (sourced,
# not run). Starting runs, waiting, timing, the checks every case uses and the result record
# the summary reads. Must not know which faults exist (the case files do).
#
# Every run is `tinyflow train` under mpiexec with 2 ranks (or as given) on the same small
# MLP on two moons (A below), wrapped in `timeout`, so a hang fails the test. Each run also
# records its consumed samples (TINYFLOW_SAMPLE_LOG=<dir>.samples, fault-injection builds).

# The run every case is compared with: 40 steps, a checkpoint every 10, one loss per step.
A=(experiment=moons model.hidden=64 model.layers=2 dataset.batch_size=64 dataset.n_samples=4096
   lr_schedule=warmup_cosine lr_schedule.warmup_steps=4 trainer.log_every=1 eval.every=0
   trainer.steps=40 trainer.ckpt_every=10 trainer.keep_last=10)
SPE=64 # steps per epoch of A (4096 / 64)
# Tiny U-Net on a generated 28x28 IDX fixture (tests/mpi/make_fixture.py), for the data cases.
UNET=(dataset=mnist model=unet model.base_ch=8 'model.ch_mult=[1,2]' model.num_res_blocks=1 model.groups=4
      model.heads=1 model.num_classes=10 dataset.batch_size=16 lr_schedule.warmup_steps=2 trainer.log_every=1
      eval.every=0 trainer.steps=10)

fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
now() { date +%s.%N; }
# fsub A B: A - B (seconds, 3 decimals)
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
# fle A B: exit 0 when A <= B
fle() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
mtime() { stat -c %.9Y "$1" 2>/dev/null || echo 0; }

# start N DIR ARGS...: `tinyflow train` on N ranks in the background (env as exported by the
# caller, e.g. TINYFLOW_FAULT=... start ...), output appended to DIR.log; sets $pid.
start() {
    local n=$1 dir=$2
    shift 2
    TINYFLOW_SAMPLE_LOG="$WORK/$dir.samples" timeout -k 5 300 "$MPIEXEC" -n "$n" --oversubscribe \
        "$BIN" train -cd "$CFG" trainer.out_dir="$WORK/$dir" "$@" >>"$WORK/$dir.log" 2>&1 &
    pid=$!
}
# train N DIR ARGS...: the same, to completion; returns the exit code; sets $t_end.
train() {
    start "$@"
    wait $pid
    local rc=$?
    t_end=$(now)
    return $rc
}
expect_rc() { # expect_rc WANT GOT WHAT
    if [ "$2" = "$1" ]; then ok "$3 (exit $2)"; else bad "$3: exit $2, want $1"; fi
}
has() { # has FILE PATTERN WHAT
    if grep -qF -- "$2" "$1"; then ok "$3"; else bad "$3: '$2' not in $1"; tail -15 "$1"; fi
}
hasnt() { # hasnt FILE PATTERN WHAT
    if grep -qF -- "$2" "$1"; then bad "$3: '$2' in $1"; else ok "$3"; fi
}
ckpt() { printf '%s/%s/checkpoints/step_%08d.ckpt' "$WORK" "$1" "$2"; }
refck() { printf '%s/checkpoints/step_%08d.ckpt' "$REF" "$1"; }
same_ckpt() { # same_ckpt A B WHAT [CMP ARGS]
    local a=$1 b=$2 what=$3 out
    shift 3
    if out=$("$CMP" "$a" "$b" "$@" 2>&1); then ok "$what: $out"; else bad "$what: $out"; fi
}
wait_for() { # wait_for SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds
    local n=$(($1 * 10))
    shift
    for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
    return 1
}
rank_pid() { # rank_pid LAUNCH_PID RANK: the pid of that rank under timeout -> mpiexec
    local m q
    for m in $(pgrep -P "$1"); do
        for q in $(pgrep -P "$m"); do
            tr '\0' '\n' <"/proc/$q/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && echo "$q"
        done
    done
}
fault_time() { "$PY" "$HERE/check.py" faulttime "$WORK/$1.log"; }
# last_complete DIR: the step of the newest checkpoint with a completion marker (or -1)
last_complete() {
    local d
    d=$(ls "$WORK/$1/checkpoints/" 2>/dev/null | grep '\.done$' | sort | tail -1)
    [ -n "$d" ] && echo $((10#$(echo "$d" | tr -dc 0-9))) || echo -1
}
# partial DIR: how many checkpoints marked complete do not load (or hold a non-finite value),
# or differ from the reference checkpoint of the same step where the reference has one (a
# partial or wrong checkpoint promoted); adds them to $PARTIAL.
partial() {
    local d s n=0 ref
    for d in "$WORK/$1"/checkpoints/*.done; do
        [ -e "$d" ] || continue
        s=$((10#$(basename "$d" | tr -dc 0-9)))
        ref=$(refck "$s")
        if ! "$CMP" --meta "${d%.done}.ckpt" >/dev/null 2>&1 ||
            { [ -f "$ref" ] && ! "$CMP" "${d%.done}.ckpt" "$ref" >/dev/null 2>&1; }; then
            n=$((n + 1))
            echo "partial or wrong checkpoint marked complete: ${d%.done}.ckpt"
        fi
    done
    PARTIAL=$((PARTIAL + n))
    [ $n = 0 ] && ok "every checkpoint marked complete in $1 equals the reference's (0 partial promoted)" ||
        bad "$n checkpoint(s) marked complete in $1 are partial or wrong"
}
# final_check DIR: DIR (a run that went through a fault and was resumed) ends bitwise equal to
# the reference: final checkpoint (every tensor, moments, EMA, step, loader position), every
# logged loss, every consumed-sample record; no temp file left. Sets RESUMED to 1 or 0.
final_check() {
    local dir=$1 out f=$fail
    fail=0
    same_ckpt "$(ckpt "$dir" 40)" "$(refck 40)" "$dir: final state bitwise vs the uninterrupted run"
    if out=$("$PY" "$HERE/check.py" losses "$WORK/$dir" "$REF" "${SKIPS:-}"); then ok "$dir: $out"; else bad "$dir: $out"; fi
    if out=$("$PY" "$HERE/check.py" samples "$WORK/$dir.samples" "$REF.samples" $SPE); then
        ok "$dir: $out"
    else
        bad "$dir: $out"
    fi
    left=$(find "$WORK/$dir/checkpoints" -name '*.tmp' | wc -l)
    [ "$left" = 0 ] && ok "$dir: no temp files left after the resumed run" || bad "$dir: $left temp files left"
    [ $fail = 0 ] && RESUMED=1 || RESUMED=0
    fail=$((f | fail))
}
# resume_check DIR FROM ARGS...: rerun DIR with resume=auto and no fault; it must resume from
# step FROM and pass final_check.
resume_check() {
    local dir=$1 from=$2
    shift 2
    train 2 "$dir" "$@"
    expect_rc 0 $? "$dir: resumed run"
    has "$WORK/$dir.log" "$(printf 'resuming from %s/%s/checkpoints/step_%08d.ckpt' "$WORK" "$dir" "$from")" \
        "$dir: resumes from the last complete checkpoint (step $from)"
    final_check "$dir"
}
# loadable DIR: every checkpoint marked complete loads, and every tensor in it is finite.
loadable() {
    local d n=0 out
    for d in "$WORK/$1"/checkpoints/*.done; do
        [ -e "$d" ] || continue
        out=$("$CMP" --meta "${d%.done}.ckpt" 2>&1) || { n=$((n + 1)); echo "$out"; }
    done
    PARTIAL=$((PARTIAL + n))
    [ $n = 0 ] && ok "every checkpoint marked complete in $1 loads and is finite" || bad "$n bad checkpoint(s) in $1"
}
# The record of this case for tests/reliability/summary: one tab-separated line in
# $WORK/result.tsv (class, case, survived, detection latency s, steps lost, partial
# checkpoints promoted, resumed bitwise 1/0/-, bad inputs tried, bad inputs rejected).
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$CLASS" "$CASE" "$((1 - fail))" "${LAT:--}" "${LOST:--}" \
        "${PARTIAL:-0}" "${RESUMED:--}" "${TRIED:-0}" "${REJECTED:-0}" >"$WORK/result.tsv"
}
