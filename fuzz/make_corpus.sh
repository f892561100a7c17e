#!/usr/bin/env bash
# make_corpus.sh - (re)write the seed corpus fuzz/corpus/<target>/ from real files: the
# make_corpus tool (fuzz/make_corpus.c: checkpoints, IDX, CIFAR, PNG, npy/npz, stats, composed
# configs) plus the YAML files of configs/, typical override lines and MLflow meta.yaml files
# written here. Usage: fuzz/make_corpus.sh [BUILD_DIR]  (default build-fuzz; any build dir
# with TINYFLOW_FUZZ=ON, or one that built tests/fuzz_regressions, has the tool).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${TF_FUZZ_BUILD:-$root/build-fuzz}}
tool=
for cand in "$build/fuzz/fuzz_make_corpus" "$build/tests/fuzz_regressions/fuzz_make_corpus"; do
  [[ -x $cand ]] && { tool=$cand; break; }
done
[[ -n $tool ]] || { echo "make_corpus.sh: no fuzz_make_corpus under $build (run fuzz/build.sh)" >&2; exit 2; }
out=$root/fuzz/corpus
# Generated seeds are rewritten; files added by hand (none yet) would be kept.
ASAN_OPTIONS=detect_leaks=0 "$tool" "$out" "$root/configs"

# YAML: every config file (primary, groups, experiments) for the YAML loader; the primary and
# the experiment files as primaries for composition.
mkdir -p "$out/yaml" "$out/config" "$out/override" "$out/yaml_min"
find "$root/configs" -name '*.yaml' | sort | while read -r f; do
  rel=${f#"$root/configs/"}
  cp "$f" "$out/yaml/cfg-${rel//\//-}"
done
cp "$root/configs/config.yaml" "$out/config/config.yaml"
for f in "$root"/configs/experiment/*.yaml; do cp "$f" "$out/config/experiment-$(basename "$f")"; done
printf '%s\n' 'a: 1' 'b: [1, 2.5, "x", null, ~, yes, 0x1f, .inf]' 'c: {d: ${a}, e: "${oc.env:HOME,/tmp}"}' \
  "s: 'it''s'" 'm: ???' 'n: "\t\u00e9"' > "$out/yaml/handmade-types.yaml"
printf '%s\n' 'defaults:' '  - model: mlp' '  - dataset: moons' '  - _self_' 'trainer:' '  steps: 5' \
  'x: ${trainer.steps}' > "$out/config/small-defaults.yaml"

# Overrides: one per line, as typed after `tinyflow train`.
i=0; o() { i=$((i + 1)); printf '%s\n' "$@" > "$out/override/ov-$i.txt"; }
o 'model=mlp' 'dataset=moons' 'trainer.steps=10'
o 'experiment=mnist' 'optim.lr=3e-4' 'dataset.batch_size=64'
o '+extra=[1,2,{a: b, c: [x, "y z"]}]' '++model.base_ch=32' '~eval'
o 'optim.betas=[0.9,0.999]' 'trainer.out_dir=runs/${now:%Y-%m-%d}/x' 'path.sigma_min=1e-4'
o 'model.ch_mult=[1,2,2,2]' 'model.attn_res=[16]' 'model.heads=4' 'model.groups=8'
o 'optim.lr=choice(1e-3,3e-4)' 'model.base_ch=range(16,64,16)' 'solver=euler,heun'
o "trainer.out_dir='a b'" 'eval.n_samples=null' 'dataset.root=${oc.env:TINYFLOW_DATA,data}' '~dataset.hflip=true'
o 'lr_schedule=warmup_cosine' 'lr_schedule.warmup_steps=10' 'trainer.steps=100' 'model.dropout=0.1'

# MLflow meta.yaml as MLflow (PyYAML) writes them.
printf '%s\n' 'artifact_location: file:///tmp/mlruns/123456789012345678' 'creation_time: 1700000000000' \
  "experiment_id: '123456789012345678'" 'last_update_time: 1700000000000' 'lifecycle_stage: active' \
  'name: Default' > "$out/yaml_min/experiment-meta.yaml"
printf '%s\n' 'artifact_uri: file:///tmp/mlruns/1/abc/artifacts' 'end_time: null' "entry_point_name: ''" \
  "experiment_id: '1'" 'lifecycle_stage: deleted' 'run_id: 0123456789abcdef0123456789abcdef' \
  "run_name: 'it''s: a run'" 'status: 3' 'name: "quoted \"name\" with\n escapes"' \
  'folded: this value' '  continues here' > "$out/yaml_min/run-meta.yaml"

echo "make_corpus.sh: seeds in $out:"
for d in "$out"/*/; do
  printf '  %-18s %3d files %7d bytes\n' "$(basename "$d")" "$(ls "$d" | wc -l)" "$(cat "$d"/* | wc -c)"
done
