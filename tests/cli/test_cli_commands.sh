#!/usr/bin/env bash
# test_cli_commands.sh TINYFLOW SOURCE_DIR - drives the built binary: help and exit codes of
# every command, --cfg job / --resolve / -m, config errors (exit 2, key named), the
# not-yet-available commands (exit 1, never a silent success), `data info` on generated
# IDX fixtures and toy sets, and `data fetch` refusing bad inputs with the file named.
set -u
BIN=$1
SRC=$2
CFG="$SRC/configs"
TMP=$(mktemp -d /tmp/tf_test_cli_XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
unset TINYFLOW_DATA TINYFLOW_CONFIG_DIR OMPI_COMM_WORLD_SIZE PMI_SIZE PMIX_SIZE
pass=0
fail=0

# expect CODE 'pattern in stdout+stderr' ARGS...
expect() {
    local want=$1 pat=$2
    shift 2
    local out code
    out=$("$BIN" "$@" 2>&1)
    code=$?
    if [[ $code -ne $want ]]; then
        echo "FAIL: tinyflow $* -> exit $code, want $want"; echo "$out" | head -20; fail=$((fail + 1)); return
    fi
    if [[ -n $pat ]] && ! grep -qF -- "$pat" <<<"$out"; then
        echo "FAIL: tinyflow $* -> output lacks '$pat'"; echo "$out" | head -20; fail=$((fail + 1)); return
    fi
    pass=$((pass + 1))
}

# Top level.
expect 0 "data         fetch a dataset" --help
expect 2 "usage: tinyflow" ""
expect 2 "unknown command 'frob'" frob
expect 0 "tinyflow" info
for c in train sample fid classifier likelihood; do
    expect 0 "Examples:" "$c" --help
    expect 0 "--cfg job" "$c" -h
done
# fid, classifier and likelihood need inputs that a toy experiment does not give: clear errors.
expect 2 "eval.classifier.ckpt is not set" fid -cd "$CFG" experiment=moons
expect 2 "has no images" classifier -cd "$CFG" experiment=moons
expect 2 "likelihood: no model" likelihood -cd "$CFG" experiment=moons
# train and sample run under MPI (tests/mpi has the training tests); sample needs a checkpoint.
expect 2 "tinyflow sample needs a checkpoint" sample -cd "$CFG" experiment=moons
expect 0 "tinyflow data fetch mnist" data --help

# --cfg job, --resolve, sweeps.
expect 0 "  name: mlp" train -cd "$CFG" --cfg job experiment=moons
expect 0 '  in_ch: ${dataset.channels}' train -cd "$CFG" --cfg job experiment=moons
expect 0 "  in_ch: 2" train -cd "$CFG" --cfg job --resolve experiment=moons
out=$("$BIN" train -cd "$CFG" -m --cfg job experiment=moons optim.lr=1e-3,3e-4 2>&1)
if [[ $? -eq 0 && $(grep -c '^\[train\] job' <<<"$out") -eq 2 && $(grep -c '^  lr: 0.001$' <<<"$out") -eq 1 &&
      $(grep -c '^  lr: 0.0003$' <<<"$out") -eq 1 ]]; then pass=$((pass + 1)); else echo "FAIL: -m sweep"; echo "$out" | head; fail=$((fail + 1)); fi
expect 2 "ambiguous value" train -cd "$CFG" optim.lr=1e-3,3e-4
expect 2 "only --cfg job" train -cd "$CFG" --cfg hydra

# Config errors: exit 2, the key and the fix named; nothing runs.
expect 2 "optim.lr = -1: out of range, must be in (0, 10]" train -cd "$CFG" optim.lr=-1
expect 2 "dataset.batch_size = 0: out of range" sample -cd "$CFG" dataset.batch_size=0
expect 2 "did you mean 'optim.lr'?" train -cd "$CFG" optim.lrr=1
expect 2 "no option 'unett'; did you mean 'unet'?" fid -cd "$CFG" model=unett
expect 2 "missing mandatory value 'dataset.root'" train -cd "$CFG" 'dataset.root=???'
expect 2 "unknown option '--bogus'" train --bogus
# Every config-driven command starts MPI under a launcher; a launcher's environment that MPI
# cannot join (here a fake one: one process told it is one of 3) is refused, never run as rank 0.
for c in likelihood fid "classifier stats"; do
    # shellcheck disable=SC2086
    OMPI_COMM_WORLD_SIZE=3 expect 2 "OMPI_COMM_WORLD_SIZE=3 but MPI sees a world of 1 rank" $c -cd "$CFG"
done
# a launcher that asked for 3 tasks while MPI sees 1 (srun without PMIx): refused before training
OMPI_COMM_WORLD_SIZE=3 expect 2 "but MPI sees a world of 1 rank" train -cd "$CFG"
# Found without -cd when the binary sits in a build folder of the source tree.
if [[ -f "$(dirname "$BIN")/../configs/config.yaml" ]]; then
    expect 0 "name: unet" train --cfg job
fi
TINYFLOW_CONFIG_DIR="$CFG" expect 0 "name: moons" train --cfg job dataset=moons model=mlp

# data info: toy sets and generated IDX fixtures.
expect 0 "moons (train): 1000 examples of 2x1x1" data info moons --n 1000
expect 0 "8gaussians (test): 800 examples" data info 8gaussians --split test --n 800
mkdir -p root/mnist
{ printf '\x00\x00\x08\x03\x00\x00\x00\x03\x00\x00\x00\x1c\x00\x00\x00\x1c'; head -c 2352 /dev/zero; } > root/mnist/train-images-idx3-ubyte
printf '\x00\x00\x08\x01\x00\x00\x00\x03\x01\x07\x01' > root/mnist/train-labels-idx1-ubyte
expect 0 "mnist (train): 3 examples of 1x28x28" data info mnist --root root
out=$("$BIN" data info mnist --root root 2>&1)
if grep -qE '^ +1 1 +2 ' <<<"$out" && grep -qE '^ +7 7 +1 ' <<<"$out"; then pass=$((pass + 1)); else echo "FAIL: histogram"; echo "$out"; fail=$((fail + 1)); fi
TINYFLOW_DATA=root expect 0 "3 examples" data info mnist
printf '\x00\x00\x08\x01\x00\x00\x00\x03\x01\x0c\x01' > root/mnist/train-labels-idx1-ubyte
expect 2 "label 12 of example 1 is out of range 0..9" data info mnist --root root
expect 2 "root/mnist/train-labels-idx1-ubyte" data info mnist --root root
head -c 100 root/mnist/train-images-idx3-ubyte > cut && mv cut root/mnist/train-images-idx3-ubyte
expect 2 "wrong size: 100 bytes" data info mnist --root root
expect 2 "tinyflow data fetch fashion_mnist --root nowhere" data info fashion_mnist --root nowhere
expect 2 "unknown dataset 'mnsit'" data info mnsit
expect 2 "--split is train or test" data info mnist --split val
expect 2 "unknown subcommand 'frob'" data frob mnist

# data fetch / verify: refused inputs name the file; nothing half-written is left.
expect 0 "nothing to fetch" data fetch moons
expect 2 "pass --from" data fetch cifar10 --root root
mkdir -p fake && head -c 1000 /dev/zero > fake/data_batch_1.bin
expect 2 "fake/data_batch_1.bin': wrong size: 1000 bytes" data fetch cifar10 --root root --from fake
head -c 5000 /dev/urandom > fake.tar.gz
expect 2 "does not match the expected c32a1d4ab5d03f1284b67883e8d87530" data fetch cifar10 --root root --from fake.tar.gz
mkdir -p npm && cp root/mnist/train-labels-idx1-ubyte npm/ && printf 'x' > npm/train-images-idx3-ubyte
expect 2 "npm/train-images-idx3-ubyte': 1 bytes (decompressed), expected 47040016" data fetch mnist --root r2 --from npm
if [[ -z $(ls r2/mnist 2>/dev/null) ]]; then pass=$((pass + 1)); else echo "FAIL: fetch left files: $(ls r2/mnist)"; fail=$((fail + 1)); fi
expect 2 "'/nonexistent' is not a folder" data fetch fashion_mnist --root r2 --from /nonexistent --no-install
expect 1 "run \`tinyflow data fetch mnist --root root --force\`" data verify mnist --root root

echo "test_cli_commands: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
