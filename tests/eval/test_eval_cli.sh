#!/usr/bin/env bash
# test_eval_cli.sh TINYFLOW EVAL_FIXTURE SOURCE_DIR [PYTHON] (label slow) - the evaluation
# commands on generated files:
#   IDX (MNIST layout, synthetic strokes): classifier train -> test accuracy > 0.8 and a checkpoint;
#   classifier eval reproduces that accuracy; classifier stats caches the statistics (a second
#   run reads the cache) and writes an .npz that numpy reads with the right shapes; fid on a
#   .npy of held-out images is low, on the SAME images as a PNG folder prints the identical
#   FID (both are rounded to 8 bits), against the exported .npz as reference (eval.ref_npz) the
#   same FID again (KID is then unavailable), on a noisy .npy is higher; the class accuracy from the
#   labels file is reported; fid from a (random) UNet checkpoint with guidance runs, saves its
#   samples (a float32 [N,1,28,28] .npy) and reports the class metrics; likelihood on the IDX
#   test split (Hutchinson, UNet) and on moons (exact, MLP) prints finite bits/dim;
#   CIFAR-10 binary layout (full-size files): classifier train / fid on an RGB .npy run;
#   errors (no classifier, wrong image size, toy data for the classifier) exit 2 with the
#   problem named.
set -u
BIN=$1
FIX=$2
SRC=$3
PY=${4:-}
CFG="$SRC/configs"
. "$SRC/tests/eval/lib.sh"
tf_eval_scratch eval_cli

# run CODE LOGNAME ARGS...: run tinyflow, keep its output in LOGNAME, check the exit code.
run() {
    local want=$1 log=$2
    shift 2
    "$BIN" "$@" >"$log" 2>&1
    local code=$?
    if [[ $code -ne $want ]]; then bad "tinyflow $* -> exit $code, want $want"; tail -20 "$log"; return 1; fi
    ok
}
# value LOG REGEX: the first number after REGEX in LOG
value() { grep -oE "$2 [-+]?[0-9.]+(e[-+]?[0-9]+)?" "$1" | head -1 | awk '{print $NF}'; }
# lt A B: A < B as numbers
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }

"$FIX" idx data 3000 1000 || exit 1
"$FIX" npy held.npy 1000 1 28 7 0 || exit 1
"$FIX" npy noisy.npy 1000 1 28 7 0.3 || exit 1
"$FIX" png held_png 1000 1 28 7 || exit 1
"$FIX" unet unet_ckpt >/dev/null || exit 1
"$FIX" mlp mlp_ckpt >/dev/null || exit 1
COMMON=(-cd "$CFG" dataset=mnist dataset.root=data trainer.out_dir=run eval.classifier.ckpt=clf
        eval.classifier.width=8 eval.classifier.feat_dim=16 eval.classifier.groups=4)

# --- classifier ----------------------------------------------------------------------------
run 0 train.log classifier train "${COMMON[@]}" eval.classifier.steps=250 eval.classifier.batch_size=64 \
    eval.classifier.warmup_steps=20 eval.classifier.lr=3e-3 trainer.log_every=50
acc=$(value train.log "test accuracy")
if [[ -n $acc ]] && lt 0.8 "$acc" && ls clf/step_00000250.ckpt >/dev/null 2>&1; then ok; else bad "classifier train: accuracy '$acc' or no checkpoint"; cat train.log | tail; fi
grep -q "classifier/test_acc" run/metrics.jsonl && ok || bad "no metrics.jsonl line"
run 0 eval.log classifier eval "${COMMON[@]}"
acc2=$(value eval.log "test accuracy")
[[ "$acc2" == "$acc" ]] && grep -q "recorded at training: $acc" eval.log && ok || bad "classifier eval: '$acc2' vs '$acc'"
run 0 stats.log classifier stats "${COMMON[@]}" eval.npz=ref.npz
grep -q "cached in clf/stats_mnist_train_" stats.log && ok || bad "stats not cached"; 
run 0 stats2.log classifier stats "${COMMON[@]}"
grep -q "read from clf/stats_mnist_train_" stats2.log && ok || bad "stats cache not reused"
if [[ -n $PY ]] && "$PY" -c "import numpy" 2>/dev/null; then
    "$PY" -c "import numpy as np; d = np.load('ref.npz'); assert d['mu'].shape == (16,) and d['sigma'].shape == (16, 16); assert np.allclose(d['sigma'], d['sigma'].T) and np.all(np.linalg.eigvalsh(d['sigma']) > -1e-9)" && ok || bad "numpy cannot read ref.npz"
fi

# --- fid on files ----------------------------------------------------------------------------
run 0 fid_npy.log fid "${COMMON[@]}" eval.samples=held.npy eval.sample_labels=held.npy.labels.npy eval.kid_subset_size=500 eval.kid_subsets=20
run 0 fid_png.log fid "${COMMON[@]}" eval.samples=held_png eval.kid_subset_size=500 eval.kid_subsets=20
run 0 fid_noisy.log fid "${COMMON[@]}" eval.samples=noisy.npy eval.kid_subset_size=500 eval.kid_subsets=20
f1=$(value fid_npy.log "^FID"); f2=$(value fid_png.log "^FID"); f3=$(value fid_noisy.log "^FID")
k1=$(value fid_npy.log "KID"); k3=$(value fid_noisy.log "KID")
echo "FID held-out .npy $f1, same images as PNGs $f2, noisy $f3; KID $k1 / $k3"
[[ -n $f1 && "$f1" == "$f2" ]] && ok || bad "npy and PNG folder of the same images differ: '$f1' vs '$f2'"
[[ -n $f3 ]] && lt "$f1" "$f3" && lt "$k1" "$k3" && ok || bad "noise did not raise FID/KID"
run 0 fid_refnpz.log fid "${COMMON[@]}" eval.samples=held.npy eval.ref_npz=ref.npz
f4=$(value fid_refnpz.log "^FID")
[[ -n $f4 && "$f4" == "$f1" ]] && grep -q "KID nan" fid_refnpz.log && ok || bad "eval.ref_npz=ref.npz gives '$f4', the dataset reference '$f1'"
ca=$(value fid_npy.log "class accuracy")
[[ -n $ca ]] && lt 0.8 "$ca" && ok || bad "class accuracy '$ca' from the labels file"
grep -q "class accuracy (no labels)" fid_png.log && ok || bad "PNG run without labels should say so"

# --- fid from a flow-model checkpoint -----------------------------------------------------------
run 0 fid_model.log fid "${COMMON[@]}" eval.checkpoint=unet_ckpt eval.fid_samples=60 eval.batch_size=30 \
    solver=heun solver.steps=3 solver.guidance=1.5 eval.save_samples=gen.npy eval.kid_subset_size=50 eval.kid_subsets=5 \
    eval.samples_npz=gen.npz
grep -qE "^FID [0-9.]+ +KID" fid_model.log && grep -q "60 samples" fid_model.log && grep -q "ema weights" fid_model.log && ok || bad "fid from a checkpoint"
grep -qE "class accuracy [0-9.]+" fid_model.log && ok || bad "conditional model: no class accuracy"
if [[ -n $PY ]] && "$PY" -c "import numpy" 2>/dev/null; then
    "$PY" -c "import numpy as np; x = np.load('gen.npy'); assert x.shape == (60, 1, 28, 28) and x.dtype == np.float32 and np.isfinite(x).all(); s = np.load('gen.npz'); assert s['sigma'].shape == (16, 16)" && ok || bad "saved samples"
fi

# --- likelihood ------------------------------------------------------------------------------
run 0 ll.log likelihood "${COMMON[@]}" dataset.split=test eval.checkpoint=unet_ckpt eval.likelihood.n=6 \
    eval.batch_size=3 solver=euler solver.steps=4 eval.use_ema=false
b=$(value ll.log "bits/dim")
[[ -n $b ]] && lt 0 "$b" && lt "$b" 100 && ok || bad "likelihood on IDX: '$b'"
run 0 ll2.log likelihood -cd "$CFG" experiment=moons trainer.out_dir=run2 dataset.split=test eval.checkpoint=mlp_ckpt \
    eval.likelihood.n=64 eval.likelihood.exact=true solver=rk4 solver.steps=8
b2=$(value ll2.log "bits/dim")
[[ -n $b2 ]] && grep -q "exact" ll2.log && grep -q "continuous data" ll2.log && ok || bad "likelihood on moons: '$b2'"
# a run folder (trainer.out_dir) names its checkpoints/ subfolder, as trainer.resume reads it
mkdir -p mlp_run && cp -r mlp_ckpt mlp_run/checkpoints
run 0 ll3.log likelihood -cd "$CFG" experiment=moons trainer.out_dir=run3 dataset.split=test eval.checkpoint=mlp_run \
    eval.likelihood.n=64 eval.likelihood.exact=true solver=rk4 solver.steps=8
b3=$(value ll3.log "bits/dim")
[[ -n $b3 && "$b3" == "$b2" ]] && ok || bad "eval.checkpoint=RUN_FOLDER gives '$b3', its checkpoints/ folder '$b2'"

# --- errors ----------------------------------------------------------------------------------
run 2 e1.log fid -cd "$CFG" dataset=mnist dataset.root=data trainer.out_dir=e1 eval.samples=held.npy
grep -q "eval.classifier.ckpt is not set" e1.log && ok || bad "fid without a classifier"
"$FIX" npy small.npy 10 1 16 3 0 || exit 1
run 2 e2.log fid "${COMMON[@]}" trainer.out_dir=e2 eval.samples=small.npy
grep -q "small.npy: images are 1x16x16, the classifier takes 1x28x28" e2.log && ok || bad "wrong image size"
run 2 e3.log classifier train -cd "$CFG" experiment=moons trainer.out_dir=e3
grep -q "has no images" e3.log && ok || bad "classifier on toy data"

# --- CIFAR-10 binary layout ------------------------------------------------------------------
"$FIX" cifar data || exit 1
"$FIX" npy rgb.npy 300 3 32 9 0 || exit 1
CC=(-cd "$CFG" dataset=cifar10 dataset.root=data eval.classifier.ckpt=clf_c eval.classifier.width=8
    eval.classifier.feat_dim=16 eval.classifier.groups=4)
run 0 ctrain.log classifier train "${CC[@]}" trainer.out_dir=run3 eval.classifier.steps=60 eval.classifier.batch_size=32 \
    eval.classifier.warmup_steps=10 eval.classifier.lr=3e-3
ca=$(value ctrain.log "test accuracy")
[[ -n $ca ]] && grep -q "on 10000 cifar10 test images" ctrain.log && grep -q "flips on" ctrain.log && grep -q "shift 4 px" ctrain.log && ok || bad "cifar classifier train"
run 0 cfid.log fid "${CC[@]}" trainer.out_dir=run4 eval.ref_split=test eval.samples=rgb.npy eval.kid_subset_size=100 eval.kid_subsets=5
grep -qE "^FID [0-9.]+" cfid.log && grep -q "reference cifar10/test: 10000 images" cfid.log && ok || bad "cifar fid"

echo "test_eval_cli: $pass passed, $fail failed (classifier accuracy $acc, cifar $ca)"
[[ $fail -eq 0 ]]
