#!/usr/bin/env bash
# train_mpi.sh CASE TINYFLOW CKPT_COMPARE MPIEXEC SOURCE_DIR WORK FAULT(ON|OFF) PYTHON SHOT_CHECK
# The data-parallel training tests, one CASE per CTest test (tests/mpi/CMakeLists.txt):
#   loss      the loss goes down: tiny U-Net on a generated 28x28 IDX fixture (2 ranks), MLP on moons
#   equiv     1 rank = 1 rank with micro-batches = 2 ranks = 4 ranks: per-step losses within 1e-6
#             relative and final parameters within 1e-4 (same global batch); two 2-rank runs and
#             two 1-rank runs are bitwise identical (losses and every checkpoint tensor); MLP with
#             OT over the global batch, class labels and label dropout: 1 vs 2 ranks within 1e-6
#   resume    SIGTERM to rank 1, SIGUSR1 to mpirun, SIGTERM to a plain process: exit 0 with a
#             checkpoint at the stop step; resume=auto then finishes bitwise equal to a run that
#             never stopped (every checkpoint tensor, run state and per-step loss)
#   kill9     kill -9 of rank 1 ends the job non-zero within 60 s; resume=auto from the last
#             complete checkpoint finishes bitwise equal to the uninterrupted run
#   ckpt      truncated and bit-flipped newest checkpoints: resume=auto warns, falls back to the
#             previous good one and still ends bitwise equal; an explicit bad path exits 1 naming
#             it; a checkpoint of another model is refused with exit 2 and the signature message
#   track     MLflow file store and TensorBoard event file valid (tests/track checkers), sample
#             grids and report.html written, one loss per step in metrics.jsonl
#   render    report.html of a run renders in headless Chromium with its loss plot (77 without it)
#   sample    `tinyflow sample` writes the grid PNG and a float32 .npy of the right shapes,
#             a trajectory strip (eval.trajectory), the same exact-ODE samples under another
#             sampling scheduler (eval.solver.scheduler, dopri5) but not the same 4-step ones,
#             with and without guidance; another model's checkpoint is refused with exit 2
#   nan       (fault build) NaN on rank 1 only and +inf on rank 0 only: every rank skips exactly
#             those steps, parameters/moments/EMA are unchanged by them, skipped_steps = 2 in the
#             metrics and the checkpoint; max_skips consecutive skips stop with exit 1 and a message
#   watchdog  (fault build) a stopped rank (SIGSTOP) makes the job exit non-zero within 40 s with
#             the watchdog message; a 6 s evaluation on rank 0 with step_timeout=3 does not
#   stopk     (fault build) a SIGTERM raised by rank 1 at step 17 stops every rank at step 18;
#             resume equals the uninterrupted run bitwise
#   savefail  (fault build) the final checkpoint's save fails (EIO): exit 1 with a message, no
#             partial checkpoint; resume=auto continues from the previous one
# Exit 0 pass, 1 fail, 77 skipped.
set -u
CASE=$1 BIN=$2 CMP=$3 MPIEXEC=$4 SRC=$5 WORK=$6 FAULT=$7 PY=$8 SHOT=${9:-}
CFG="$SRC/configs"
MET="$SRC/tests/mpi/metrics.py"
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
unset TINYFLOW_FAULT TINYFLOW_DATA TINYFLOW_CONFIG_DIR OMPI_COMM_WORLD_SIZE PMI_SIZE SLURM_STEP_NUM_TASKS
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
need_fault() { [ "$FAULT" = ON ] || { echo "skipped: needs -DTINYFLOW_FAULT_INJECTION=ON"; exit 77; }; }

# start N DIR ARGS...: `tinyflow train` on N ranks (1: a plain process) in the background,
# output appended to DIR.log; sets $pid (of the timeout wrapper)
start() {
    local n=$1 dir=$2
    shift 2
    if [ "$n" = 1 ]; then
        timeout -k 5 300 "$BIN" train -cd "$CFG" trainer.out_dir="$dir" "$@" >>"$dir.log" 2>&1 &
    else
        timeout -k 5 300 "$MPIEXEC" -n "$n" --oversubscribe "$BIN" train -cd "$CFG" trainer.out_dir="$dir" "$@" \
            >>"$dir.log" 2>&1 &
    fi
    pid=$!
}
# train N DIR ARGS...: the same, run to completion; returns the exit code
train() {
    start "$@"
    wait $pid
}
expect_rc() { # expect_rc WANT GOT WHAT
    if [ "$2" = "$1" ]; then ok "$3 (exit $2)"; else bad "$3: exit $2, want $1"; fi
}
has() { # has FILE PATTERN WHAT
    if grep -qF -- "$2" "$1"; then ok "$3"; else bad "$3: '$2' not in $1"; tail -20 "$1"; fi
}
same_ckpt() { # same_ckpt A B WHAT [CMP ARGS]: bitwise (or --tol) equal checkpoints
    local a=$1 b=$2 what=$3
    shift 3
    local out
    if out=$("$CMP" "$a" "$b" "$@"); then ok "$what: $out"; else bad "$what: $out"; fi
}
same_losses() { # same_losses RUN REF WHAT [--rtol R]
    local out
    if out=$("$PY" "$MET" compare "$1" "$2" "${@:4}"); then ok "$3: $out"; else bad "$3: $out"; fi
}
ckpt() { printf '%s/checkpoints/step_%08d.ckpt' "$1" "$2"; }
wait_file() { # wait_file PATH SECONDS
    for _ in $(seq $(($2 * 10))); do [ -e "$1" ] && return 0; sleep 0.1; done
    return 1
}
rank_pid() { # rank_pid LAUNCH_PID RANK: the pid of that rank under timeout -> mpirun
    local m q
    for m in $(pgrep -P "$1"); do
        for q in $(pgrep -P "$m"); do
            tr '\0' '\n' <"/proc/$q/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && echo "$q"
        done
    done
}

# Tiny class-conditional U-Net (dropout and label dropout on) on a 256-image IDX fixture.
fixture() { "$PY" "$SRC/tests/mpi/make_fixture.py" "$WORK/fx" 256; }
UNET=(dataset=mnist "dataset.root=$WORK/fx" model=unet model.base_ch=8 'model.ch_mult=[1,2]' model.num_res_blocks=1
      model.groups=4 model.heads=1 model.num_classes=10 model.dropout=0.1 dataset.batch_size=16
      lr_schedule.warmup_steps=5 optim.lr=2e-3 trainer.log_every=1 eval.every=0 trainer.ema_decay=0.99)
# Small MLP on two moons.
MLP=(experiment=moons model.hidden=64 model.layers=2 dataset.batch_size=64 dataset.n_samples=4096
     lr_schedule=warmup_cosine lr_schedule.warmup_steps=4 trainer.log_every=1 eval.every=0)

case $CASE in
loss)
    fixture
    train 2 unet "${UNET[@]}" trainer.steps=40 trainer.ckpt_every=0
    expect_rc 0 $? "2-rank U-Net run"
    if out=$("$PY" "$MET" decrease unet 5 0.75); then ok "U-Net $out"; else bad "U-Net $out"; fi
    train 1 mlp experiment=moons model.hidden=128 trainer.steps=400 trainer.log_every=20 trainer.ckpt_every=0 eval.every=0
    expect_rc 0 $? "1-rank MLP run"
    if out=$("$PY" "$MET" decrease mlp 3 0.93); then ok "MLP $out"; else bad "MLP $out"; fi
    ;;
equiv)
    fixture
    A=("${UNET[@]}" trainer.steps=20 trainer.ckpt_every=0)
    train 1 r1 "${A[@]}"; expect_rc 0 $? "1 rank"
    train 1 r1m "${A[@]}" trainer.micro_batch=4; expect_rc 0 $? "1 rank, 4 micro-batches"
    train 2 r2 "${A[@]}"; expect_rc 0 $? "2 ranks"
    train 2 r2b "${A[@]}"; expect_rc 0 $? "2 ranks again"
    train 4 r4 "${A[@]}"; expect_rc 0 $? "4 ranks"
    for r in r1m r2 r4; do same_losses $r r1 "per-step losses $r vs 1 rank" --rtol 1e-6; done
    for r in r1m r2 r4; do same_ckpt "$(ckpt $r 20)" "$(ckpt r1 20)" "final state $r vs 1 rank" --tol 1e-4; done
    same_losses r2b r2 "2-rank run twice: losses bitwise"
    same_ckpt "$(ckpt r2b 20)" "$(ckpt r2 20)" "2-rank run twice: checkpoint bitwise"
    B=("${MLP[@]}" model.num_classes=2 path.label_dropout=0.2 path.coupling=ot path.ot_scope=global
       trainer.steps=30 trainer.ckpt_every=0)
    train 1 m1 "${B[@]}"; expect_rc 0 $? "MLP, global OT, 1 rank"
    train 2 m2 "${B[@]}"; expect_rc 0 $? "MLP, global OT, 2 ranks"
    same_losses m2 m1 "MLP global OT: per-step losses 2 vs 1 rank" --rtol 1e-6
    ;;
resume)
    fixture
    A=("${UNET[@]}" trainer.steps=40 trainer.ckpt_every=10 trainer.keep_last=10)
    train 2 ref "${A[@]}"; expect_rc 0 $? "uninterrupted 2-rank run"
    for how in term usr1; do
        start 2 $how "${A[@]}"
        wait_file "$(ckpt $how 10 | sed 's/ckpt$/done/')" 120 || bad "$how: no checkpoint at step 10"
        if [ $how = term ]; then kill -TERM "$(rank_pid $pid 1)"; else kill -USR1 "$(pgrep -P $pid)"; fi
        wait $pid
        expect_rc 0 $? "$how: stopped run"
        stop=$(awk '/^step/{print $2}' $how/STOPPED 2>/dev/null)
        if [ -n "$stop" ] && [ "$stop" -lt 40 ] && [ -f "$(ckpt $how "$stop")" ]; then
            ok "$how: stopped at step $stop with a checkpoint"
        else
            bad "$how: no STOPPED file or checkpoint (step '$stop')"; cat $how.log | tail
        fi
        train 2 $how "${A[@]}"; expect_rc 0 $? "$how: resumed run"
        has $how.log "resuming from" "$how: the resume says where it starts"
        same_ckpt "$(ckpt $how 40)" "$(ckpt ref 40)" "$how: resumed final state vs uninterrupted"
        same_ckpt "$(ckpt $how 30)" "$(ckpt ref 30)" "$how: checkpoint 30 vs uninterrupted"
        same_losses $how ref "$how: per-step losses before and after the stop"
    done
    P=(experiment=moons model.hidden=256 trainer.steps=1500 trainer.ckpt_every=250 trainer.log_every=50 eval.every=0)
    train 1 pref "${P[@]}"; expect_rc 0 $? "plain process: uninterrupted run"
    start 1 plain "${P[@]}"
    wait_file "$(ckpt plain 250 | sed 's/ckpt$/done/')" 120 || bad "plain: no checkpoint at step 250"
    kill -TERM "$(pgrep -P $pid)"
    wait $pid
    expect_rc 0 $? "plain process: SIGTERM"
    train 1 plain "${P[@]}"; expect_rc 0 $? "plain process: resumed"
    same_ckpt "$(ckpt plain 1500)" "$(ckpt pref 1500)" "plain process: resumed final state vs uninterrupted"
    ;;
kill9)
    fixture
    A=("${UNET[@]}" trainer.steps=40 trainer.ckpt_every=10 trainer.keep_last=10)
    train 2 ref "${A[@]}"; expect_rc 0 $? "uninterrupted 2-rank run"
    start 2 k "${A[@]}"
    wait_file k/checkpoints/step_00000010.done 120 || bad "no checkpoint at step 10"
    victim=$(rank_pid $pid 1)
    t0=$(date +%s)
    kill -9 "$victim"
    wait $pid
    rc=$?
    dt=$(($(date +%s) - t0))
    if [ $rc -ne 0 ] && [ $dt -le 60 ]; then ok "kill -9 of rank 1: job exited $rc after ${dt} s"; else bad "kill -9: exit $rc after ${dt} s"; fi
    last=$(ls k/checkpoints/*.done | tail -1 | sed 's/done$/ckpt/')
    if out=$("$CMP" --meta "$last"); then ok "last complete checkpoint loads: $out"; else bad "last checkpoint: $out"; fi
    train 2 k "${A[@]}"; expect_rc 0 $? "resumed after the kill"
    has k.log "resuming from" "the resume names its checkpoint"
    same_ckpt "$(ckpt k 40)" "$(ckpt ref 40)" "resumed final state vs uninterrupted"
    same_losses k ref "per-step losses (steps redone after the kill included)"
    ;;
ckpt)
    A=("${MLP[@]}" trainer.steps=40 trainer.ckpt_every=10 trainer.keep_last=10)
    train 1 ref "${A[@]}"; expect_rc 0 $? "reference run"
    for how in truncate flip; do
        cp -r ref $how
        f=$(ckpt $how 40)
        size=$(stat -c %s "$f")
        if [ $how = truncate ]; then
            truncate -s $((size / 2)) "$f"
        else
            off=$((size - 300))
            byte=$(od -An -tu1 -j $off -N1 "$f" | tr -d ' ')
            printf "$(printf '\\%03o' $((byte ^ 16)))" | dd of="$f" bs=1 seek=$off conv=notrunc status=none
        fi
        cp "$f" $how.bad.ckpt
        train 1 $how "${A[@]}"; expect_rc 0 $? "$how: resume=auto"
        has $how.log "step_00000040.ckpt" "$how: the bad checkpoint is named"
        has $how.log "newest complete checkpoint is $how/checkpoints/step_00000030.ckpt" "$how: falls back to step 30"
        same_ckpt "$(ckpt $how 40)" "$(ckpt ref 40)" "$how: final state after the fallback"
        train 1 ${how}_explicit "${A[@]}" "trainer.resume=$WORK/$how.bad.ckpt"
        rc=$?
        if [ $rc -ne 0 ]; then ok "$how: explicit resume of the bad file exits $rc"; else bad "$how: explicit bad path accepted"; fi
        has ${how}_explicit.log "$how.bad.ckpt" "$how: the explicit error names the file"
    done
    grep -h "warning\|truncated\|corrupt\|checksum" truncate.log flip.log | head -4
    train 1 other experiment=moons model.hidden=32 model.layers=2 trainer.steps=10 trainer.ckpt_every=10 eval.every=0
    expect_rc 0 $? "a run of another model"
    train 1 foreign "${A[@]}" "trainer.resume=$WORK/$(ckpt other 10)"
    expect_rc 2 $? "another model's checkpoint is refused"
    has foreign.log "does not fit this model" "the refusal is tf_ckpt_check_signature's message"
    grep -h "does not fit" foreign.log | head -2
    ;;
track)
    fixture
    train 2 run "${UNET[@]}" trainer.steps=20 trainer.ckpt_every=10 eval.every=10 eval.n_samples=20 eval.grid_rows=2 \
        eval.grid_cols=10 solver.steps=4 solver.guidance=2.0
    expect_rc 0 $? "2-rank run with evaluations"
    if out=$("$PY" "$SRC/tests/track/check_mlflow.py" run/mlruns 2>&1); then ok "MLflow store valid"; else bad "MLflow: $out"; fi
    if out=$("$PY" "$SRC/tests/track/check_tfevents.py" run/tb 2>&1); then ok "TensorBoard events valid"; else bad "tfevents: $out"; fi
    for s in 0000010 0000020; do
        if wh=$("$PY" "$MET" png run/samples/step_$s.png); then ok "sample grid at step $s ($wh px)"; else bad "no grid at step $s"; fi
    done
    n=$("$PY" "$MET" count run loss)
    if [ "$n" = 20 ]; then ok "20 losses in metrics.jsonl"; else bad "$n losses in metrics.jsonl"; fi
    has run/report.html "data:image/png" "report.html embeds the grid"
    has run/report.html "loss" "report.html plots the loss"
    has run.log "eval at step 20" "evaluation logged on the console"
    grep -q '"fid"' run/metrics.jsonl && bad "a FID value was logged without an evaluator"
    ;;
render)
    browser=$(command -v chromium || command -v chromium-browser) || { echo "skipped: no chromium"; exit 77; }
    train 1 run "${MLP[@]}" trainer.steps=30 trainer.ckpt_every=0 eval.every=15 eval.n_samples=256
    expect_rc 0 $? "run with a report"
    profile=$(mktemp -d)
    timeout 90 "$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
        --user-data-dir="$profile" --screenshot="$WORK/shot.png" --window-size=1200,6000 "file://$WORK/run/report.html" \
        >shot.log 2>&1
    rm -rf "$profile"
    [ -s shot.png ] || { bad "no screenshot"; cat shot.log; }
    if out=$("$SHOT" shot.png 1200 6000 +1f77b4:300 2>&1); then
        ok "report renders with the loss plot: $out"
    else
        bad "render: $out"
    fi
    ;;
sample)
    fixture
    train 1 run "${UNET[@]}" trainer.steps=10 trainer.ckpt_every=10
    expect_rc 0 $? "training run"
    for g in 1.0 2.0; do
        timeout 120 "$BIN" sample -cd "$CFG" "${UNET[@]}" trainer.resume="$WORK/run" trainer.out_dir=s$g eval.n_samples=12 \
            eval.grid_rows=3 eval.grid_cols=4 solver.steps=4 solver.guidance=$g >s$g.log 2>&1
        expect_rc 0 $? "sample, guidance $g"
        shape=$("$PY" "$MET" npy s$g/samples.npy)
        if [ "$shape" = "12,1,28,28 <f4" ]; then ok "samples.npy is $shape"; else bad "samples.npy: '$shape'"; fi
        wh=$("$PY" "$MET" png s$g/samples.png)
        if [ "$wh" = "122,92" ]; then ok "samples.png is 3 x 4 cells of 28 px + 2 px borders ($wh)"; else bad "samples.png is '$wh', want 122,92"; fi
    done
    has s2.0.log "step 10" "sample names the checkpoint step"
    # Trajectory strip: 5 states (4 Euler steps: every grid point) of the first 10 samples.
    timeout 120 "$BIN" sample -cd "$CFG" "${UNET[@]}" trainer.resume="$WORK/run" trainer.out_dir=tr eval.n_samples=12 \
        eval.grid_rows=3 eval.grid_cols=4 solver=euler solver.steps=4 eval.trajectory=5 >tr.log 2>&1
    expect_rc 0 $? "sample with eval.trajectory=5"
    wh=$("$PY" "$MET" png tr/trajectory.png)
    if [ "$wh" = "152,302" ]; then ok "trajectory.png is 10 samples x 5 states ($wh)"; else bad "trajectory.png is '$wh', want 152,302"; fi
    has tr.log "5 states per sample" "sample names the trajectory"
    # Schedule transform: the same exact ODE under another scheduler gives the same samples (dopri5,
    # tight tolerances), while 4 Euler steps under cosine differ from 4 under CondOT.
    for sch in null cosine polynomial; do
        timeout 120 "$BIN" sample -cd "$CFG" "${UNET[@]}" trainer.resume="$WORK/run" trainer.out_dir=d_$sch eval.n_samples=8 \
            eval.grid_rows=2 eval.grid_cols=4 solver=dopri5 solver.atol=1e-7 solver.rtol=1e-7 solver.steps=2000 \
            eval.solver.scheduler=$sch >d_$sch.log 2>&1
        expect_rc 0 $? "dopri5 sample, eval.solver.scheduler=$sch"
        timeout 120 "$BIN" sample -cd "$CFG" "${UNET[@]}" trainer.resume="$WORK/run" trainer.out_dir=e_$sch eval.n_samples=8 \
            eval.grid_rows=2 eval.grid_cols=4 solver=euler solver.steps=4 eval.solver.scheduler=$sch >e_$sch.log 2>&1
        expect_rc 0 $? "euler sample, eval.solver.scheduler=$sch"
    done
    has d_cosine.log "scheduler cosine" "sample names the sampling scheduler"
    NPY=$PY; "$NPY" -c 'import numpy' 2>/dev/null || NPY=/usr/bin/python3 # Debian's has numpy
    for sch in cosine polynomial; do
        if out=$("$NPY" -c '
import sys, numpy as np
a, b, ea, eb = (np.load(f) for f in sys.argv[1:5])
d, e = float(np.abs(a - b).max()), float(np.abs(ea - eb).max())
print("dopri5 max |diff| %.2e, euler-4 max |diff| %.2e" % (d, e))
sys.exit(0 if d < 2e-3 and e > 20 * d else 1)' d_null/samples.npy d_$sch/samples.npy e_null/samples.npy e_$sch/samples.npy 2>&1); then
            ok "$sch: $out"
        else
            bad "$sch: want the same exact-ODE samples and other 4-step samples: $out"
        fi
    done
    # Guidance interval: 4 Euler steps evaluate t = 0, 0.25, 0.5, 0.75. [0.9, 1] contains none of them
    # (= no guidance), [0, 1] all (= guidance everywhere), [0.2, 0.8] three: different from both.
    for gi in none:1:0,1 all:3:0,1 none2:3:0.9,1 mid:3:0.2,0.8; do
        IFS=: read -r name g iv <<<"$gi"
        timeout 120 "$BIN" sample -cd "$CFG" "${UNET[@]}" trainer.resume="$WORK/run" trainer.out_dir=g_$name eval.n_samples=8 \
            eval.grid_rows=2 eval.grid_cols=4 solver=euler solver.steps=4 solver.guidance=$g "solver.guidance_interval=[$iv]" >g_$name.log 2>&1
        expect_rc 0 $? "euler sample, guidance $g on t in [$iv]"
    done
    has g_mid.log "guidance 3 on t in [0.2, 0.8]" "sample names the guidance interval"
    if out=$("$NPY" -c '
import sys, numpy as np
none, full, none2, mid = (np.load(f) for f in sys.argv[1:5])
d0, d1, d2 = float(np.abs(none2 - none).max()), float(np.abs(mid - none).max()), float(np.abs(mid - full).max())
print("[0.9,1] vs no guidance %.2e, [0.2,0.8] vs none %.2e, vs everywhere %.2e" % (d0, d1, d2))
sys.exit(0 if d0 < 1e-4 and d1 > 1e-2 and d2 > 1e-2 else 1)' g_none/samples.npy g_all/samples.npy g_none2/samples.npy g_mid/samples.npy 2>&1); then
        ok "guidance interval: $out"
    else
        bad "guidance interval: want [0.9,1] = no guidance and [0.2,0.8] different from both: $out"
    fi
    timeout 120 "$BIN" sample -cd "$CFG" "${UNET[@]}" trainer.resume="$WORK/run" trainer.out_dir=hv eval.n_samples=8 \
        eval.grid_rows=2 eval.grid_cols=4 solver=heun eval.solver.scheduler=vp >hv.log 2>&1
    expect_rc 2 $? "heun under a VP sampling scheduler is refused"
    has hv.log "euler, midpoint, edm_heun or ddim" "with the hint"
    timeout 120 "$BIN" sample -cd "$CFG" "${UNET[@]}" trainer.resume="$WORK/run" trainer.out_dir=ev eval.n_samples=8 \
        eval.grid_rows=2 eval.grid_cols=4 solver=edm_heun solver.steps=4 eval.solver.scheduler=vp >ev.log 2>&1
    expect_rc 0 $? "edm_heun (never evaluates t = 1) under a VP sampling scheduler"
    has ev.log "edm_heun, 4 steps, NFE 7," "with 2 x 4 - 1 evaluations"
    timeout 120 "$BIN" sample -cd "$CFG" "${UNET[@]}" model.base_ch=16 trainer.resume="$WORK/run" trainer.out_dir=sx >sx.log 2>&1
    expect_rc 2 $? "sampling another model's checkpoint is refused"
    has sx.log "does not fit this model" "with the signature message"
    ;;
nan)
    need_fault
    A=("${MLP[@]}" trainer.steps=14 trainer.ckpt_every=1 trainer.keep_last=100)
    TINYFLOW_FAULT=nan:1:5,inf:0:9 train 2 f "${A[@]}"
    expect_rc 0 $? "NaN on rank 1 at step 5, +inf on rank 0 at step 9"
    has f.log "step 5: non-finite" "step 5 skipped"
    has f.log "step 9: non-finite" "step 9 skipped"
    n=$(grep -c "non-finite loss or gradients" f.log)
    [ "$n" = 2 ] && ok "exactly 2 skips reported" || bad "$n skips reported"
    sk=$("$PY" "$MET" last f skipped_steps)
    case "$sk" in 2 | 2.0) ok "skipped_steps = 2 in metrics.jsonl" ;; *) bad "skipped_steps in metrics: $sk" ;; esac
    m=$("$CMP" --meta "$(ckpt f 14)")
    case "$m" in *"skipped 2 "*) ok "checkpoint: $m" ;; *) bad "checkpoint meta: $m" ;; esac
    for g in param adam_m adam_v ema; do
        same_ckpt "$(ckpt f 6)" "$(ckpt f 5)" "$g unchanged by skipped step 5" --group $g
        same_ckpt "$(ckpt f 10)" "$(ckpt f 9)" "$g unchanged by skipped step 9" --group $g
    done
    if "$CMP" "$(ckpt f 7)" "$(ckpt f 6)" --group param >/dev/null; then bad "a normal step left the parameters unchanged"; else ok "a normal step changes the parameters"; fi
    TINYFLOW_FAULT='nan:*:3-1000' train 2 g "${A[@]}" trainer.max_skips=4
    expect_rc 1 $? "4 consecutive non-finite steps stop the run"
    has g.log "4 non-finite steps in a row (trainer.max_skips = 4)" "with a clear message"
    last=$(ls g/checkpoints/*.ckpt | tail -1)
    if m=$("$CMP" --meta "$last"); then ok "the last checkpoint ($last) is finite: $m"; else bad "last checkpoint: $m"; fi
    ;;
watchdog)
    need_fault
    t0=$(date +%s)
    TINYFLOW_FAULT=stop:1:20 start 2 h "${MLP[@]}" trainer.steps=400 trainer.ckpt_every=0 trainer.step_timeout=3
    sleep 1
    ranks="$(rank_pid $pid 0) $(rank_pid $pid 1)"
    wait $pid
    rc=$?
    dt=$(($(date +%s) - t0))
    if [ $rc -ne 0 ] && [ $dt -le 40 ]; then ok "a stopped rank ends the job: exit $rc after ${dt} s"; else bad "stopped rank: exit $rc after ${dt} s"; fi
    has h.log "watchdog: step 20 did not finish within 3 s" "the watchdog says why"
    left=$ranks
    for _ in $(seq 100); do # mpirun may return while it is still killing the (stopped) ranks
        left=""
        for p in $ranks; do [ -e /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status 2>/dev/null && left="$left $p"; done
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -n "$left" ]; then bad "ranks still alive 10 s after the abort:$left"; kill -9 $left; else ok "every rank of the aborted job is gone ($ranks)"; fi
    TINYFLOW_FAULT=evalsleep:0:10:6 train 2 e "${MLP[@]}" trainer.steps=20 trainer.ckpt_every=0 eval.every=10 \
        eval.n_samples=64 trainer.step_timeout=3 trainer.eval_timeout=60
    expect_rc 0 $? "a 6 s evaluation with step_timeout=3"
    if grep -q watchdog e.log; then bad "the evaluation tripped the watchdog"; else ok "no watchdog during the evaluation"; fi
    has e.log "eval at step 10" "the evaluation ran"
    ;;
stopk)
    need_fault
    fixture
    A=("${UNET[@]}" trainer.steps=30 trainer.ckpt_every=10 trainer.keep_last=10)
    train 2 ref "${A[@]}"; expect_rc 0 $? "uninterrupted run"
    TINYFLOW_FAULT=term:1:17 train 2 s "${A[@]}"
    expect_rc 0 $? "SIGTERM on rank 1 at step 17"
    has s.log "stopped by SIGTERM at step 18 of 30" "every rank stopped after step 17"
    [ -f "$(ckpt s 18)" ] && ok "checkpoint at step 18" || bad "no checkpoint at step 18"
    train 2 s "${A[@]}"; expect_rc 0 $? "resumed"
    has s.log "resuming from s/checkpoints/step_00000018.ckpt" "resumed from step 18"
    same_ckpt "$(ckpt s 30)" "$(ckpt ref 30)" "resumed final state vs uninterrupted"
    same_losses s ref "per-step losses"
    ;;
savefail)
    need_fault
    A=("${MLP[@]}" trainer.steps=20 trainer.ckpt_every=10)
    train 1 ref "${A[@]}"; expect_rc 0 $? "reference run"
    TINYFLOW_FAULT=ckpt:rename:EIO:1 train 2 f "${A[@]}"
    expect_rc 1 $? "the final checkpoint's save fails (EIO at its rename)"
    has f.log "could not be saved" "the failure is reported"
    [ -f "$(ckpt f 20)" ] && bad "a checkpoint of step 20 exists after its save failed" || ok "no step-20 checkpoint"
    train 2 f "${A[@]}"; expect_rc 0 $? "resume after the failed save"
    has f.log "resuming from f/checkpoints/step_00000010.ckpt" "resumed from the last complete checkpoint"
    same_ckpt "$(ckpt f 20)" "$(ckpt ref 20)" "final state vs a 1-rank run that never failed" --tol 1e-4
    ;;
*)
    echo "unknown case $CASE"
    exit 2
    ;;
esac
[ $fail = 0 ] && echo "train_mpi $CASE: passed" || echo "train_mpi $CASE: FAILED"
exit $fail
