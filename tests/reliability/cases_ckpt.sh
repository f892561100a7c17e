# cases_ckpt.sh - checkpoint faults of the fault-injection suite (sourced by faults.sh, which
# defines the helpers of lib.sh and runs case_<CASE>). Each function states its pass criterion.
# Must not know how runs are started (lib.sh) or how results are summarised (summary).
#
#   save_kill_<POINT>  rank 0 _exits (137) at POINT of the save after step 20 (POINT: open,
#                      write (the 4th write of the file), fsync, close, rename, dirsync, mark =
#                      before the .done marker): the job exits non-zero within 60 s, step 20 is
#                      not marked complete, every checkpoint marked complete equals the
#                      reference's (0 partial promoted), resume=auto starts from step 10, leaves
#                      no temp file and ends bitwise equal to the reference
#   io_<POINT>_<ERRNO> the save after step 20 fails with ERRNO at POINT (write ENOSPC, fsync EIO,
#                      rename ENOSPC): a clear message naming the checkpoint and the error, no
#                      file of step 20 is left, the previous checkpoint (step 10) is byte-identical
#                      before and after, training continues (exit 0) and ends bitwise equal
#   io_final_save      the final save fails (EIO at rename): exit 1 with a message, no step-40
#                      file; resume=auto starts from step 30 and ends bitwise equal
#   corrupt_ckpt       the newest checkpoint truncated to 0, to half, to its length - 1, a bit
#                      flipped in its header or its payload, its .done marker deleted: resume=auto
#                      says why it skips it (marker deleted: unmarked, silently skipped), falls
#                      back to step 30, ends bitwise equal; an explicit resume of the bad file
#                      exits non-zero naming it

# save_kill POINT SKIP
save_kill() {
    local p=$1 skip=$2
    CLASS="coordinator kill in a save"
    TINYFLOW_FAULT=ckpt:$p:kill:$skip:2 train 2 k "${A[@]}"
    local rc=$?
    LAT=$(fsub "$t_end" "$(fault_time k)")
    has "$WORK/k.log" "fault injected: kill at the $p of save 2" "rank 0 killed at the $p of the step-20 save"
    if [ $rc -ne 0 ] && fle "$LAT" 60; then ok "job exited $rc after $LAT s"; else bad "exit $rc after $LAT s"; fi
    [ -e "$(ckpt k 20 | sed 's/ckpt$/done/')" ] && bad "the interrupted save of step 20 is marked complete" ||
        ok "the interrupted save of step 20 is not marked complete"
    echo "left by the kill: $(ls "$WORK/k/checkpoints" | tr '\n' ' ')"
    local last
    last=$(last_complete k)
    [ "$last" = 10 ] && ok "newest complete checkpoint: step 10" || bad "newest complete checkpoint: step $last"
    partial k
    LOST=$((20 - last))
    resume_check k 10 "${A[@]}"
}
case_save_kill_open() { save_kill open 0; }
case_save_kill_write() { save_kill write 3; }
case_save_kill_fsync() { save_kill fsync 0; }
case_save_kill_close() { save_kill close 0; }
case_save_kill_rename() { save_kill rename 0; }
case_save_kill_dirsync() { save_kill dirsync 0; }
case_save_kill_mark() { save_kill mark 0; }

# io_case POINT ERRNO SKIP MESSAGE
io_case() {
    local p=$1 e=$2 skip=$3 msg=$4
    CLASS="I/O error in a save"
    TINYFLOW_FAULT=term:0:9 train 2 io "${A[@]}"
    expect_rc 0 $? "first run stopped at step 10 with its checkpoint"
    local before after
    before=$(cd "$WORK/io/checkpoints" && sha256sum step_00000010.ckpt step_00000010.done)
    TINYFLOW_FAULT=ckpt:$p:$e:$skip:1 train 2 io "${A[@]}"
    expect_rc 0 $? "$e at the $p of the step-20 save: training continues"
    has "$WORK/io.log" "checkpoint save to '$WORK/io/checkpoints/step_00000020.ckpt' failed" "the failed save is named"
    has "$WORK/io.log" "$msg" "with the error ($msg)"
    local left
    left=$(ls "$WORK/io/checkpoints" | grep -c '^step_00000020' || true)
    [ "$left" = 0 ] && ok "no file of step 20 left" || bad "$left files of step 20 left: $(ls "$WORK/io/checkpoints")"
    after=$(cd "$WORK/io/checkpoints" && sha256sum step_00000010.ckpt step_00000010.done)
    [ "$before" = "$after" ] && ok "the previous checkpoint (step 10) is byte-identical" ||
        bad "step 10 changed: $before / $after"
    partial io
    LAT=0 LOST=0
    final_check io
}
case_io_write_ENOSPC() { io_case write ENOSPC 2 "No space left on device"; }
case_io_fsync_EIO() { io_case fsync EIO 0 "Input/output error"; }
case_io_rename_ENOSPC() { io_case rename ENOSPC 0 "No space left on device"; }

case_io_final_save() {
    CLASS="I/O error in a save"
    TINYFLOW_FAULT=ckpt:rename:EIO:0:4 train 2 f "${A[@]}"
    expect_rc 1 $? "EIO at the rename of the final save"
    has "$WORK/f.log" "the checkpoint of step 40 could not be saved" "the failure is reported"
    has "$WORK/f.log" "Input/output error" "with the error"
    [ -n "$(ls "$WORK/f/checkpoints" | grep '^step_00000040')" ] && bad "a step-40 file exists" || ok "no step-40 file"
    partial f
    LAT=0
    LOST=$((40 - $(last_complete f)))
    resume_check f 30 "${A[@]}"
}

# corrupt HOW FILE: damage a checkpoint file in place
corrupt() {
    local f=$2 size byte off
    size=$(stat -c %s "$f")
    case $1 in
    trunc0) truncate -s 0 "$f" ;;
    trunchalf) truncate -s $((size / 2)) "$f" ;;
    trunclast) truncate -s $((size - 1)) "$f" ;;
    fliphead | flippayload)
        off=10
        [ "$1" = flippayload ] && off=$((size - 300))
        byte=$(od -An -tu1 -j $off -N1 "$f" | tr -d ' ')
        printf "$(printf '\\%03o' $((byte ^ 16)))" | dd of="$f" bs=1 seek=$off conv=notrunc status=none
        ;;
    nodone) rm -f "${f%.ckpt}.done" ;;
    esac
}

case_corrupt_ckpt() {
    CLASS="corrupt checkpoint"
    local how r
    for how in trunc0 trunchalf trunclast fliphead flippayload nodone; do
        TRIED=$((TRIED + 1))
        cp -r "$REF" "$WORK/$how"
        for r in 0 1; do cp "$REF.samples.rank$r" "$WORK/$how.samples.rank$r"; done
        corrupt $how "$(ckpt $how 40)"
        [ $how = trunchalf ] && cp "$(ckpt $how 40)" "$WORK/bad.ckpt"
        local f0=$fail
        fail=0
        resume_check $how 30 "${A[@]}"
        if [ $how != nodone ]; then
            if grep -v '^checkpoint: ' "$WORK/$how.log" | grep -q 'step_00000040.ckpt'; then
                ok "$how: the skipped checkpoint is named: $(grep -v '^checkpoint: ' "$WORK/$how.log" | grep -m1 'step_00000040.ckpt')"
            else
                bad "$how: no message names the skipped step_00000040.ckpt"
            fi
        fi
        [ $fail = 0 ] && REJECTED=$((REJECTED + 1))
        fail=$((f0 | fail))
    done
    TRIED=$((TRIED + 1))
    train 2 x "${A[@]}" "trainer.resume=$WORK/bad.ckpt"
    local rc=$?
    if [ $rc -ne 0 ] && grep -qF "bad.ckpt" "$WORK/x.log"; then
        ok "explicit resume of a truncated file: exit $rc naming it"
        REJECTED=$((REJECTED + 1))
    else
        bad "explicit resume of a truncated file: exit $rc"
        tail -5 "$WORK/x.log"
    fi
    RESUMED=1
    [ $REJECTED = $TRIED ] || RESUMED=0
}
