#!/usr/bin/env bash
# fid_sanity.sh - the README's FID sanity table for one dataset, measured by `tinyflow fid`
# itself: the classifier's test accuracy, FID of the real test set against the train statistics
# (the floor) at 2k and 10k images, and FID of the 10k test images under increasing Gaussian noise
# and box blur. Prints Markdown rows; raw results stay in OUT/*/metrics.jsonl.
#
#   experiments/fid_sanity.sh DATASET CLASSIFIER_DIR OUT_DIR      (env: TF_DATA, default data)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 3 ] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
ds=$1 clf=$2 out=$3 data=${TF_DATA:-data}
bin=${TINYFLOW:-$here/build/tinyflow}
export TINYFLOW_CONFIG_DIR=${TINYFLOW_CONFIG_DIR:-$here/configs}
mkdir -p "$out"
acc=$("$bin" classifier eval dataset="$ds" "dataset.root=$data" "eval.classifier.ckpt=$clf" \
      "trainer.out_dir=$out/clf_eval" 2>&1 | sed -n 's/.*test accuracy \([0-9.]*\).*/\1/p' | tail -1)
echo "| $ds | classifier test accuracy | $acc |"
score() { # name, npy, [labels]
    local lab=(); [ -n "${3:-}" ] && lab=("eval.sample_labels=$3")
    "$bin" fid dataset="$ds" "dataset.root=$data" "eval.classifier.ckpt=$clf" "eval.samples=$2" "${lab[@]}" \
        eval.kid_subsets=0 "trainer.out_dir=$out/$1" >"$out/$1.log" 2>&1
    /usr/bin/python3 -c "import json,sys; m=json.loads(open(sys.argv[1]).readlines()[-1]); print('%.4f' % m['fid'])" \
        "$out/$1/metrics.jsonl"
}
py=/usr/bin/python3
for n in 2000 10000; do
    $py "$here/experiments/real_npy.py" "$data/$ds" test "$n" "$out/test_$n.npy"
    echo "| $ds | FID test ($n) vs train (the floor) | $(score "floor_$n" "$out/test_$n.npy") |"
done
for s in 0.05 0.1 0.2 0.4; do
    $py "$here/experiments/real_npy.py" "$data/$ds" test 10000 "$out/noise_$s.npy" --noise "$s"
    echo "| $ds | FID test (10000) + Gaussian noise sigma $s | $(score "noise_$s" "$out/noise_$s.npy") |"
    rm -f "$out/noise_$s.npy"
done
for r in 1 2; do
    $py "$here/experiments/real_npy.py" "$data/$ds" test 10000 "$out/blur_$r.npy" --blur "$r"
    echo "| $ds | FID test (10000), box blur radius $r | $(score "blur_$r" "$out/blur_$r.npy") |"
    rm -f "$out/blur_$r.npy"
done
