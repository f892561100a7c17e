#!/usr/bin/env bash
# test_eval_train_fid.sh MODE TINYFLOW EVAL_FIXTURE SOURCE_DIR ["MPIEXEC ARGS"] (label slow; mode mpi
# also mpi) - FID during `tinyflow train` (src/cli/train_fid.c installs src/eval's metrics as the
# trainer's evaluation hook), on a generated 28x28 IDX fixture with a classifier trained here in
# 40 steps and a tiny class-conditional U-Net trained for 4 steps, evaluated every 2:
#   one: metrics.jsonl has a finite fid (and kid, class_acc, fid_n = eval.fid_samples) at steps 2
#        and 4 and nowhere else; the same values reach MLflow (metrics/fid), TensorBoard (a "fid"
#        tag) and report.html (a fid plot); the reference statistics are cached next to the
#        classifier by the first run and read by the next; without eval.classifier.ckpt there is
#        exactly one note and no fid; a classifier that does not fit the model is refused (exit 2);
#        a FID about 3x longer than trainer.eval_timeout does not trip the watchdog (it is re-armed
#        per chunk of samples; the FID's size is scaled to the machine's speed by a first run).
#   mpi: the same run on 2 ranks: every rank generates its share (fid_n is still eval.fid_samples,
#        not twice it), the FID agrees with the one-process run to 1e-6 relative (the weights
#        agree to float rounding only), and a long FID trips no rank's watchdog.
set -u
MODE=$1
BIN=$2
FIX=$3
SRC=$4
MPIEXEC=${5:-}
CFG="$SRC/configs"
. "$SRC/tests/eval/lib.sh"
tf_eval_scratch train_fid
# field FILE STEP KEY: the value of KEY on the metrics.jsonl line of STEP that has it
field() { grep "\"step\":$2," "$1" | grep -oE "\"$3\":[^,}]+" | head -1 | cut -d: -f2; }
finite() { awk -v a="$1" 'BEGIN { exit !(a != "" && a == a + 0 && a < 1e300 && a > -1e300) }'; }

"$FIX" idx data 2000 600 || exit 1
CLF=(eval.classifier.width=8 eval.classifier.feat_dim=16 eval.classifier.groups=4)
"$BIN" classifier train -cd "$CFG" dataset=mnist dataset.root=data eval.classifier.ckpt=clf "${CLF[@]}" \
    eval.classifier.steps=40 eval.classifier.batch_size=32 eval.classifier.warmup_steps=5 trainer.out_dir=clfrun \
    >clf.log 2>&1 || { tail clf.log; exit 1; }
UNET=(-cd "$CFG" dataset=mnist dataset.root=data model=unet model.base_ch=8 'model.ch_mult=[1,2]'
      model.num_res_blocks=1 model.groups=4 model.heads=1 model.num_classes=10 'model.attn_res=[]'
      dataset.batch_size=16 lr_schedule.warmup_steps=2 trainer.log_every=1 trainer.steps=4 eval.every=2
      eval.n_samples=16 eval.grid_rows=4 eval.grid_cols=4 solver=euler solver.steps=2 solver.guidance=2.0
      eval.kid_subsets=5 eval.kid_subset_size=20 trainer.resume=never)
FIDRUN=("${UNET[@]}" eval.classifier.ckpt=clf eval.fid_samples=96)

# long_fid NAME [LAUNCHER...]: a FID that takes several times trainer.eval_timeout (5 s) in all, each
# chunk of 64 samples well within it. The number of samples is sized from a first, untimed run of
# 1500 (taking T s): N = 1500 * 15 / T (at least 1500), so the FID lasts about 15 s on any machine.
# Exit 0 is required (3 would be the watchdog); eval_seconds > 5 shows the case was exercised.
long_fid() {
    local name=$1 t n code secs
    shift
    "$@" "$BIN" train "${FIDRUN[@]}" eval.every=4 eval.fid_samples=1500 trainer.out_dir="${name}_probe" >"${name}_probe.log" 2>&1 ||
        { bad "$name: probe run failed"; tail -5 "${name}_probe.log"; return; }
    t=$(field "${name}_probe/metrics.jsonl" 4 eval_seconds)
    n=$(awk -v t="$t" 'BEGIN { n = int(1500 * 15 / (t > 0.01 ? t : 0.01)) + 1; if (n < 1500) n = 1500; if (n > 200000) n = 200000; print n }')
    "$@" "$BIN" train "${FIDRUN[@]}" eval.every=4 eval.fid_samples="$n" trainer.step_timeout=5 trainer.eval_timeout=5 \
        trainer.out_dir="$name" >"$name.log" 2>&1
    code=$?
    [[ $code -eq 0 ]] && ok || { bad "$name: long FID exit $code (3 = watchdog)"; grep -i watchdog "$name.log"; tail -5 "$name.log"; return; }
    secs=$(field "$name/metrics.jsonl" 4 eval_seconds)
    if awk -v s="$secs" 'BEGIN { exit !(s > 5) }'; then
        echo "$name: a FID of $n samples took $secs s > trainer.eval_timeout 5 s, no watchdog trip"
    else
        echo "note: $name: the FID of $n samples took only $secs s (the probe of 1500 took $t s): not longer than 5 s"
    fi
}

# check_run DIR LOG N: fid lines at steps 2 and 4 only, finite, fid_n = N
check_run() {
    local dir=$1 log=$2 n=$3 s v
    for s in 2 4; do
        for k in fid kid class_acc; do
            v=$(field "$dir/metrics.jsonl" $s $k)
            finite "$v" && ok || bad "$dir: step $s has no finite $k ('$v')"
        done
        v=$(field "$dir/metrics.jsonl" $s fid_n)
        [[ $v == "$n" ]] && ok || bad "$dir: step $s scored '$v' samples, want $n"
    done
    [[ $(grep -c '"fid":' "$dir/metrics.jsonl") -eq 2 ]] && ok || bad "$dir: fid lines at other steps too"
    grep -q "eval at step 4: .*fid [0-9]" "$log" && ok || bad "$dir: the console shows no FID"
}

if [[ $MODE == one ]]; then
    "$BIN" train "${FIDRUN[@]}" trainer.out_dir=run1 >run1.log 2>&1 && ok || { bad "train with FID failed"; tail -20 run1.log; }
    check_run run1 run1.log 96
    grep -q "statistics cached in clf/stats_mnist_train_" run1.log && ok || bad "first run did not cache the statistics"
    # the same numbers everywhere metrics go
    fid2=$(field run1/metrics.jsonl 2 fid)
    mlf=$(find run1/mlruns -path '*/metrics/fid' | head -1)
    [[ -n $mlf && $(wc -l <"$mlf") -eq 2 ]] && awk -v v="$fid2" 'NR==1 { exit !($2 == v) }' "$mlf" && ok ||
        bad "MLflow metrics/fid missing or different from metrics.jsonl ($mlf)"
    grep -aq "fid" run1/tb/events.out.tfevents.* && ok || bad "no fid scalar in the TensorBoard events"
    grep -q 'bold">fid</text>' run1/report.html && ok || bad "report.html has no fid plot"
    # second run: statistics from the cache, and the FID is the same (same seed, same training)
    "$BIN" train "${FIDRUN[@]}" trainer.out_dir=run2 >run2.log 2>&1 && ok || { bad "second train failed"; tail run2.log; }
    grep -q "statistics read from clf/stats_mnist_train_" run2.log && ok || bad "second run did not read the cache"
    [[ $(field run2/metrics.jsonl 4 fid) == "$(field run1/metrics.jsonl 4 fid)" ]] && ok || bad "FID differs between two identical runs"
    # no classifier: one note, no fid
    "$BIN" train "${UNET[@]}" eval.fid_samples=96 trainer.out_dir=run3 >run3.log 2>&1 && ok || { bad "train without classifier failed"; tail run3.log; }
    [[ $(grep -c "eval.classifier.ckpt is not set" run3.log) -eq 1 ]] && ok || { bad "want exactly one note"; cat run3.log; }
    grep -q '"fid"' run3/metrics.jsonl && bad "fid logged without a classifier" || ok
    # a classifier that cannot score the model's samples: refused before training
    "$BIN" train -cd "$CFG" experiment=moons trainer.steps=2 eval.every=1 eval.fid_samples=10 eval.classifier.ckpt=clf \
        trainer.out_dir=run4 >run4.log 2>&1
    code=$?
    [[ $code -eq 2 ]] && grep -q "the classifier" run4.log && ok || { bad "moons + image classifier: exit $code"; tail run4.log; }
    # a FID longer than trainer.eval_timeout: the watchdog is re-armed per chunk of 64 samples
    long_fid long
elif [[ $MODE == mpi ]]; then
    [[ -n $MPIEXEC ]] || { echo "no mpiexec: skipped"; exit 77; }
    "$BIN" train "${FIDRUN[@]}" trainer.out_dir=one >one.log 2>&1 || { tail one.log; exit 1; }
    rm -f clf/stats_*.tfstats # the 2-rank run computes the reference statistics in shards
    # shellcheck disable=SC2086
    $MPIEXEC "$BIN" train "${FIDRUN[@]}" trainer.out_dir=two >two.log 2>&1 && ok || { bad "2-rank train failed"; tail -30 two.log; }
    grep -q "2 rank(s)" two.log && ok || bad "the FID did not run on 2 ranks"
    check_run two two.log 96
    ls clf/stats_mnist_train_*.tfstats >/dev/null 2>&1 && ok || bad "rank 0 did not cache the statistics"
    a=$(field one/metrics.jsonl 4 fid)
    b=$(field two/metrics.jsonl 4 fid)
    awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; printf "FID at step 4: 1 rank %s, 2 ranks %s\n", a, b;
        exit !(a != "" && d <= 1e-6 * (a < 0 ? -a : a)) }' && ok || bad "2-rank FID differs from 1 rank beyond 1e-6"
    # shellcheck disable=SC2086
    long_fid long $MPIEXEC
else
    echo "unknown mode $MODE"
    exit 2
fi
echo "test_eval_train_fid ($MODE): $pass passed, $fail failed"
[[ $fail -eq 0 ]]
