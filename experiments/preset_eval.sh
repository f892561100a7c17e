#!/usr/bin/env bash
# preset_eval.sh - measure a trained MNIST-format preset the way the README reports it, with
# tinyflow's own commands: the real-data FID floor and the model's FID / class accuracy at 2k
# (and optionally 10k) samples, the wall time to draw the 2k samples, sample grids per solver and
# per sampling scheduler at 10/20/50 steps (guided and unconditional), a trajectory strip (noise
# to data) and likelihood in bits/dim on the test set. Every number lands in OUT/summary.md (and each command's own metrics.jsonl).
#
#   experiments/preset_eval.sh EXPERIMENT RUN_DIR CLASSIFIER_DIR OUT_DIR
#   env: TF_RANKS (2), TF_DATA (data), TF_FID_NS ("2000 10000": sample counts of the model FID), TF_LIKELIHOOD_N (1000),
#        TF_STAGES (floor,fid,grids,trajectory,likelihood), TF_LIKELIHOOD_ARGS (the likelihood ODE's solver overrides;
#        default dopri5 at atol = rtol = 1e-5)
#
# EXPERIMENT is the preset the run was trained with (mnist, fashion_mnist): its solver, steps and
# guidance are the ones measured. Needs /usr/bin/python3 with numpy (Debian python3-numpy).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 4 ] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
exp=$1 run=$2 clf=$3 out=$4
ranks=${TF_RANKS:-2} data=${TF_DATA:-data} stages=${TF_STAGES:-floor,fid,grids,trajectory,likelihood}
threads=$(( $(nproc) / ranks )); [ "$threads" -ge 1 ] || threads=1
bin=${TINYFLOW:-$here/build/tinyflow}
export TINYFLOW=$bin TINYFLOW_CONFIG_DIR=${TINYFLOW_CONFIG_DIR:-$here/configs}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ds=$("$bin" train experiment="$exp" --cfg job | awk '/^dataset:/{f=1} f&&/^  name:/{print $2; exit}')
mkdir -p "$out"
sum=$out/summary.md
has() { case ",$stages," in *,$1,*) return 0 ;; esac; return 1; }
last() { tail -1 "$1/metrics.jsonl"; }
field() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], float('nan')))" "$1" "$2"; }
fid_args=(dataset="$ds" "dataset.root=$data" "eval.classifier.ckpt=$clf" eval.kid_subsets=0)
echo "# $exp: run $run, classifier $clf ($(date -u +%F))" >"$sum"

if has floor; then
    for n in 2000 10000; do
        /usr/bin/python3 "$here/experiments/real_npy.py" "$data/$ds" test "$n" "$out/real_test_$n.npy" \
            --labels "$out/real_test_${n}_labels.npy"
        "$bin" fid "${fid_args[@]}" "eval.samples=$out/real_test_$n.npy" \
            "eval.sample_labels=$out/real_test_${n}_labels.npy" "trainer.out_dir=$out/floor_$n" >"$out/floor_$n.log"
        m=$(last "$out/floor_$n")
        echo "floor_$n fid=$(field "$m" fid) class_acc=$(field "$m" class_acc)" | tee -a "$sum"
    done
fi

if has fid; then
    ns=${TF_FID_NS:-2000 10000}
    for n in $ns; do
        t0=$(date +%s.%N)
        "$here/launch/local.sh" -n "$ranks" -t "$threads" fid experiment="$exp" "${fid_args[@]}" "eval.checkpoint=$run/checkpoints" \
            "eval.fid_samples=$n" "trainer.out_dir=$out/fid_$n" >"$out/fid_$n.log" 2>&1
        t1=$(date +%s.%N)
        m=$(last "$out/fid_$n")
        printf 'model_%s fid=%s class_acc=%s class_entropy=%s wall_s=%.1f (sampling + scoring, %s ranks)\n' "$n" \
            "$(field "$m" fid)" "$(field "$m" class_acc)" "$(field "$m" class_entropy)" \
            "$(echo "$t1 - $t0" | bc)" "$ranks" | tee -a "$sum"
    done
fi

if has grids; then
    mkdir -p "$out/grids"
    # Solvers x steps with the preset's guidance, and unconditional (guidance 0 = the null label's field).
    for g in preset 0; do
        for s in euler midpoint heun rk4 ddim; do
            for k in 10 20 50; do
                gov=(); [ "$g" = 0 ] && gov=(eval.solver.guidance=0)
                "$bin" sample experiment="$exp" "dataset.root=$data" "trainer.resume=$run" eval.n_samples=10 \
                    eval.grid_rows=1 eval.grid_cols=10 "eval.solver.name=$s" "eval.solver.steps=$k" "${gov[@]}" \
                    "trainer.out_dir=$out/grids/${s}_${k}_g$g" >"$out/grids/${s}_${k}_g$g.log" 2>&1
            done
        done
    done
    for g in preset 0; do
        rows=()
        for s in euler midpoint heun rk4 ddim; do
            for k in 10 20 50; do rows+=("$s $k=$out/grids/${s}_${k}_g$g/samples.png"); done
        done
        /usr/bin/python3 "$here/experiments/montage.py" "$out/solvers_g$g.png" "${rows[@]}"
    done
    # Sampling schedulers (schedule transform of the trained CondOT model) with the preset's solver.
    sol=$("$bin" train experiment="$exp" --cfg job | awk '/^solver:/{f=1} f&&/^  name:/{print $2; exit}')
    case $sol in euler | midpoint | ddim) ;; *) sol=midpoint ;; esac # VP-type targets need these
    for g in preset 0; do
        rows=()
        for sch in condot cosine polynomial vp; do
            for k in 10 20 50; do
                gov=(); [ "$g" = 0 ] && gov=(eval.solver.guidance=0)
                "$bin" sample experiment="$exp" "dataset.root=$data" "trainer.resume=$run" eval.n_samples=10 \
                    eval.grid_rows=1 eval.grid_cols=10 "eval.solver.name=$sol" "eval.solver.steps=$k" \
                    "eval.solver.scheduler=$sch" "${gov[@]}" "trainer.out_dir=$out/grids/sch_${sch}_${k}_g$g" \
                    >"$out/grids/sch_${sch}_${k}_g$g.log" 2>&1
                rows+=("$sch $k=$out/grids/sch_${sch}_${k}_g$g/samples.png")
            done
        done
        /usr/bin/python3 "$here/experiments/montage.py" "$out/schedulers_g$g.png" "${rows[@]}"
    done
    echo "grids: $out/solvers_gpreset.png (guided), $out/solvers_g0.png (unconditional)," \
        "$out/schedulers_gpreset.png, $out/schedulers_g0.png ($sol)" | tee -a "$sum"
fi

if has trajectory; then
    "$bin" sample experiment="$exp" "dataset.root=$data" "trainer.resume=$run" eval.n_samples=10 eval.grid_rows=1 \
        eval.grid_cols=10 eval.solver.name=euler eval.solver.steps=20 eval.trajectory=11 \
        "trainer.out_dir=$out/trajectory" >"$out/trajectory.log" 2>&1
    echo "trajectory: $out/trajectory/trajectory.png (euler 20 steps, every 2nd state)" | tee -a "$sum"
fi

if has likelihood; then
    "$here/launch/local.sh" -n "$ranks" -t "$threads" likelihood experiment="$exp" "dataset.root=$data" dataset.split=test \
        "eval.checkpoint=$run/checkpoints" "eval.likelihood.n=${TF_LIKELIHOOD_N:-1000}" "trainer.out_dir=$out/likelihood" \
        ${TF_LIKELIHOOD_ARGS:-eval.solver.name=dopri5 solver.atol=1e-5 solver.rtol=1e-5 eval.solver.steps=1000} \
        >"$out/likelihood.log" 2>&1
    echo "likelihood: $(grep -i 'bits' "$out/likelihood.log" | tail -1)" | tee -a "$sum"
fi

echo "preset_eval: done; $sum"
