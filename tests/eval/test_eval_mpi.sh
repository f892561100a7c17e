#!/usr/bin/env bash
# test_eval_mpi.sh TINYFLOW EVAL_FIXTURE EVAL_MPI_FID SOURCE_DIR "MPIEXEC ARGS" (labels slow, mpi)
# fid sharded over 2 MPI ranks gives the one-process numbers: the reference statistics are
# computed in shards and reduced (plain float64 sums around the global mean), the samples --
# drawn from a UNet checkpoint with keyed noise per global sample index -- are split between
# the ranks, counts are summed. FID and the class metrics (full precision, from metrics.jsonl)
# must agree to 1e-9 relative. (KID is off here: each rank draws its subsets from its own rows,
# so a sharded KID has the same expectation but not the same value.)
set -u
BIN=$1
FIX=$2
MPIFID=$3
SRC=$4
MPIEXEC=$5
CFG="$SRC/configs"
TMP=$(mktemp -d /tmp/tf_test_eval_mpi_XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
unset TINYFLOW_DATA TINYFLOW_CONFIG_DIR OMPI_COMM_WORLD_SIZE PMI_SIZE PMIX_SIZE
"$FIX" idx data 2000 600 || exit 1
"$FIX" unet unet_ckpt >/dev/null || exit 1
COMMON=(-cd "$CFG" dataset=mnist dataset.root=data eval.classifier.ckpt=clf eval.classifier.width=8
        eval.classifier.feat_dim=16 eval.classifier.groups=4 eval.ref_split=test)
"$BIN" classifier train "${COMMON[@]}" trainer.out_dir=train eval.classifier.steps=60 eval.classifier.batch_size=32 \
    >train.log 2>&1 || { tail train.log; exit 1; }
ARGS=("${COMMON[@]}" eval.checkpoint=unet_ckpt eval.fid_samples=90 eval.batch_size=15 solver=euler solver.steps=2
      solver.guidance=2.0 eval.kid_subsets=0)
"$BIN" fid "${ARGS[@]}" trainer.out_dir=one >one.log 2>&1 || { tail one.log; exit 1; }
rm -f clf/stats_*.tfstats # the 2-rank run computes the reference statistics itself, in shards
# shellcheck disable=SC2086
$MPIEXEC "$MPIFID" fid "${ARGS[@]}" trainer.out_dir=two >two.log 2>&1 || { tail -30 two.log; exit 1; }
grep -q "2 ranks" two.log || { echo "FAIL: the MPI run did not shard"; cat two.log; exit 1; }
ls clf/stats_mnist_test_*.tfstats >/dev/null || { echo "FAIL: rank 0 did not cache the statistics"; exit 1; }
# compare every metric of the two metrics.jsonl lines (KID is off: its subsets depend on the split)
python_free_compare() {
    local key=$1
    local a b
    a=$(grep -oE "\"$key\":[^,}]+" one/metrics.jsonl | head -1 | cut -d: -f2)
    b=$(grep -oE "\"$key\":[^,}]+" two/metrics.jsonl | head -1 | cut -d: -f2)
    awk -v a="$a" -v b="$b" -v k="$key" 'BEGIN { d = a - b; if (d < 0) d = -d; s = a < 0 ? -a : a;
        ok = (a != "" && d <= 1e-9 * s + 1e-12); printf "%-14s one rank %s, two ranks %s: %s\n", k, a, b, ok ? "ok" : "DIFFERENT";
        exit !ok }'
}
fail=0
for k in fid class_acc class_entropy n; do python_free_compare "$k" || fail=$((fail + 1)); done
echo "test_eval_mpi_fid: $((4 - fail)) passed, $fail failed"
[[ $fail -eq 0 ]]
