#!/usr/bin/env bash
# Runs tinyflow's bench_step and the identical PyTorch step (bench/torch_step.py, default and
# --best settings) side by side for the four reference shapes, interleaved ROUNDS times, and
# prints the comparison table (fastest of each side) with ratios. Usage:
#   bench/run_compare.sh [BUILD_DIR] [ROUNDS] [THREADS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
rounds="${2:-2}"
threads="${3:-2}"
py=/usr/bin/python3
out="$(mktemp)"
export OMP_NUM_THREADS="$threads"
for r in $(seq "$rounds"); do
  for shape in "mnist train" "cifar train" "mnist sample" "cifar sample"; do
    set -- $shape
    "$build/bench/bench_step" --config "$1" --mode "$2" | tee -a "$out"
    "$py" "$here/torch_step.py" --config "$1" --mode "$2" --threads "$threads" --budget 8 | tee -a "$out"
    "$py" "$here/torch_step.py" --config "$1" --mode "$2" --threads "$threads" --budget 8 --best | tee -a "$out"
  done
done
echo
"$py" "$here/compare.py" "$out"
