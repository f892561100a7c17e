#!/usr/bin/env bash
# faults.sh CASE TINYFLOW CKPT_COMPARE MPIEXEC SOURCE_DIR WORK_ROOT PYTHON
# The fault-injection suite (CTest rel_<CASE>, labels reliability + mpi; needs a build with
# -DTINYFLOW_FAULT_INJECTION=ON, else exit 77). Each case injects one fault into 2-rank training
# of the small MLP of lib.sh and checks its stated pass criterion; every run has a timeout. The
# reference run (case `reference`, a CTest fixture) is the same training without any fault.
# Cases of this file (process faults; checkpoint faults in cases_ckpt.sh, numeric and data
# faults in cases_data.sh):
#   reference        the uninterrupted run: 40 steps, checkpoints at 10/20/30/40, sample log
#   kill_worker      rank 1 SIGKILLs itself at step 23: the job exits non-zero within 60 s, the
#                    newest complete checkpoint is step 20 and equals the reference's; resume=auto
#                    ends bitwise equal (state, losses, consumed samples)
#   kill_coordinator the same with rank 0
#   hang             rank 1 SIGSTOPs itself at step 23 with trainer.step_timeout=3: exit 3 (the
#                    watchdog's code) within 3+30 s, every rank gone; resume bitwise equal
#   eval_slow        rank 0 sleeps 6 s in an evaluation with step_timeout=3, eval_timeout=60:
#                    no watchdog, exit 0, and training bitwise equal to the reference
#   term_worker      rank 1 alone raises SIGTERM at step 17: every rank stops after step 17 with
#                    a checkpoint at 18, STOPPED, exit 0; resume bitwise equal
#   usr1_eval_worker SIGUSR1 to rank 1 only while rank 0 evaluates (rank 1 waits for it in a
#                    collective): checkpoint at the agreed stop step, exit 0; resume bitwise equal
#   term_eval_coordinator  SIGTERM to rank 0 during its evaluation: the same
# Writes WORK_ROOT/work_<CASE>/result.tsv for tests/reliability/summary. Exit 0 pass, 1 fail, 77 skip.
set -u
CASE=$1 BIN=$2 CMP=$3 MPIEXEC=$4 SRC=$5 ROOT=$6 PY=$7
HERE="$SRC/tests/reliability"
CFG="$SRC/configs"
REF="$ROOT/work_reference/ref"
WORK="$ROOT/work_$CASE"
unset TINYFLOW_FAULT TINYFLOW_SAMPLE_LOG TINYFLOW_DATA TINYFLOW_CONFIG_DIR OMPI_COMM_WORLD_SIZE PMI_SIZE SLURM_STEP_NUM_TASKS
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# shellcheck source=lib.sh
. "$HERE/lib.sh"
if [ "${TF_REL_FAULT:-ON}" != ON ]; then
    echo "skipped: needs a build with -DTINYFLOW_FAULT_INJECTION=ON (cmake --workflow --preset ci-reliability)"
    exit 77
fi
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
if [ "$CASE" != reference ] && [ ! -f "$REF/checkpoints/step_00000040.done" ]; then
    echo "FAIL: no reference run in $REF (run the rel_reference test first)"
    exit 1
fi
CLASS=other LAT= LOST= PARTIAL=0 RESUMED= TRIED=0 REJECTED=0

# kill_case NAME RANK: a rank SIGKILLs itself at step 23.
kill_case() {
    local dir=$1 rank=$2
    TINYFLOW_FAULT=kill:$rank:23 train 2 "$dir" "${A[@]}"
    local rc=$? tf
    tf=$(fault_time "$dir")
    LAT=$(fsub "$t_end" "$tf")
    if [ $rc -ne 0 ] && fle "$LAT" 60; then ok "rank $rank killed at step 23: job exited $rc after $LAT s"; else
        bad "kill of rank $rank: exit $rc after $LAT s (want non-zero within 60 s)"; fi
    local last
    last=$(last_complete "$dir")
    [ "$last" = 20 ] && ok "newest complete checkpoint: step 20" || bad "newest complete checkpoint: step $last, want 20"
    same_ckpt "$(ckpt "$dir" 20)" "$(refck 20)" "the last complete checkpoint is intact"
    partial "$dir"
    LOST=$((23 - last))
    resume_check "$dir" 20 "${A[@]}"
}

# stop_case NAME STEP: after a signal-driven stop, the checkpoint of STEP is complete, STOPPED
# names it, and the latency (from $t_sig) to its completion marker is recorded.
stop_case() {
    local dir=$1 step=$2 done
    done=$(ckpt "$dir" "$step" | sed 's/ckpt$/done/')
    [ -f "$done" ] && ok "checkpoint of step $step complete" || bad "no complete checkpoint of step $step"
    has "$WORK/$dir/STOPPED" "step $step" "STOPPED names step $step"
    LAT=$(fsub "$(mtime "$done")" "$t_sig")
    fle "$LAT" 20 && ok "signal to committed checkpoint: $LAT s" || bad "signal to committed checkpoint: $LAT s (> 20)"
    partial "$dir"
    LOST=0
}

# eval_signal_case NAME RANK SIGNAL: SIGNAL to RANK while rank 0 sleeps 3 s in the evaluation
# after step 10.
eval_signal_case() {
    local dir=$1 rank=$2 sig=$3 victim
    local E=("${A[@]}" eval.every=10 eval.n_samples=64 solver.steps=2)
    TINYFLOW_FAULT=evalsleep:0:10:3 start 2 "$dir" "${E[@]}"
    wait_for 60 grep -q "fault injected: evalsleep" "$WORK/$dir.log" || bad "the evaluation at step 10 did not start"
    victim=$(rank_pid $pid "$rank")
    t_sig=$(now)
    kill -"$sig" "$victim"
    wait $pid
    expect_rc 0 $? "SIG$sig to rank $rank during the evaluation"
    local step
    step=$(awk '/^step/{print $2}' "$WORK/$dir/STOPPED" 2>/dev/null)
    if [ -n "$step" ] && [ "$step" -gt 10 ] && [ "$step" -lt 40 ]; then ok "stopped at step $step"; else
        bad "STOPPED step '$step'"; step=0; fi
    stop_case "$dir" "$step"
    resume_check "$dir" "$step" "${E[@]}"
}

case $CASE in
reference)
    CLASS=reference
    train 2 ref "${A[@]}"
    expect_rc 0 $? "uninterrupted run"
    for s in 10 20 30 40; do [ -f "$(refck $s | sed 's/ckpt$/done/')" ] || bad "no reference checkpoint $s"; done
    n=$(cat "$REF.samples".rank* | wc -l)
    [ "$n" = 80 ] && ok "80 consumed-sample records (40 steps x 2 ranks)" || bad "$n sample records"
    ;;
kill_worker) CLASS="worker kill"; kill_case kw 1 ;;
kill_coordinator) CLASS="coordinator kill"; kill_case kc 0 ;;
hang)
    CLASS=hang
    TINYFLOW_FAULT=stop:1:23 start 2 h "${A[@]}" trainer.step_timeout=3
    wait_for 60 grep -q "fault injected: stop" "$WORK/h.log"
    ranks="$(rank_pid $pid 0) $(rank_pid $pid 1)"
    wait $pid
    rc=$?
    t_end=$(now)
    LAT=$(fsub "$t_end" "$(fault_time h)")
    if [ $rc = 3 ] && fle "$LAT" 33; then ok "a stopped rank: watchdog exit 3 after $LAT s"; else
        bad "stopped rank: exit $rc after $LAT s (want 3 within 33 s)"; fi
    has "$WORK/h.log" "watchdog: step 23 did not finish within 3 s" "the watchdog names the step"
    left=$ranks
    for _ in $(seq 100); do
        left=""
        for p in $ranks; do [ -e /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status 2>/dev/null && left="$left $p"; done
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -n "$left" ]; then bad "ranks alive 10 s after the abort:$left"; kill -9 $left; else ok "every rank is gone"; fi
    partial h
    LOST=$((23 - $(last_complete h)))
    resume_check h 20 "${A[@]}"
    ;;
eval_slow)
    CLASS=hang
    E=("${A[@]}" eval.every=10 eval.n_samples=64 solver.steps=2 trainer.step_timeout=3 trainer.eval_timeout=60)
    TINYFLOW_FAULT=evalsleep:0:10:6 train 2 e "${E[@]}"
    expect_rc 0 $? "a 6 s evaluation with step_timeout=3"
    hasnt "$WORK/e.log" watchdog "no false watchdog abort"
    has "$WORK/e.log" "eval at step 10" "the evaluation ran"
    same_ckpt "$(ckpt e 40)" "$(refck 40)" "evaluations leave training bitwise unchanged"
    if out=$("$PY" "$HERE/check.py" losses "$WORK/e" "$REF"); then ok "$out"; else bad "$out"; fi
    partial e
    ;;
term_worker)
    CLASS=signal
    TINYFLOW_FAULT=term:1:17 train 2 t "${A[@]}"
    expect_rc 0 $? "SIGTERM on rank 1 only, at step 17"
    t_sig=$(fault_time t)
    has "$WORK/t.log" "stopped by SIGTERM at step 18 of 40" "every rank stopped after step 17"
    stop_case t 18
    resume_check t 18 "${A[@]}"
    ;;
usr1_eval_worker) CLASS=signal; eval_signal_case u 1 USR1 ;;
term_eval_coordinator) CLASS=signal; eval_signal_case c 0 TERM ;;
*)
    # checkpoint, numeric and data faults
    . "$HERE/cases_ckpt.sh"
    . "$HERE/cases_data.sh"
    if ! declare -F "case_$CASE" >/dev/null; then echo "unknown case $CASE"; exit 2; fi
    "case_$CASE"
    ;;
esac
record
[ $fail = 0 ] && echo "rel $CASE: passed" || echo "rel $CASE: FAILED"
exit $fail
