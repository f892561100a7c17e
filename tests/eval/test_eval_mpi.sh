#!/usr/bin/env bash
# test_eval_mpi.sh TINYFLOW EVAL_FIXTURE SOURCE_DIR "MPIEXEC ARGS" (labels slow, mpi) - the
# evaluation commands under `mpiexec -n 2 tinyflow ...` (the CLI starts MPI itself) against one
# process, on a generated 28x28 IDX fixture:
#   classifier train: each rank takes half of every global batch (keyed shuffles, flips, shifts
#     and dropout by global row; loss over the global batch; gradients summed with one allreduce
#     per step): the 20 per-step losses (metrics.jsonl, full precision) agree with one process to
#     1e-5 relative and the test accuracy to 0.01; only rank 0 saves (one checkpoint file);
#   classifier stats: reference statistics computed in shards equal the one-process trace;
#   fid from a UNet checkpoint: reference statistics and samples in shards, reduced in float64:
#     FID agrees to 1e-7 relative (the square root of nearly singular covariances turns float64
#     rounding of 1e-16 into ~1e-8) and the class metrics to 1e-9 relative (KID is off: each rank
#     draws its subsets from its own rows, so a sharded KID has the same expectation but not the
#     same value);
#   likelihood (Hutchinson, euler): each rank scores a share (every draw is keyed by the
#     example), bits/dim agree to 1e-9 relative.
# Rank 0 alone prints the results and writes metrics.jsonl (one line, not two).
set -u
BIN=$1
FIX=$2
SRC=$3
MPIEXEC=$4
CFG="$SRC/configs"
. "$SRC/tests/eval/lib.sh"
tf_eval_scratch eval_mpi
# key FILE KEY [STEP]: the first value of KEY in a metrics.jsonl (on the line of STEP when given)
key() {
    if [[ $# -ge 3 ]]; then grep "\"step\":$3," "$1" | grep -oE "\"$2\":[^,}]+" | head -1 | cut -d: -f2
    else grep -oE "\"$2\":[^,}]+" "$1" | head -1 | cut -d: -f2; fi
}
# close NAME A B RTOL: |A - B| <= RTOL |A| + 1e-12
close() {
    awk -v k="$1" -v a="$2" -v b="$3" -v r="$4" 'BEGIN { d = a - b; if (d < 0) d = -d; s = a < 0 ? -a : a;
        ok = (a != "" && b != "" && d <= r * s + 1e-12); printf "%-22s one rank %s, two ranks %s: %s\n", k, a, b, ok ? "ok" : "DIFFERENT";
        exit !ok }'
}
# mpirun ARGS...: tinyflow under mpiexec with 2 ranks
mpirun2() {
    # shellcheck disable=SC2086
    $MPIEXEC "$BIN" "$@"
}

"$FIX" idx data 2000 600 || exit 1
"$FIX" unet unet_ckpt >/dev/null || exit 1
COMMON=(-cd "$CFG" dataset=mnist dataset.root=data eval.classifier.width=8 eval.classifier.feat_dim=16
        eval.classifier.groups=4 eval.ref_split=test)

# --- classifier train: 1 rank vs 2 ranks, 20 steps -------------------------------------------
CTRAIN=(classifier train "${COMMON[@]}" eval.classifier.steps=20 eval.classifier.batch_size=32
        eval.classifier.warmup_steps=4 eval.classifier.dropout=0.2 eval.classifier.shift=2 eval.classifier.hflip=true
        trainer.log_every=1)
"$BIN" "${CTRAIN[@]}" eval.classifier.ckpt=clf1 trainer.out_dir=c1 >c1.log 2>&1 && ok || { bad "1-rank classifier train"; tail c1.log; }
mpirun2 "${CTRAIN[@]}" eval.classifier.ckpt=clf2 trainer.out_dir=c2 >c2.log 2>&1 && ok || { bad "2-rank classifier train"; tail -30 c2.log; }
grep -q "2 ranks x 16 rows" c2.log && ok || bad "the 2-rank classifier run did not split the batch"
worst=0
for s in $(seq 1 20); do
    a=$(key c1/metrics.jsonl classifier/loss "$s")
    b=$(key c2/metrics.jsonl classifier/loss "$s")
    if ! close "loss step $s" "$a" "$b" 1e-5 >/dev/null; then bad "classifier loss at step $s: $a vs $b"; fi
    worst=$(awk -v w="$worst" -v a="$a" -v b="$b" 'BEGIN { d = (a - b) / a; if (d < 0) d = -d; print (d > w ? d : w) }')
done
echo "classifier: 20 per-step losses, largest relative difference 1 vs 2 ranks: $worst"
a=$(key c1/metrics.jsonl classifier/test_acc)
b=$(key c2/metrics.jsonl classifier/test_acc)
awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; exit !(a != "" && b != "" && d <= 0.01 && d >= -0.01) }' && ok ||
    bad "classifier test accuracy 1 rank $a vs 2 ranks $b"
[[ $(ls clf2/*.ckpt 2>/dev/null | wc -l) -eq 1 && $(grep -c "classifier/test_acc" c2/metrics.jsonl) -eq 1 ]] && ok ||
    bad "the 2-rank run must save one checkpoint and write one result line"
cp -r clf1 clf # the classifier the metrics below use

# --- classifier stats: sharded reference statistics ----------------------------------------
"$BIN" classifier stats "${COMMON[@]}" eval.classifier.ckpt=clf >s1.log 2>&1 || { tail s1.log; exit 1; }
rm -f clf/stats_*.tfstats
mpirun2 classifier stats "${COMMON[@]}" eval.classifier.ckpt=clf >s2.log 2>&1 && ok || { bad "2-rank stats"; tail s2.log; }
t1=$(grep -oE "trace of the covariance [0-9.e+-]+" s1.log | awk '{print $NF}')
t2=$(grep -oE "trace of the covariance [0-9.e+-]+" s2.log | awk '{print $NF}')
[[ -n $t1 && $t1 == "$t2" && $(grep -c "trace of the covariance" s2.log) -eq 1 ]] && ok || bad "stats trace 1 rank '$t1' vs 2 ranks '$t2'"

# --- fid from a UNet checkpoint --------------------------------------------------------------
ARGS=("${COMMON[@]}" eval.classifier.ckpt=clf eval.checkpoint=unet_ckpt eval.fid_samples=90 eval.batch_size=15
      solver=euler solver.steps=2 solver.guidance=2.0 eval.kid_subsets=0)
"$BIN" fid "${ARGS[@]}" trainer.out_dir=one >one.log 2>&1 || { tail one.log; exit 1; }
rm -f clf/stats_*.tfstats # the 2-rank run computes the reference statistics itself, in shards
mpirun2 fid "${ARGS[@]}" trainer.out_dir=two >two.log 2>&1 && ok || { bad "2-rank fid"; tail -30 two.log; }
grep -q "2 ranks" two.log && ok || bad "the MPI fid run did not shard"
ls clf/stats_mnist_test_*.tfstats >/dev/null 2>&1 && ok || bad "rank 0 did not cache the statistics"
[[ $(grep -c "^FID" two.log) -eq 1 && $(wc -l <two/metrics.jsonl) -eq 1 ]] && ok || bad "rank 0 alone must print and write"
# The statistics agree to ~1e-16 (checked with numpy while writing this test), but tr sqrt(S1 S2) is
# not Lipschitz at eigenvalue 0 and 90 samples of an untrained model have a nearly singular
# covariance: rounding of 1e-16 moves the FID by up to sqrt(1e-16) of its scale. Allow 1e-7 relative
# (measured: 4e-9).
close "fid: fid" "$(key one/metrics.jsonl fid)" "$(key two/metrics.jsonl fid)" 1e-7 && ok || bad "fid fid"
for k in class_acc class_entropy n; do close "fid: $k" "$(key one/metrics.jsonl $k)" "$(key two/metrics.jsonl $k)" 1e-9 && ok || bad "fid $k"; done

# --- likelihood ----------------------------------------------------------------------------
LARGS=(-cd "$CFG" dataset=mnist dataset.root=data dataset.split=test eval.checkpoint=unet_ckpt solver=euler
       solver.steps=3 eval.likelihood.n=60 eval.batch_size=20)
"$BIN" likelihood "${LARGS[@]}" trainer.out_dir=l1 >l1.log 2>&1 || { tail l1.log; exit 1; }
mpirun2 likelihood "${LARGS[@]}" trainer.out_dir=l2 >l2.log 2>&1 && ok || { bad "2-rank likelihood"; tail -30 l2.log; }
grep -q "2 ranks" l2.log && ok || bad "the MPI likelihood run did not shard"
[[ $(grep -c "^bits/dim" l2.log) -eq 1 ]] && ok || bad "rank 0 alone must print bits/dim"
for k in bpd bpd_se n; do close "likelihood: $k" "$(key l1/metrics.jsonl $k)" "$(key l2/metrics.jsonl $k)" 1e-9 && ok || bad "likelihood $k"; done

echo "test_eval_mpi: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
