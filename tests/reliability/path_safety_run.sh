#!/usr/bin/env bash
# path_safety_run.sh TINYFLOW SOURCE_DIR WORK - reliability test (paths), end to end: a
# `tinyflow train` whose run directory holds a symlink planted at metrics.jsonl (pointing to a
# canary file outside it) must refuse to write through it (non-zero exit, a message naming the
# file) and leave the canary unchanged; a symlink planted at the STOPPED name is replaced, not
# followed, when a signal stops the run. Exit 0 pass, 1 fail.
set -u
BIN=$1 SRC=$2 WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK/run" || exit 1
cd "$WORK" || exit 1
unset TINYFLOW_FAULT TINYFLOW_SAMPLE_LOG OMPI_COMM_WORLD_SIZE PMI_SIZE SLURM_STEP_NUM_TASKS
export OMP_NUM_THREADS=1 # (a plain process with 2+ OpenMP threads dies of SIGTERM: see docs/reliability.md)
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
M=(experiment=moons model.hidden=16 model.layers=2 dataset.batch_size=32 dataset.n_samples=256 trainer.log_every=1
   eval.every=0 trainer.ckpt_every=0)
echo canary >canary
ln -s "$WORK/canary" run/metrics.jsonl
timeout 120 "$BIN" train -cd "$SRC/configs" trainer.out_dir="$WORK/run" "${M[@]}" trainer.steps=3 >run.log 2>&1
rc=$?
[ $rc -ne 0 ] && ok "a symlink at metrics.jsonl: the run refuses (exit $rc)" || bad "the run wrote through the link (exit 0)"
grep -q "metrics.jsonl" run.log && ok "the message names it: $(grep -m1 metrics.jsonl run.log)" || bad "no message naming metrics.jsonl"
[ "$(cat canary)" = canary ] && ok "the canary is unchanged" || bad "the canary was written"
# STOPPED: plain process, SIGTERM after the first checkpoint; a link planted at STOPPED is replaced.
rm -rf run2 && mkdir run2
timeout 120 "$BIN" train -cd "$SRC/configs" trainer.out_dir="$WORK/run2" "${M[@]}" trainer.steps=100000 \
    trainer.ckpt_every=50 >run2.log 2>&1 &
pid=$!
for _ in $(seq 600); do ls run2/checkpoints/*.done >/dev/null 2>&1 && break; sleep 0.1; done
ln -sfn "$WORK/canary" run2/STOPPED # the trainer removes STOPPED at start: plant it now
kill -TERM "$(pgrep -P $pid)"
wait $pid
rc=$?
[ $rc = 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $rc"
[ -f run2/STOPPED ] && [ ! -L run2/STOPPED ] && grep -q "^signal SIGTERM" run2/STOPPED &&
    ok "STOPPED written as a new file in place of the link" || bad "STOPPED: $(ls -l run2/STOPPED 2>&1)"
[ "$(cat canary)" = canary ] && ok "the canary is unchanged" || bad "the canary was written through STOPPED"
[ $fail = 0 ] && echo "path_safety_run: passed" || echo "path_safety_run: FAILED"
exit $fail
