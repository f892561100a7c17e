#!/usr/bin/env bash
# scaling.sh - docs/scaling.md's measurements on this machine: training images/s of the mnist
# preset (global batch 128) as 1 rank x N threads, N ranks x 1 thread and oversubscribed 2N ranks,
# and the gradient allreduce alone (bench_allreduce: the arena size and 1 float = latency), so
# comm share = allreduce time / step time. Prints Markdown rows; raw runs stay in OUT/.
#
#   experiments/scaling.sh OUT_DIR [STEPS]     (env: TINYFLOW, BENCH_ALLREDUCE, TF_DATA)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: scaling.sh OUT_DIR [STEPS]} steps=${2:-60}
bin=${TINYFLOW:-$here/build/tinyflow}
ar=${BENCH_ALLREDUCE:-$here/build/bench/bench_allreduce}
export TINYFLOW=$bin TINYFLOW_CONFIG_DIR=${TINYFLOW_CONFIG_DIR:-$here/configs}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cores=$(nproc)
mkdir -p "$out"
rate() { # steady-state images/s: the mean of the log windows after the first (start-up) one
    /usr/bin/python3 - "$1" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if '"images_per_s"' in l]
r = [x["images_per_s"] for x in r[1:]]
print("%.1f" % (sum(r) / len(r)))
PY
}
run() { # name ranks threads
    rm -rf "$out/$1"
    "$here/launch/local.sh" -n "$2" -t "$3" train experiment=mnist "dataset.root=${TF_DATA:-data}" \
        trainer.steps="$steps" lr_schedule.warmup_steps=5 trainer.log_every=10 eval.every=0 trainer.ckpt_every=0 \
        "trainer.out_dir=$out/$1" >"$out/$1.log" 2>&1
    rate "$out/$1/metrics.jsonl"
}
params=${TF_PARAMS:-1114224}   # the mnist preset's U-Net (its training log: "model unet: N parameters")
r1=$(run r1x$cores 1 "$cores")
rN=$(run r${cores}x1 "$cores" 1)
r2N=$(run r$((2 * cores))x1 $((2 * cores)) 1)
echo "| layout | images/s |"
echo "|---|---:|"
echo "| 1 rank x $cores threads | $r1 |"
echo "| $cores ranks x 1 thread | $rN |"
echo "| $((2 * cores)) ranks x 1 thread (oversubscribed) | $r2N |"
big=$(mpirun --oversubscribe -n "$cores" "$ar" --floats "$params" --iters 40)
small=$(mpirun --oversubscribe -n "$cores" "$ar" --floats 1 --iters 200)
echo "allreduce $params floats: $big"
echo "allreduce 1 float: $small"
