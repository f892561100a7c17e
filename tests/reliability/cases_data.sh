# cases_data.sh - numeric and data faults of the fault-injection suite (sourced by faults.sh,
# which defines the helpers of lib.sh and runs case_<CASE>). Each function states its pass
# criterion. Must not know how runs are started (lib.sh) or how results are summarised.
#
#   nan_inf          NaN loss (and gradient) on rank 1 only at step 5, +Inf in one gradient
#                    element on rank 0 only at step 9: every rank skips exactly those two steps
#                    (detected in the step itself), parameters, Adam moments and EMA are bitwise
#                    unchanged by them, skipped_steps = 2 in metrics.jsonl and the checkpoint,
#                    losses before step 5 equal the reference, every batch is consumed exactly
#                    once (consumed samples equal the reference's)
#   max_skips        NaN on every rank from step 13 with trainer.max_skips=4: exit 1 after the 4th
#                    skipped step with a message; the last complete checkpoint (step 10) is
#                    finite and intact; resume=auto ends bitwise equal to the reference
#   corrupt_sample   one sample of rank 1's share of step 7 is corrupt (NaN values: a sample that
#                    failed to decode; datasets are validated whole at load, so this is the only
#                    way a bad sample reaches a step): the step is skipped identically on every
#                    rank, the state is unchanged by it, skipped_steps = 1, and the sample
#                    sequence equals the reference (nothing dropped, nothing replayed)
#   truncated_data   rank 1's copy of the training set is truncated to half (then: its label
#                    file has a wrong magic number): exit 2 within 60 s of the launch, naming the file, before
#                    any step (no checkpoint, no metrics), every rank gone

# state_unchanged A B WHAT: checkpoints of steps A and B hold identical params, moments, EMA
state_unchanged() {
    local g
    for g in param adam_m adam_v ema; do same_ckpt "$(ckpt "$3" "$2")" "$(ckpt "$3" "$1")" "$g unchanged by step $1" --group $g; done
}

case_nan_inf() {
    CLASS="NaN/Inf"
    TINYFLOW_FAULT=nan:1:5,inf:0:9 train 2 n "${A[@]}" trainer.ckpt_every=1 trainer.keep_last=100
    expect_rc 0 $? "NaN on rank 1 at step 5, +Inf on rank 0 at step 9"
    has "$WORK/n.log" "step 5: non-finite" "step 5 skipped"
    has "$WORK/n.log" "step 9: non-finite" "step 9 skipped"
    local k
    k=$(grep -c "non-finite loss or gradients" "$WORK/n.log")
    [ "$k" = 2 ] && ok "exactly 2 skips" || bad "$k skips reported"
    k=$("$PY" "$HERE/check.py" field "$WORK/n" skipped_steps)
    [ "$k" = 2 ] && ok "skipped_steps = 2 in metrics.jsonl" || bad "skipped_steps = $k"
    k=$("$CMP" --meta "$(ckpt n 40)")
    case "$k" in *"skipped 2 "*) ok "checkpoint: $k" ;; *) bad "checkpoint meta: $k" ;; esac
    state_unchanged 5 6 n
    state_unchanged 9 10 n
    if "$CMP" "$(ckpt n 7)" "$(ckpt n 6)" --group param >/dev/null; then bad "a normal step left the parameters unchanged"; fi
    if out=$("$PY" "$HERE/check.py" losses "$WORK/n" "$REF" 5 6); then ok "$out"; else bad "$out"; fi
    if out=$("$PY" "$HERE/check.py" samples "$WORK/n.samples" "$REF.samples" $SPE); then ok "$out"; else bad "$out"; fi
    loadable n
    LAT=0 LOST=0
}

case_max_skips() {
    CLASS="NaN/Inf"
    TINYFLOW_FAULT='nan:*:13-1000' train 2 m "${A[@]}" trainer.max_skips=4
    local rc=$?
    LAT=$(fsub "$t_end" "$(fault_time m)")
    expect_rc 1 "$rc" "NaN on every rank from step 13, max_skips=4"
    has "$WORK/m.log" "4 non-finite steps in a row (trainer.max_skips = 4)" "with a clear message"
    has "$WORK/m.log" "step 16: non-finite" "the 4th skipped step is 16"
    local last
    last=$(last_complete m)
    [ "$last" = 10 ] && ok "last complete checkpoint: step 10" || bad "last complete checkpoint: $last"
    loadable m
    partial m
    LOST=$((17 - last))
    SKIPS=13,14,15,16 resume_check m 10 "${A[@]}" trainer.max_skips=4
}

case_corrupt_sample() {
    CLASS="corrupt sample"
    TRIED=1
    TINYFLOW_FAULT=sample:1:7 train 2 s "${A[@]}" trainer.ckpt_every=1 trainer.keep_last=100
    expect_rc 0 $? "a corrupt sample on rank 1 at step 7"
    has "$WORK/s.log" "fault injected: sample at step 7" "the sample was corrupted"
    has "$WORK/s.log" "step 7: non-finite loss or gradients on at least one rank; step skipped on every rank" \
        "step 7 skipped on every rank"
    local k
    k=$(grep -c "non-finite loss or gradients" "$WORK/s.log")
    [ "$k" = 1 ] && ok "exactly 1 skip" || bad "$k skips reported"
    k=$("$PY" "$HERE/check.py" field "$WORK/s" skipped_steps)
    [ "$k" = 1 ] && ok "skipped_steps = 1 in metrics.jsonl" || bad "skipped_steps = $k"
    state_unchanged 7 8 s
    if out=$("$PY" "$HERE/check.py" losses "$WORK/s" "$REF" 7 8); then ok "$out"; else bad "$out"; fi
    if out=$("$PY" "$HERE/check.py" samples "$WORK/s.samples" "$REF.samples" $SPE); then ok "$out"; else bad "$out"; fi
    loadable s
    [ $fail = 0 ] && REJECTED=1
    LAT=0 LOST=0
}

case_truncated_data() {
    CLASS="corrupt data file"
    local how rc t0 f
    for how in truncated badmagic; do
        TRIED=$((TRIED + 1))
        rm -rf "$WORK/d0" "$WORK/d1"
        "$PY" "$SRC/tests/mpi/make_fixture.py" "$WORK/d0" 256 && cp -r "$WORK/d0" "$WORK/d1" || bad "fixture"
        if [ $how = truncated ]; then
            f=train-images-idx3-ubyte
            truncate -s $(($(stat -c %s "$WORK/d1/mnist/$f") / 2)) "$WORK/d1/mnist/$f"
        else
            f=train-labels-idx1-ubyte
            printf '\x00\x00\x09\x99' | dd of="$WORK/d1/mnist/$f" bs=1 conv=notrunc status=none
        fi
        t0=$(now)
        timeout -k 5 300 "$MPIEXEC" --oversubscribe \
            -n 1 env TINYFLOW_DATA="$WORK/d0" "$BIN" train -cd "$CFG" trainer.out_dir="$WORK/$how" "${UNET[@]}" : \
            -n 1 env TINYFLOW_DATA="$WORK/d1" "$BIN" train -cd "$CFG" trainer.out_dir="$WORK/$how" "${UNET[@]}" \
            >"$WORK/$how.log" 2>&1
        rc=$?
        LAT=$(fsub "$(now)" "$t0")
        local f0=$fail
        fail=0
        if [ $rc = 2 ] && fle "$LAT" 60; then ok "$how $f on rank 1: exit 2 after $LAT s"; else bad "$how: exit $rc after $LAT s"; fi
        has "$WORK/$how.log" "$WORK/d1/mnist/$f" "$how: the message names rank 1's file"
        grep -m1 -F "$WORK/d1/mnist/$f" "$WORK/$how.log"
        [ -z "$(ls "$WORK/$how/checkpoints" 2>/dev/null)" ] && ok "$how: no checkpoint written" || bad "$how: checkpoints written"
        [ -s "$WORK/$how/metrics.jsonl" ] && bad "$how: steps were logged" || ok "$how: no step was run"
        [ $fail = 0 ] && REJECTED=$((REJECTED + 1))
        fail=$((f0 | fail))
    done
    LOST=0
}
